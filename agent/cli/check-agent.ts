import { agentIdOf } from '../daemon/daemon.ts';
import { checkRedis } from '../daemon/redis-check.ts';
import { checkAgentToken } from '../link/agent-auth.ts';
import { controlPlaneDestinationPolicy, readClientCert } from '../link/settings.ts';
import type { SecretValue } from '../plugin-api/index.ts';
import { catalogDestinationPolicy } from '../sink/catalog-sink.ts';
import { checkCatalogToken } from '../sink/catalog-auth.ts';
import type { CheckLine } from './check-line.ts';
import { failure } from './check-line.ts';
import type { Session } from './session.ts';

/** The agent's own secret references and what resolving them gave. */
interface OwnSecrets {
  readonly lines: CheckLine[];
  /** Setting → its value, for the settings that resolved. */
  readonly values: ReadonlyMap<string, SecretValue>;
}

/**
 * Resolves every secret reference the agent itself uses (`catalog.token`,
 * `controlPlane.agentToken`, `redis.password` when Redis is used): one line each, named by the
 * setting, the value kept only in memory for the authentication checks.
 */
export async function ownSecretLines(session: Session, signal: AbortSignal): Promise<OwnSecrets> {
  const { config } = session;
  const refs: [string, string | undefined][] = [
    ['catalog.token', config.catalog?.token],
    ['controlPlane.agentToken', config.controlPlane?.agentToken],
    ['redis.password', usesRedis(session) ? config.redis.password : undefined],
  ];
  const lines: CheckLine[] = [];
  const values = new Map<string, SecretValue>();
  for (const [setting, ref] of refs) {
    if (ref === undefined) {
      continue;
    }
    try {
      const info = session.runtime.resolver.check(ref);
      values.set(setting, await session.runtime.resolver.resolve(ref, { signal }));
      lines.push({
        ok: true,
        check: 'secret',
        subject: setting,
        detail: `resolvable: ${info.scheme}://${info.locator} (profile ${info.profile})`,
      });
    } catch (error) {
      // The reference (never the value) tells the operator which file or path to look at.
      const failed = failure('secret', setting, error);
      lines.push({ ...failed, detail: `${ref}: ${failed.detail}` });
    }
  }
  return { lines, values };
}

/**
 * Authenticates to the catalog and the control plane with the agent's tokens, by the
 * protocols' read-only calls. A refused token fails naming its setting; a token that did not
 * resolve was already reported on its secret line and is not tried.
 */
export async function authLines(
  session: Session,
  values: ReadonlyMap<string, SecretValue>,
  signal: AbortSignal,
): Promise<CheckLine[]> {
  const { config, runtime } = session;
  const lines: CheckLine[] = [];
  const { catalog, controlPlane } = config;
  if (catalog !== undefined && (catalog.token === undefined || values.has('catalog.token'))) {
    const http = runtime.httpClient(catalogDestinationPolicy(catalog), { errorDomain: 'sink' });
    try {
      const token = values.get('catalog.token');
      const detail = await checkCatalogToken({ http, settings: catalog, token, signal });
      lines.push({ ok: true, check: 'auth', subject: 'catalog', detail });
    } catch (error) {
      lines.push(failure('auth', 'catalog', error));
    } finally {
      await http.close();
    }
  }
  const agentToken = values.get('controlPlane.agentToken');
  if (controlPlane !== undefined && agentToken !== undefined) {
    const clientCert = readClientCert(controlPlane);
    const http = runtime.httpClient(controlPlaneDestinationPolicy(controlPlane), {
      errorDomain: 'controlPlane',
      ...(clientCert === undefined ? {} : { clientCert }),
    });
    try {
      const detail = await checkAgentToken({
        http,
        baseUrl: controlPlane.url,
        agentId: agentIdOf(config),
        token: agentToken,
        signal,
      });
      lines.push({ ok: true, check: 'auth', subject: 'controlPlane', detail });
    } catch (error) {
      lines.push(failure('auth', 'controlPlane', error));
    } finally {
      await http.close();
    }
  }
  return lines;
}

/** Whether `perimeter start` with this config needs Redis: a control plane or config jobs. */
function usesRedis(session: Session): boolean {
  return session.config.controlPlane !== undefined || session.config.jobs.length > 0;
}

/**
 * Reaches Redis with the agent's settings and reports its eviction policy and persistence: a
 * warning (not a failure) unless `noeviction` and persistence on; unreachable fails naming
 * `redis.url`. Without a control plane or config jobs Redis is not used and says so.
 */
export async function redisLine(session: Session, signal: AbortSignal): Promise<CheckLine> {
  if (!usesRedis(session)) {
    return {
      ok: true,
      check: 'redis',
      subject: 'redis.url',
      detail: 'not used: no controlPlane and no jobs in the config (one-shot commands only)',
    };
  }
  try {
    const report = await checkRedis({
      config: session.config,
      resolver: session.runtime.resolver,
      logger: session.logger,
      signal,
    });
    const warnings = [
      ...(report.evictionPolicy === 'noeviction'
        ? []
        : [
            `maxmemory-policy is ${report.evictionPolicy}, not noeviction: queue keys may be evicted`,
          ]),
      ...(report.persistence === 'off' || report.persistence === 'unknown'
        ? [`persistence is ${report.persistence}: queued runs are lost when Redis restarts`]
        : []),
    ];
    const facts = `reachable (${report.where}), maxmemory-policy ${report.evictionPolicy}, persistence ${report.persistence}`;
    return {
      ok: true,
      check: 'redis',
      subject: 'redis.url',
      detail: warnings.length === 0 ? facts : `${facts}; warning: ${warnings.join('; ')}`,
      ...(warnings.length === 0 ? {} : { warning: true }),
    };
  } catch (error) {
    return failure('redis', 'redis.url', error);
  }
}
