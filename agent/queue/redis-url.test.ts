import { describe, expect, it } from 'vitest';
import { PerimeterError } from '../plugin-api/index.ts';
import { describeTarget, parseRedisUrl } from './redis-url.ts';
import { RedisSettingsSchema } from './settings.ts';

function problemOf(url: string): PerimeterError {
  try {
    parseRedisUrl(url);
  } catch (error) {
    if (error instanceof PerimeterError) {
      return error;
    }
    throw error;
  }
  throw new Error(`${url} parsed`);
}

describe('parseRedisUrl', () => {
  it('reads a single node with its port and database', () => {
    expect(parseRedisUrl('redis://redis.internal:6380/3')).toEqual({
      kind: 'standalone',
      endpoint: { host: 'redis.internal', port: 6380 },
      db: 3,
      tls: false,
    });
  });

  it('defaults the port to 6379 and the database to 0, and rediss:// turns TLS on', () => {
    expect(parseRedisUrl('rediss://redis.internal')).toEqual({
      kind: 'standalone',
      endpoint: { host: 'redis.internal', port: 6379 },
      db: 0,
      tls: true,
    });
  });

  it('reads IPv6 hosts in brackets', () => {
    expect(parseRedisUrl('redis://[::1]:7000')).toMatchObject({
      endpoint: { host: '::1', port: 7000 },
    });
  });

  it('reads Sentinel hosts (default port 26379), the master name and a database', () => {
    expect(parseRedisUrl('redis-sentinel://s1:26380,s2/mymaster/2')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
      ],
      masterName: 'mymaster',
      db: 2,
      tls: false,
    });
  });

  it('reads Cluster seed nodes', () => {
    expect(parseRedisUrl('redis-cluster://n1:7000,n2:7001')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
      tls: false,
    });
  });

  it('refuses a password in the URL without echoing it, and says where the password goes', () => {
    const error = problemOf('redis://default:hunter2-secret@redis:6379');
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('redis.password');
    expect(error.message).not.toContain('hunter2');
    expect(error.context['problems']).toEqual(['redis.url']);
  });

  it('refuses a Sentinel URL without a master name', () => {
    expect(problemOf('redis-sentinel://s1:26379,s2:26379').message).toContain('master name');
  });

  it('refuses several hosts for a single node', () => {
    expect(problemOf('redis://a:6379,b:6379').message).toContain('redis-sentinel://');
  });

  it('refuses a database out of range, a path on a Cluster, a bad port and an unknown scheme', () => {
    expect(problemOf('redis://r/16').message).toContain('0 to 15');
    expect(problemOf('redis-cluster://a:7000/1').message).toContain('Cluster');
    expect(problemOf('redis://r:99999').message).toContain('1-65535');
    expect(problemOf('http://r:6379').message).toContain('redis://');
  });

  it('describes a target by hosts only', () => {
    expect(describeTarget(parseRedisUrl('redis-sentinel://s1,s2:1/m'))).toBe(
      'sentinel s1:26379,s2:1 master m db 0',
    );
  });
});

describe('redis settings', () => {
  it('reports a bad redis.url with the other config problems, without echoing it', () => {
    const parsed = RedisSettingsSchema.safeParse({ url: 'redis://user:hunter2-secret@r:6379' });
    expect(parsed.success).toBe(false);
    const message = parsed.error?.issues[0]?.message ?? '';
    expect(message).toContain('redis.password');
    expect(message).not.toContain('hunter2');
    expect(RedisSettingsSchema.parse({}).url).toBe('redis://127.0.0.1:6379');
  });
});
