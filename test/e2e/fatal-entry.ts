// The agent of test/helpers/fixture-agent.ts plus a bug: an unhandled rejection FATAL_AFTER_MS after start,
// to check that main.ts logs it `fatal`, drains and exits 1.
import { connectors } from '../../connectors/index.ts';
import { main } from '../../agent/main.ts';
import { secretStores } from '../../secrets/index.ts';
import { fixtureConnector } from '../fakes/fixture/connector.ts';

setTimeout(
  () => {
    void Promise.reject(new TypeError('injected bug: cannot read properties of undefined'));
  },
  Number(process.env['FATAL_AFTER_MS'] ?? 3_000),
);

await main({ connectors: [...connectors, fixtureConnector], stores: secretStores });
