// The real agent entry point with the test-only fixture connector registered as well, for
// end-to-end tests and benches that run the agent as a child process.
import { connectors } from '../../connectors/index.ts';
import { main } from '../../agent/main.ts';
import { secretStores } from '../../secrets/index.ts';
import { fixtureConnector } from '../fakes/fixture/connector.ts';

await main({ connectors: [...connectors, fixtureConnector], stores: secretStores });
