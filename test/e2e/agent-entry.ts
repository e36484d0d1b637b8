// The real agent with the test-only fixture connector added: what e2e tests start as a child
// process (`node test/e2e/agent-entry.ts start --config FILE`).
import { connectors } from '../../connectors/index.ts';
import { main } from '../../agent/main.ts';
import { secretStores } from '../../secrets/index.ts';
import { fixtureConnector } from '../fakes/fixture/connector.ts';

await main({ connectors: [...connectors, fixtureConnector], stores: secretStores });
