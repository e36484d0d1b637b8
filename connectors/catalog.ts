/**
 * Each registered connector's name and version, without importing it: what `perimeter --help`
 * prints, so that it answers without reading any connector, schema or client module. A
 * conformance test keeps this list equal to the registry of `connectors/index.ts`.
 */
export const connectorCatalog: readonly { readonly name: string; readonly version: string }[] = [
  { name: 'anaplan', version: '0.1.0' },
  { name: 'cyera', version: '0.1.0' },
  { name: 'cyral', version: '0.1.0' },
];
