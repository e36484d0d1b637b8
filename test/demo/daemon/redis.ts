// Which Redis the daemon demo uses: the local one when it answers, else a `redis-server` of its
// own on a free port when the binary is on PATH, else none (the demo falls back to one-shot).
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedisServer } from '../../e2e/support/redis-server.ts';

const LOCAL_URL = 'redis://127.0.0.1:6379';
/** Another "local" Redis to try first (the test points it at a closed port to see the fallback). */
const URL_ENV = 'DEMO_REDIS_URL';

/** A Redis for the demo, and how to let go of it. */
export interface DemoRedis {
  readonly url: string;
  /** For the reader: which Redis it is. */
  readonly label: string;
  close(): Promise<void>;
}

/** The local Redis, a started one, or the reason neither is possible. */
export async function findRedis(
  env: Readonly<Record<string, string | undefined>>,
): Promise<DemoRedis | string> {
  const url = env[URL_ENV] ?? LOCAL_URL;
  const where = new URL(url).host;
  if (await answers(url)) {
    return { url, label: `local Redis at ${where}`, close: () => Promise.resolve() };
  }
  if (!onPath('redis-server', env['PATH'] ?? '')) {
    return `no Redis answers on ${where} and no redis-server is on PATH`;
  }
  const server = await startRedisServer();
  return {
    url: server.url,
    label: `redis-server started by the demo on port ${String(server.port)}`,
    close: () => server.close(),
  };
}

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {
    // Refused or timed out: answered below by the failed connect.
  });
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function onPath(binary: string, path: string): boolean {
  return path.split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, binary)));
}
