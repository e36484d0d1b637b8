import { once } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SecretValue } from './secrets.ts';

describe('a secret value', () => {
  it('reveals its bytes in memory of their own, so a message to a run thread carries them alone', async () => {
    // Fill Node's shared pool with another value first: a pooled copy would travel with it.
    const neighbour = Buffer.from('neighbour-value-the-thread-must-not-see');
    const bytes = new SecretValue('the-run-secret').revealBytes();
    expect(bytes.buffer.byteLength).toBe(bytes.length);
    const { port1, port2 } = new MessageChannel();
    try {
      const received = once(port2, 'message');
      port1.postMessage({ credentials: { secret: bytes } });
      const [message] = (await received) as [{ credentials: { secret: Uint8Array } }];
      const arrived = message.credentials.secret;
      expect(Buffer.from(arrived).toString('utf8')).toBe('the-run-secret');
      expect(arrived.buffer.byteLength).toBe('the-run-secret'.length);
      expect(Buffer.from(arrived.buffer).includes(neighbour)).toBe(false);
    } finally {
      port1.close();
      port2.close();
    }
  });
});
