import { afterEach, describe, expect, it } from 'vitest';
import { SecretValue } from '../../agent/plugin-api/index.ts';
import { createRedisConnections } from '../../agent/queue/redis.ts';
import type { RedisConnections } from '../../agent/queue/redis.ts';
import { RedisSettingsSchema } from '../../agent/queue/settings.ts';
import { startRedisServer } from '../e2e/support/redis-server.ts';
import type { TestRedisServer } from '../e2e/support/redis-server.ts';
import { captureLogs } from '../helpers/capture-logs.ts';
import { waitFor } from '../helpers/wait-for.ts';

const open: (RedisConnections | TestRedisServer)[] = [];

afterEach(async () => {
  for (const item of open.splice(0).reverse()) {
    await item.close();
  }
});

async function server(extraArgs: string[] = []): Promise<TestRedisServer> {
  const started = await startRedisServer({ extraArgs });
  open.push(started);
  return started;
}

function connect(url: string, password?: string) {
  const logs = captureLogs();
  const connections = createRedisConnections({
    settings: RedisSettingsSchema.parse({ url, prefix: 'conn-test', connectTimeoutMs: 500 }),
    ...(password === undefined ? {} : { password: new SecretValue(password) }),
    logger: logs.logger,
    closeTimeoutMs: 500,
  });
  open.push(connections);
  return { connections, logs };
}

describe('Redis connection factory', () => {
  it('reports clients down while Redis is away and ready again after it returns, logging the outage once', async () => {
    const redis = await server();
    const { connections, logs } = connect(redis.url);
    const client = connections.open('main');
    connections.open('events');
    await waitFor(() => connections.health().ready);
    await redis.kill();
    await waitFor(() => !connections.health().ready);
    const pending = client.set('conn-test:k', 'v');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await redis.restart();
    await waitFor(() => connections.health().ready, { timeoutMs: 10_000 });
    expect(await pending).toBe('OK');
    const records = logs.records();
    expect(
      records.filter(
        (r) => r['msg'] === 'Redis connection failed; reconnecting' && r['client'] === 'main',
      ),
    ).toHaveLength(1);
    expect(
      records.some((r) => r['msg'] === 'Redis connection restored' && r['client'] === 'main'),
    ).toBe(true);
  });

  it('authenticates with the resolved password and never logs it', async () => {
    const password = 'redis-password-7f3a9c21';
    const redis = await server(['--requirepass', password]);
    const { connections, logs } = connect(redis.url, password);
    const client = connections.open('main');
    expect(await client.ping()).toBe('PONG');
    const refused = connect(redis.url);
    refused.connections.open('main');
    await waitFor(() =>
      refused.logs.records().some((r) => r['msg'] === 'Redis connection failed; reconnecting'),
    );
    expect(logs.text() + refused.logs.text()).not.toContain(password);
  });

  it('warns, as a structured line, when Redis may evict queue keys', async () => {
    const redis = await server(['--maxmemory-policy', 'allkeys-lru']);
    const { connections, logs } = connect(redis.url);
    connections.open('main');
    const warning = await waitFor(() =>
      logs
        .records()
        .find((r) => r['msg'] === 'Redis may evict queue keys; set maxmemory-policy noeviction'),
    );
    expect(warning['maxmemoryPolicy']).toBe('allkeys-lru');
  });

  it('closes within its bound even while Redis is unreachable', async () => {
    const redis = await server();
    const { connections } = connect(redis.url);
    connections.open('main');
    await waitFor(() => connections.health().ready);
    await redis.kill();
    const started = Date.now();
    await connections.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(connections.health().ready).toBe(false);
    expect(() => connections.open('late')).toThrow(/closed/);
  });
});
