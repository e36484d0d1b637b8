// The shipped connectors and the test-only ones, as one module: the fixture agent's registry,
// which its run threads load by this module's URL.
import { connectors as shipped } from '../../connectors/index.ts';
import type { Connector } from '../../agent/plugin-api/index.ts';
import { fixtureConnector } from '../fakes/fixture/connector.ts';
import { hogConnector } from '../fakes/fixture/hog-connector.ts';

export const connectors: readonly Connector[] = [...shipped, fixtureConnector, hogConnector];
