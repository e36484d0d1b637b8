// The link wired to the fake control plane, for the link's tests (not used at runtime): the real
// HTTP client, the real runtime `prepare` over the fixture connector, the real secret resolver
// for the agent token, and in-memory fakes of the queue side.
import { captureLogs } from './capture-logs.ts';
import { createOpenApiChecker } from './openapi.ts';
import type { CapturedLogs } from './capture-logs.ts';
import { fixtureConnector } from '../fakes/fixture/connector.ts';
import { startFakeControlPlane } from '../fakes/control-plane/server.ts';
import type { FakeControlPlane, FakeControlPlaneOptions } from '../fakes/control-plane/server.ts';
import { MemoryEventOutbox, MemoryInstructionTarget } from '../fakes/memory-queue.ts';
import { secretStores } from '../../secrets/index.ts';
import { loadConfig } from '../../agent/config/load.ts';
import { createHttpClient } from '../../agent/http/client.ts';
import { HttpSettingsSchema } from '../../agent/http/settings.ts';
import { createMetrics } from '../../agent/metrics/metrics.ts';
import type { Metrics } from '../../agent/metrics/metrics.ts';
import { assembleRuntime } from '../../agent/daemon/assemble.ts';
import type { Runtime } from '../../agent/daemon/assemble.ts';
import type { InstructionLedger } from '../../agent/link/ledger.ts';
import { createMemoryInstructionLedger } from '../../agent/link/ledger.ts';
import { createLink } from '../../agent/link/link.ts';
import type { OutboundLedger } from '../../agent/ledger/ledger.ts';
import type { Clock } from '../../agent/plugin-api/index.ts';
import {
  ControlPlaneSettingsSchema,
  controlPlaneDestinationPolicy,
  readClientCert,
} from '../../agent/link/settings.ts';
import type { ControlPlaneSettings } from '../../agent/link/settings.ts';
import type { HeartbeatBody, Link } from '../../agent/link/types.ts';

export const AGENT_ID = 'agent-test';
/** The environment variable the agent token reference names. */
const TOKEN_VAR = 'PERIMETER_TEST_CP_TOKEN';

/** The local config of the tests: one connection, inline connections allowed for fixture. */
const CONFIG_YAML = `
connections:
  fixture-main:
    connector: fixture
    baseUrl: http://127.0.0.1:9
    credentials: { secret: env://FIXTURE_SECRET }
policy:
  connectors:
    fixture:
      allowHosts: ['127.0.0.1:*']
      inlineSecretRefs: ['env://FIXTURE_*']
`;

/** Options of {@link startLinkHarness}. */
export interface HarnessOptions {
  readonly fake?: FakeControlPlaneOptions;
  /** Poll this running fake instead of starting one (it is then not closed with the harness). */
  readonly sharedFake?: FakeControlPlane;
  /** @default AGENT_ID */
  readonly agentId?: string;
  /** Settings on top of the fast test defaults (url and token are filled in). */
  readonly settings?: Record<string, unknown>;
  /** Pin the fake's public key (signed instructions required). */
  readonly pinKey?: boolean;
  readonly ledger?: InstructionLedger;
  /** Records the link's acks, heartbeats and events. */
  readonly outboundLedger?: OutboundLedger;
  /** Source of the backoff jitter. */
  readonly random?: () => number;
  /** Times the link's waits between turns (e.g. a held clock: a heartbeat only when let). */
  readonly clock?: Clock;
}

/** A started link, its fake control plane and everything the tests look at. */
export interface LinkHarness {
  readonly fake: FakeControlPlane;
  readonly link: Link;
  readonly settings: ControlPlaneSettings;
  readonly target: MemoryInstructionTarget;
  readonly outbox: MemoryEventOutbox;
  readonly logs: CapturedLogs;
  readonly metrics: Metrics;
  readonly runtime: Runtime;
  /** Stops the link, closes the runtime and the fake. */
  close(): Promise<void>;
}

