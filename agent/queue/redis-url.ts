import { PerimeterError } from '../plugin-api/index.ts';

/** One Redis (or Sentinel) address. */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
}

/** What `redis.url` points at. */
export type RedisTarget =
  | {
      readonly kind: 'standalone';
      readonly endpoint: RedisEndpoint;
      readonly db: number;
      readonly tls: boolean;
    }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly RedisEndpoint[];
      readonly masterName: string;
      readonly db: number;
      readonly tls: boolean;
    }
  | { readonly kind: 'cluster'; readonly nodes: readonly RedisEndpoint[]; readonly tls: boolean };

const SCHEMES: Readonly<Record<string, { kind: RedisTarget['kind']; tls: boolean; port: number }>> =
  {
    redis: { kind: 'standalone', tls: false, port: 6379 },
    rediss: { kind: 'standalone', tls: true, port: 6379 },
    'redis-sentinel': { kind: 'sentinel', tls: false, port: 26379 },
    'rediss-sentinel': { kind: 'sentinel', tls: true, port: 26379 },
    'redis-cluster': { kind: 'cluster', tls: false, port: 6379 },
    'rediss-cluster': { kind: 'cluster', tls: true, port: 6379 },
  };
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;
const MASTER_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Parses `redis.url`. The multi-host forms (Sentinel, Cluster) are not WHATWG URLs, so the
 * parsing is by hand: `scheme://host[:port][,host[:port]…][/path]`. A problem throws
 * CONFIG_INVALID naming `redis.url`; the URL itself is never echoed (it might carry a password).
 */
export function parseRedisUrl(url: string): RedisTarget {
  const match = /^([a-z-]+):\/\/([^/]*)(\/.*)?$/.exec(url);
  const scheme = match === null ? undefined : SCHEMES[match[1] ?? ''];
  if (match === null || scheme === undefined) {
    throw urlProblem(
      'must start with redis://, rediss://, redis-sentinel:// or redis-cluster:// followed by host:port',
    );
  }
  const authority = match[2] ?? '';
  if (authority.includes('@')) {
    throw urlProblem(
      'must not carry a user or password; set redis.username and redis.password (a secret reference) instead',
    );
  }
  const endpoints = authority.split(',').map((part) => parseEndpoint(part, scheme.port));
  const segments = (match[3] ?? '').split('/').filter((segment) => segment !== '');
  switch (scheme.kind) {
    case 'standalone':
      return {
        kind: 'standalone',
        endpoint: single(endpoints),
        db: parseDb(segments, 0),
        tls: scheme.tls,
      };
    case 'sentinel':
      return {
        kind: 'sentinel',
        sentinels: endpoints,
        masterName: parseMasterName(segments[0]),
        db: parseDb(segments, 1),
        tls: scheme.tls,
      };
    case 'cluster':
      if (segments.length > 0) {
        throw urlProblem('a Cluster URL takes no path: Redis Cluster has only database 0');
      }
      return { kind: 'cluster', nodes: endpoints, tls: scheme.tls };
  }
}

/** What is wrong with a `redis.url`, for the config schema; undefined when it parses. */
export function redisUrlProblem(url: string): string | undefined {
  try {
    parseRedisUrl(url);
    return undefined;
  } catch (error) {
    return error instanceof PerimeterError
      ? error.message.replace(/^redis\.url /, '').replace(/\.$/, '')
      : 'does not parse';
  }
}

/** Hosts and ports for logs and /status: never a password (the URL cannot carry one). */
export function describeTarget(target: RedisTarget): string {
  const list = (endpoints: readonly RedisEndpoint[]): string =>
    endpoints.map((e) => `${e.host}:${e.port}`).join(',');
  switch (target.kind) {
    case 'standalone':
      return `redis ${list([target.endpoint])} db ${target.db}`;
    case 'sentinel':
      return `sentinel ${list(target.sentinels)} master ${target.masterName} db ${target.db}`;
    case 'cluster':
      return `cluster ${list(target.nodes)}`;
  }
}

function parseEndpoint(text: string, defaultPort: number): RedisEndpoint {
  const match = HOST_PORT.exec(text);
  const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
  if (match === null || port < 1 || port > 65_535) {
    throw urlProblem('has a host that is not host or host:port (ports 1-65535)');
  }
  const host = (match[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

function single(endpoints: readonly RedisEndpoint[]): RedisEndpoint {
  const [first] = endpoints;
  if (first === undefined || endpoints.length > 1) {
    throw urlProblem('names several hosts: use redis-sentinel:// or redis-cluster:// for those');
  }
  return first;
}

function parseDb(segments: readonly string[], index: number): number {
  const text = segments[index];
  if (segments.length > index + 1) {
    throw urlProblem('has too many path segments');
  }
  if (text === undefined) {
    return 0;
  }
  const db = Number(text);
  if (!/^\d{1,2}$/.test(text) || db > 15) {
    throw urlProblem('has a database that is not a number from 0 to 15');
  }
  return db;
}

function parseMasterName(text: string | undefined): string {
  if (text === undefined || !MASTER_NAME.test(text)) {
    throw urlProblem(
      'needs the master name after the hosts: redis-sentinel://h1:26379,h2:26379/<masterName>',
    );
  }
  return text;
}

function urlProblem(problem: string): PerimeterError {
  return new PerimeterError('CONFIG_INVALID', `redis.url ${problem}.`, {
    context: { problems: ['redis.url'] },
  });
}
