/**
 * The keys a JSON log line repeats at its top level (JSON.parse would keep only the last one, so
 * this reads the text): `{"component":"runtime",…,"component":"connector"}` gives `['component']`.
 */
export function repeatedTopLevelKeys(line: string): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  let depth = 0;
  let index = 0;
  while (index < line.length) {
    const char = line[index];
    if (char === '"') {
      const end = endOfString(line, index);
      const afterString = line.slice(end + 1).trimStart();
      if (depth === 1 && afterString.startsWith(':')) {
        const key = JSON.parse(line.slice(index, end + 1)) as string;
        (seen.has(key) ? repeated : seen).add(key);
      }
      index = end + 1;
      continue;
    }
    if (char === '{' || char === '[') {
      depth += 1;
    } else if (char === '}' || char === ']') {
      depth -= 1;
    }
    index += 1;
  }
  return [...repeated];
}

/** The index of the quote closing the string that opens at `start`. */
function endOfString(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length && text[index] !== '"') {
    index += text[index] === '\\' ? 2 : 1;
  }
  return index;
}
