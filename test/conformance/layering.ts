// The layering of the source tree, checked from the files themselves (not used at runtime).
// Imports are read with TypeScript's own pre-processor, so static imports, re-exports, type-only
// imports and dynamic `import()` are all seen the way the compiler sees them.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The ranks of `agent/`, bottom to top. A folder (or top-level file) may import only units of a
 * lower rank, plus its own files; units sharing a rank are peers and never import each other.
 * `agent/version.ts` reads only package.json, so every layer may print the version.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['agent/plugin-api', 'agent/version.ts'],
  ['agent/logging', 'agent/metrics', 'agent/ledger'],
  ['agent/http'],
  ['agent/secrets', 'agent/sink'],
  ['agent/run'],
  ['agent/queue', 'agent/link'],
  ['agent/health'],
  ['agent/config'],
  ['agent/daemon'],
  ['agent/cli'],
  ['agent/main.ts'],
];

/** Plugin trees: they import their own files and `agent/plugin-api` only. */
export const PLUGIN_ROOTS: readonly string[] = ['connectors', 'secrets'];

/** The folders whose non-test `.ts` files are checked. */
export const CHECKED_ROOTS: readonly string[] = ['agent', ...PLUGIN_ROOTS];

const PLUGIN_API = 'agent/plugin-api';

/** Every non-test `.ts` file under the checked roots: repository-relative path → source. */
export function readSourceTree(repoRoot: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const root of CHECKED_ROOTS) {
    const entries = readdirSync(path.join(repoRoot, root), { recursive: true, encoding: 'utf8' });
    for (const entry of entries) {
      const file = path.posix.join(root, entry.split(path.sep).join('/'));
      if (file.endsWith('.ts') && !file.endsWith('.test.ts')) {
        files.set(file, readFileSync(path.join(repoRoot, file), 'utf8'));
      }
    }
  }
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}

/** The repository-relative files one source imports through relative specifiers. */
export function relativeImports(file: string, source: string): string[] {
  const { importedFiles } = ts.preProcessFile(source, true, true);
  return importedFiles
    .map((imported) => imported.fileName)
    .filter((specifier) => specifier.startsWith('./') || specifier.startsWith('../'))
    .map((specifier) => path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)));
}

/**
 * Every layering problem of a file map (path → source), one sentence each, sorted: imports
 * against the rank table, plugin trees importing beyond `agent/plugin-api`, and import cycles.
 */
export function checkLayering(files: ReadonlyMap<string, string>): string[] {
  const graph = new Map<string, string[]>();
  const problems: string[] = [];
  for (const [file, source] of files) {
    const targets = [...new Set(relativeImports(file, source))];
    graph.set(
      file,
      targets.filter((target) => files.has(target)),
    );
    for (const target of targets) {
      const problem = importProblem(file, target);
      if (problem !== undefined) {
        problems.push(`${file} imports ${target}: ${problem}`);
      }
    }
  }
  for (const cycle of importCycles(graph)) {
    problems.push(`import cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
  }
  return problems.sort();
}

function importProblem(file: string, target: string): string | undefined {
  const pluginRoot = PLUGIN_ROOTS.find((root) => isUnder(file, root));
  if (pluginRoot !== undefined) {
    return isUnder(target, pluginRoot) || isUnder(target, PLUGIN_API)
      ? undefined
      : `${pluginRoot}/ imports only its own files and ${PLUGIN_API}`;
  }
  const from = unitOf(file);
  const to = unitOf(target);
  if (from === undefined) {
    return isUnder(file, 'agent') ? `${file} is in no rank of LAYERS` : undefined;
  }
  if (to === undefined || to.name === from.name) {
    return undefined;
  }
  if (to.rank > from.rank) {
    return `${from.name} (rank ${from.rank}) may not import ${to.name} (rank ${to.rank}, above it)`;
  }
  if (to.rank === from.rank) {
    return `${from.name} and ${to.name} share rank ${from.rank} and may not import each other`;
  }
  return undefined;
}

function unitOf(file: string): { readonly name: string; readonly rank: number } | undefined {
  for (const [index, units] of LAYERS.entries()) {
    const name = units.find((unit) => file === unit || isUnder(file, unit));
    if (name !== undefined) {
      return { name, rank: index + 1 };
    }
  }
  return undefined;
}

function isUnder(file: string, folder: string): boolean {
  return file.startsWith(`${folder}/`);
}

/**
 * The cycles of a file graph: each strongly connected component with more than one file (or a
 * file importing itself), as one path through it starting at its first file in sort order.
 */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  for (const component of stronglyConnected(graph)) {
    const first = component[0];
    if (first === undefined) {
      continue;
    }
    if (component.length > 1 || (graph.get(first) ?? []).includes(first)) {
      cycles.push(cyclePath(first, new Set(component), graph));
    }
  }
  return cycles;
}

/** Tarjan's algorithm, iterative; components come out with their files sorted. */
function stronglyConnected(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  for (const root of [...graph.keys()].sort()) {
    if (index.has(root)) {
      continue;
    }
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, index.size);
    low.set(root, index.get(root) ?? 0);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (frame === undefined) {
        break;
      }
      const edges = graph.get(frame.node) ?? [];
      const target = edges[frame.next];
      frame.next += 1;
      if (target !== undefined) {
        if (!index.has(target)) {
          index.set(target, index.size);
          low.set(target, index.get(target) ?? 0);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node) ?? 0, index.get(target) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) {
        low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(frame.node) ?? 0));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop();
          if (member !== undefined) {
            onStack.delete(member);
            component.push(member);
          }
        } while (member !== undefined && member !== frame.node);
        components.push(component.sort());
      }
    }
  }
  return components;
}

/** A shortest path from `start` back to itself inside one component (breadth first). */
function cyclePath(
  start: string,
  component: ReadonlySet<string>,
  graph: ReadonlyMap<string, readonly string[]>,
): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  // The queue grows while it is walked: for-of visits the appended files too.
  for (const node of queue) {
    for (const target of graph.get(node) ?? []) {
      if (target === start) {
        const path = [node];
        for (let step = previous.get(node); step !== undefined; step = previous.get(step)) {
          path.unshift(step);
        }
        return path;
      }
      if (component.has(target) && !previous.has(target) && target !== start) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start];
}
