// The stable contract for connectors and secret stores: the only part of agent/ they import.
export * from './abort.ts';
export * from './asset.ts';
export * from './asset-check.ts';
export * from './chunks.ts';
export * from './connector.ts';
export * from './errors.ts';
export * from './http.ts';
export * from './json.ts';
export * from './logger.ts';
export * from './network.ts';
export * from './secrets.ts';
export * from './store-client.ts';
export * from './store-errors.ts';
export * from './store-profile.ts';
export * from './timing.ts';
export * from './token-session.ts';
export * from './url.ts';