/** Starts a fake control plane and a link polling it, with millisecond timings. */
export async function startLinkHarness(options: HarnessOptions = {}): Promise<LinkHarness> {
  const fake = options.sharedFake ?? (await startFakeControlPlane(options.fake));
  const logs = captureLogs();
  const metrics = createMetrics();
  const runtime = testRuntime(logs, metrics, { [TOKEN_VAR]: fake.token });
  const settings = ControlPlaneSettingsSchema.parse({
    url: fake.url,
    agentToken: `env://${TOKEN_VAR}`,
    pollWaitSeconds: 1,
    heartbeatIntervalSeconds: 0.2,
    backoff: { baseMs: 10, maxMs: 100 },
    ...(options.pinKey === true ? { publicKey: fake.signer.publicKeyPem } : {}),
    ...options.settings,
  });
  const clientCert = readClientCert(settings);
  const http = createHttpClient({
    policy: controlPlaneDestinationPolicy(settings),
    settings: HttpSettingsSchema.parse({}),
    redactor: logs.redactor,
    logger: logs.logger,
    errorDomain: 'controlPlane',
    userAgent: 'perimeter/test',
    metrics,
    ...(options.fake?.tls?.caPem === undefined ? {} : { extraCaPem: options.fake.tls.caPem }),
    ...(clientCert === undefined ? {} : { clientCert }),
  });
  const target = new MemoryInstructionTarget();
  const outbox = new MemoryEventOutbox();
  const link = createLink({
    settings,
    agentId: options.agentId ?? AGENT_ID,
    http,
    token: () =>
      runtime.resolver.resolve(settings.agentToken, { signal: AbortSignal.timeout(5000) }),
    target,
    outbox,
    ledger: options.ledger ?? createMemoryInstructionLedger(),
    ...(options.outboundLedger === undefined ? {} : { outboundLedger: options.outboundLedger }),
    prepare: (spec) => {
      runtime.prepare(spec);
    },
    heartbeat: async () => heartbeatBody(await outbox.pending(), options.agentId),
    logger: logs.logger,
    metrics,
    ...(options.random === undefined ? {} : { random: options.random }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  link.start();
  return {
    fake,
    link,
    settings,
    target,
    outbox,
    logs,
    metrics,
    runtime,
    close: async () => {
      await link.stop();
      await runtime.close();
      if (options.sharedFake === undefined) {
        await fake.close();
      }
    },
  };
}

/**
 * The real runtime over the fixture connector and the shipped secret stores, assembled from the
 * test config: its `prepare` is what the link checks instructions with.
 */
export function testRuntime(
  logs: CapturedLogs,
  metrics: Metrics,
  env: Readonly<Record<string, string>> = {},
): Runtime {
  const registry = { connectors: [fixtureConnector], stores: secretStores };
  const config = loadConfig(
    { env: {}, file: { path: 'link-test.yaml', text: CONFIG_YAML } },
    registry,
  );
  return assembleRuntime({
    config,
    registry,
    logger: logs.logger,
    redactor: logs.redactor,
    metrics,
    env,
    output: { kind: 'none' },
  });
}

/** A heartbeat as the daemon would send it, with nothing secret in it. */
export function heartbeatBody(pendingEvents: number, agentId = AGENT_ID): HeartbeatBody {
  return {
    agentId,
    version: '0.1.0',
    roles: ['link', 'worker'],
    connectors: [{ name: fixtureConnector.name, version: fixtureConnector.version }],
    secretStores: [{ profile: 'env', scheme: 'env' }],
    queue: { waiting: 0, active: 0, delayed: 0, failed: 0 },
    activeRuns: 0,
    health: { status: 'ready', dependencies: { redis: 'ok', catalog: 'ok' } },
    pendingEvents,
  };
}

/** An inline fixture connection as an instruction carries it. */
export function inlineConnection(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    connector: 'fixture',
    baseUrl: 'http://127.0.0.1:9',
    credentials: { secret: 'env://FIXTURE_SECRET' },
    ...overrides,
  };
}

const checker = createOpenApiChecker(
  new URL('../../docs/protocol/control-plane.openapi.yaml', import.meta.url),
);

/** Every way the requests the fake received depart from docs/protocol/control-plane.openapi.yaml. */
export function protocolProblems(fake: FakeControlPlane): string[] {
  return fake.records.requests.flatMap((request) =>
    checker
      .check({
        method: request.method,
        path: request.path,
        headers: request.headers,
        body: request.body,
      })
      .map((problem) => `${request.method} ${request.path}: ${problem}`),
  );
}

/** Everything the agent sent to the fake, one text per request, for canary scans. */
export function sentTexts(fake: FakeControlPlane): Record<string, string> {
  return Object.fromEntries(
    fake.records.requests.map((request, index) => [
      `${index} ${request.method} ${request.path}`,
      `${request.path}\n${JSON.stringify(request.headers)}\n${request.body.toString('utf8')}`,
    ]),
  );
}
