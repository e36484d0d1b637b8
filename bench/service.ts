// A bench service in a process of its own, so its CPU counts for neither the agent nor the bare
// client: the Cyera or Anaplan simulator, or the catalog receiver.
//
//   node bench/service.ts cyera '{"columns":1000000}' | cyral '{"columns":1000000}'
//                         | anaplan '{"lineItems":200000}' | catalog
//
// Prints one JSON line describing the service once it listens, then answers stdin commands, one
// per line: `stats` prints a JSON line of counts; `close` (or stdin ending) closes it and exits.
import { createInterface } from 'node:readline';
import { startAnaplanSimulator } from '../test/fakes/anaplan/simulator.ts';
import { startCatalogReceiver } from '../test/fakes/catalog-receiver.ts';
import { startCyeraSimulator } from '../test/fakes/cyera/simulator.ts';
import { startCyralSimulator } from '../test/fakes/cyral/simulator.ts';
import { cyeraSize, cyralSize } from './sizes.ts';

interface Service {
  readonly info: Record<string, unknown>;
  stats(): Record<string, unknown>;
  close(): Promise<void>;
}

async function start(kind: string, options: Record<string, number>): Promise<Service> {
  switch (kind) {
    case 'cyera': {
      const simulator = await startCyeraSimulator({
        seed: 7,
        size: cyeraSize(options['columns'] ?? 0),
      });
      return {
        info: { url: simulator.url, clientId: simulator.clientId, secret: simulator.secret },
        stats: () => ({ bytesStreamed: simulator.stats().bytesStreamed }),
        close: () => simulator.close(),
      };
    }
    case 'cyral': {
      const simulator = await startCyralSimulator({
        size: cyralSize(options['columns'] ?? 0),
        tokens: { issueRefreshTokens: true },
      });
      return {
        info: {
          url: simulator.url,
          clientId: simulator.clientId,
          clientSecret: simulator.clientSecret,
        },
        stats: () => ({}),
        close: () => simulator.close(),
      };
    }
    case 'anaplan': {
      const simulator = await startAnaplanSimulator({
        size: {
          workspaces: 1,
          modelsPerWorkspace: 1,
          listsPerModel: 50,
          modulesPerModel: 100,
          lineItemsPerModule: Math.round((options['lineItems'] ?? 0) / 100),
        },
      });
      return {
        info: {
          authUrl: simulator.authUrl,
          apiUrl: simulator.apiUrl,
          hosts: simulator.hosts,
          user: simulator.user,
          password: simulator.password,
        },
        stats: () => ({}),
        close: () => simulator.close(),
      };
    }
    case 'catalog': {
      const receiver = await startCatalogReceiver();
      return {
        info: { url: receiver.url },
        stats: () => {
          let assets = 0;
          let repeated = 0;
          for (const count of receiver.assetCounts().values()) {
            assets += 1;
            repeated += count > 1 ? 1 : 0;
          }
          return { assets, repeated, conflicts: receiver.conflicts.length };
        },
        close: () => receiver.close(),
      };
    }
    default:
      throw new Error(`unknown service ${kind}`);
  }
}

const [kind = '', options = '{}'] = process.argv.slice(2);
const service = await start(kind, JSON.parse(options) as Record<string, number>);
process.stdout.write(`${JSON.stringify(service.info)}\n`);
let closing = false;
const close = async (): Promise<void> => {
  if (!closing) {
    closing = true;
    await service.close();
    process.exit(0);
  }
};
const commands = createInterface({ input: process.stdin });
commands.on('line', (command) => {
  if (command === 'stats') {
    process.stdout.write(`${JSON.stringify(service.stats())}\n`);
  } else if (command === 'close') {
    void close();
  }
});
commands.on('close', () => void close());
