import type {
  Asset,
  Clock,
  ConnectorContext,
  ConnectorEvent,
} from '../../agent/plugin-api/index.ts';
import type { CyralClient, ReadRequest } from './client.ts';
import type { CyralConfig, CyralParams } from './config.ts';
import type { KnownTargets } from './map-governance.ts';
import type { SkipTally } from './skipped.ts';

/** The context the Cyral operations receive. */
export type CyralContext = ConnectorContext<CyralConfig, CyralParams>;

/** What every stage of an extract shares. */
export interface RunScope extends KnownTargets {
  readonly client: CyralClient;
  readonly ctx: CyralContext;
  readonly tenant: string;
  readonly skipped: SkipTally;
  /** The extract's clock (tests inject one); per-object timeouts run on it. */
  readonly clock: Clock | undefined;
  /** Sidecars extracted in this run (access gateways link only to these). */
  readonly sidecarIds: ReadonlySet<string>;
}

/** Events made together and handed out one by one (`flattenChunks`): a step of the run's stream. */
export type EventChunk = readonly ConnectorEvent[];

/** How many data-map assets travel together: per-asset async steps cost more than the asset. */
export const CHUNK_ASSETS = 256;

/** An asset event. */
export function asset(value: Asset): ConnectorEvent {
  return { type: 'asset', asset: value };
}

/**
 * A per-object read whose NotFound is skipped: counted under `kind` and logged with `ids`, and
 * undefined is returned so the caller carries on without it.
 */
export async function readOrSkip<T>(
  scope: RunScope,
  kind: string,
  request: ReadRequest<T>,
  ids: Readonly<Record<string, string>>,
): Promise<T | undefined> {
  const value = await scope.client.readOptional(request);
  if (value === undefined) {
    scope.skipped.skip(kind, 'notFound', { endpoint: request.endpoint, ...ids });
  }
  return value;
}
