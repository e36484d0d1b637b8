// Each stage of a Cyera run alone, on the simulator's table lines in memory: CPU µs per column
// (process CPU, all threads), for finding what to cut. Not part of `npm run bench`:
//
//   node bench/stages.ts [columns]
import { gzipSync } from 'node:zlib';
import { encodeAssetLine } from '../agent/sink/ndjson.ts';
import { columnToAsset, tableToAsset } from '../connectors/cyera/map.ts';
import { parseTable } from '../connectors/cyera/stream.ts';
import type { TableLine } from '../connectors/cyera/records.ts';
import { SimulatedTenant } from '../test/fakes/cyera/tenant.ts';
import { COLUMNS_PER_TABLE } from './sizes.ts';

const columns = Number(process.argv[2] ?? 200_000);
const tenant = new SimulatedTenant(7, { columnsPerTable: COLUMNS_PER_TABLE });
const lines = Array.from({ length: columns / COLUMNS_PER_TABLE }, (_, t) =>
  JSON.stringify(tenant.table(0, t)),
);

function timed<T>(name: string, work: () => T): T {
  const before = process.cpuUsage();
  const result = work();
  const used = process.cpuUsage(before);
  process.stdout.write(
    `${name.padEnd(34)} ${((used.user + used.system) / columns).toFixed(2)} µs/column\n`,
  );
  return result;
}

for (let round = 0; round < 2; round += 1) {
  process.stdout.write(`round ${round + 1}\n`);
  timed('JSON.parse', () => lines.map((line) => JSON.parse(line) as unknown));
  const tables = timed('parseTable (parse + check)', () =>
    lines.map((line, index) => parseTable(line, index + 1, 'ds')),
  );
  const path = { tenant: 't', datastoreUid: 'ds', databaseName: 'DB', schemaName: 'S' };
  const assets = timed('mapping', () =>
    tables.flatMap((table: TableLine) => {
      const parent = tableToAsset(path, table);
      const out = [parent];
      let position = 0;
      for (const column of table.columns ?? []) {
        position += 1;
        out.push(
          columnToAsset(
            { qualifiedName: parent.qualifiedName, datastoreUid: 'ds' },
            column,
            position,
          ),
        );
      }
      return out;
    }),
  );
  const text = timed('encodeAssetLine', () =>
    assets.map((asset) => encodeAssetLine(asset, 4 << 20).json),
  );
  timed('JSON.stringify alone', () => assets.map((asset) => JSON.stringify(asset)));
  const chunks = timed('join + Buffer.from per 64 KiB', () => {
    const out: Buffer[] = [];
    let pending = '';
    for (const line of text) {
      pending += line;
      if (pending.length >= 65536) {
        out.push(Buffer.from(pending));
        pending = '';
      }
    }
    return out;
  });
  timed('gzip level 1 (sync)', () => chunks.map((chunk) => gzipSync(chunk, { level: 1 })));
}
