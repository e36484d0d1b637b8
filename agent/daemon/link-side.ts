import type { Logger as PinoLogger } from 'pino';
import { createLink } from '../link/link.ts';
import { createRedisInstructionLedger } from '../link/ledger.ts';
import { controlPlaneDestinationPolicy, readClientCert } from '../link/settings.ts';
import type { ControlPlaneSettings } from '../link/settings.ts';
import type { HeartbeatBody, Link } from '../link/types.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { resolveWithin } from '../secrets/resolver.ts';
import type { QueueSide } from './setup.ts';
import type { Runtime } from './assemble.ts';

const TOKEN_TIMEOUT_MS = 30_000;

/** What the daemon's link needs. */
export interface LinkSideOptions {
  readonly settings: ControlPlaneSettings;
  readonly agentId: string;
  readonly runtime: Pick<Runtime, 'httpClient' | 'resolver' | 'prepare' | 'ledger'>;
  readonly side: QueueSide;
  readonly heartbeat: () => Promise<HeartbeatBody>;
  readonly logger: PinoLogger;
  readonly metrics: Metrics;
}

/**
 * Builds and starts the control-plane link: its HTTP client (the control plane's host only,
 * the protocol's POSTs, optional mTLS from files), the agent token read from its reference for
 * every call (rotation-safe), the instruction-id ledger in Redis, and the queue as its target.
 */
export function startLinkSide(options: LinkSideOptions): Link {
  const { settings, runtime } = options;
  const clientCert = readClientCert(settings);
  const http = runtime.httpClient(controlPlaneDestinationPolicy(settings), {
    errorDomain: 'controlPlane',
    ...(clientCert === undefined ? {} : { clientCert }),
  });
  const link = createLink({
    settings,
    agentId: options.agentId,
    http,
    token: () => resolveWithin(runtime.resolver, settings.agentToken, TOKEN_TIMEOUT_MS),
    target: options.side.target,
    outbox: options.side.outbox,
    ledger: createRedisInstructionLedger({
      redis: options.side.client,
      prefix: options.side.prefix,
    }),
    outboundLedger: runtime.ledger,
    prepare: (spec) => {
      runtime.prepare(spec);
    },
    heartbeat: options.heartbeat,
    logger: options.logger,
    metrics: options.metrics,
  });
  link.start();
  return link;
}
