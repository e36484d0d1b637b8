/**
 * A systemd unit file as sections of keys, each with its values in order (a key may repeat,
 * and an empty assignment resets a list, as in `ExecStart=`). Comments (`#`, `;`) are dropped
 * and a trailing backslash continues a line, as systemd.syntax(7) reads them.
 */
export function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const line of joinContinuations(text)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) {
      continue;
    }
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const equals = trimmed.indexOf('=');
    if (current === undefined || equals < 1) {
      throw new Error(`not a unit file line: ${trimmed}`);
    }
    const key = trimmed.slice(0, equals).trim();
    current.set(key, [...(current.get(key) ?? []), trimmed.slice(equals + 1).trim()]);
  }
  return sections;
}

function joinContinuations(text: string): string[] {
  const lines: string[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push(pending + line);
    pending = '';
  }
  return lines;
}
