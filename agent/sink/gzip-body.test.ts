import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GzipBody } from './gzip-body.ts';

describe('GzipBody', () => {
  it('compresses the lines appended, releasing each chunk once zlib has read it', async () => {
    const body = new GzipBody(6);
    const released: string[] = [];
    await body.append(Buffer.from('{"a":1}\n'), () => released.push('first'));
    await body.append(Buffer.from('{"b":2}\n'), () => released.push('second'));
    await body.append(Buffer.from('{"c":3}\n'));
    const payload = await body.finish();
    expect(gunzipSync(payload).toString('utf8')).toBe('{"a":1}\n{"b":2}\n{"c":3}\n');
    expect(released).toEqual(['first', 'second']);
  });
});
