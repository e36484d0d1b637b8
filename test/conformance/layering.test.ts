import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { checkLayering, readSourceTree } from './layering.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('the layering of the source tree', () => {
  it('holds for every non-test file under agent/, connectors/ and secrets/', () => {
    const files = readSourceTree(REPO_ROOT);
    expect(files.has('agent/run/executor.ts')).toBe(true);
    expect(files.has('connectors/index.ts')).toBe(true);
    expect(checkLayering(files)).toEqual([]);
  });

  it('reports a lower folder importing a higher one, naming both ranks', () => {
    const files = new Map([
      ['agent/run/prepare.ts', "import type { AgentConfig } from '../config/schema.ts';\n"],
      ['agent/config/schema.ts', 'export type AgentConfig = object;\n'],
    ]);
    expect(checkLayering(files)).toEqual([
      'agent/run/prepare.ts imports agent/config/schema.ts: agent/run (rank 5) may not import agent/config (rank 8, above it)',
    ]);
  });

  it('reports peers of one rank importing each other, through a dynamic import too', () => {
    const files = new Map([
      ['agent/link/link.ts', "const queue = await import('../queue/queue.ts');\n"],
      ['agent/queue/queue.ts', 'export const queue = 1;\n'],
    ]);
    expect(checkLayering(files)).toEqual([
      'agent/link/link.ts imports agent/queue/queue.ts: agent/link and agent/queue share rank 6 and may not import each other',
    ]);
  });

  it('reports a connector importing agent internals beyond the plugin API', () => {
    const files = new Map([
      [
        'connectors/cyera/client.ts',
        "import { PerimeterError } from '../../agent/plugin-api/index.ts';\nimport { createHttpClient } from '../../agent/http/client.ts';\n",
      ],
    ]);
    expect(checkLayering(files)).toEqual([
      'connectors/cyera/client.ts imports agent/http/client.ts: connectors/ imports only its own files and agent/plugin-api',
    ]);
  });

  it('reports a two-file cycle inside one folder, type-only imports included', () => {
    const files = new Map([
      ['agent/cli/cli.ts', "import { runCommand } from './run.ts';\n"],
      ['agent/cli/run.ts', "import type { CliArgs } from './cli.ts';\nexport * from './io.ts';\n"],
      ['agent/cli/io.ts', 'export const io = 1;\n'],
    ]);
    expect(checkLayering(files)).toEqual([
      'import cycle: agent/cli/cli.ts -> agent/cli/run.ts -> agent/cli/cli.ts',
    ]);
  });

  it("fails ESLint's import cycle rule, under the project's config, on a cyclic pair", async () => {
    const dir = await mkdtemp(path.join(REPO_ROOT, 'test/conformance/cycle-'));
    try {
      await writeFile(
        path.join(dir, 'a.ts'),
        "import { b } from './b.ts';\nexport const a = b + 1;\n",
      );
      await writeFile(
        path.join(dir, 'b.ts'),
        "import { a } from './a.ts';\nexport const b = a + 1;\n",
      );
      const eslint = new ESLint({
        cwd: REPO_ROOT,
        // Only the cycle rule runs, so the type-aware parse of the whole project is not needed.
        ruleFilter: ({ ruleId }) => ruleId === 'import-x/no-cycle',
        overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
      });
      const results = await eslint.lintFiles([path.join(dir, 'a.ts'), path.join(dir, 'b.ts')]);
      const found = results.map((result) => ({
        file: path.basename(result.filePath),
        rules: result.messages.map((message) => message.ruleId),
      }));
      expect(found).toEqual([
        { file: 'a.ts', rules: ['import-x/no-cycle'] },
        { file: 'b.ts', rules: ['import-x/no-cycle'] },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
