import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SecretValue } from '../plugin-api/index.ts';
import { captureLogs } from '../../test/helpers/capture-logs.ts';
import { Redactor } from './redactor.ts';

const secret = 'sk-live-5bd7c3a8e9f04411';

describe('SecretValue', () => {
  it('prints [redacted] through String, JSON and util.inspect, and reveals only on request', () => {
    const value = new SecretValue(secret);
    expect(String(value)).toBe('[redacted]');
    expect(value.toString()).toBe('[redacted]');
    expect(JSON.stringify({ value })).toBe('{"value":"[redacted]"}');
    expect(inspect({ value })).not.toContain(secret);
    expect(value.reveal()).toBe(secret);
  });

  it('zero-fills its bytes when destroyed', () => {
    const value = new SecretValue(secret);
    value.destroy();
    expect(value.revealBytes().every((byte) => byte === 0)).toBe(true);
  });
});

describe('Redactor', () => {
  it('replaces a registered value in its raw, JSON-escaped, URL-encoded and base64 forms', () => {
    const redactor = new Redactor();
    const tricky = 'pa"ss/word+with spaces=';
    redactor.add(tricky);
    const forms = [
      tricky,
      JSON.stringify(tricky).slice(1, -1),
      encodeURIComponent(tricky),
      Buffer.from(tricky).toString('base64'),
      Buffer.from(tricky).toString('base64url'),
    ];
    for (const form of forms) {
      expect(redactor.redact(`before ${form} after`)).toBe('before [redacted] after');
    }
  });

  it('ignores values too short to redact without masking ordinary words', () => {
    const redactor = new Redactor();
    expect(redactor.add('abc')).toBe(false);
    expect(redactor.redact('abc abc')).toBe('abc abc');
  });
});

describe('the root logger', () => {
  it('redacts by type, by key path and by value in every line', () => {
    const logs = captureLogs();
    logs.redactor.add(secret);
    logs.logger.info({ credential: new SecretValue(secret) }, 'Wrapped value');
    logs.logger.info(
      { headers: { authorization: `Bearer ${secret}` }, password: 'another-password-value' },
      'Known keys',
    );
    logs.logger.info({ detail: `failed with ${secret} in the message` }, 'Free text');
    logs.logger.error(
      { err: new Error('request failed', { cause: new Error(`token=${secret}`) }) },
      'Error with cause',
    );
    const text = logs.text();
    expect(text).not.toContain(secret);
    expect(text).not.toContain('another-password-value');
    expect(logs.records()).toHaveLength(4);
    expect(logs.records()[3]?.['err']).toMatchObject({
      message: expect.stringContaining('request failed') as unknown,
    });
  });
});
