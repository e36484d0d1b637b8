// The stable contract for connectors and secret stores: the only part of agent/ they import.
export * from './asset.ts';
export * from './connector.ts';
export * from './errors.ts';
export * from './http.ts';
export * from './json.ts';
export * from './logger.ts';
export * from './secrets.ts';
