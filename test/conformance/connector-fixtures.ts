import {
  anaplanBasicConnectorFixture,
  anaplanCertificateConnectorFixture,
} from '../fakes/anaplan/fixture.ts';
import { cyeraConnectorFixture } from '../fakes/cyera/fixture.ts';
import { cyralConnectorFixture } from '../fakes/cyral/fixture.ts';
import type { ConnectorFixture } from './connector-fixture.ts';

/** Every connector's conformance fixture; the suite runs each one. */
export const connectorFixtures: readonly ConnectorFixture[] = [
  cyeraConnectorFixture,
  cyralConnectorFixture,
  anaplanBasicConnectorFixture,
  anaplanCertificateConnectorFixture,
];
