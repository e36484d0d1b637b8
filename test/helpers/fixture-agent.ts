// The real agent entry point with the test-only connectors (fixture, hog) registered as well,
// for end-to-end tests and benches that run the agent as a child process.
import { main } from '../../agent/main.ts';
import { secretStores } from '../../secrets/index.ts';
import { connectors } from './fixture-connectors.ts';

const connectorsModule = new URL('./fixture-connectors.ts', import.meta.url).href;
await main({ connectors, stores: secretStores, connectorsModule });
