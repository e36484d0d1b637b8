import { setTimeout as sleep } from 'node:timers/promises';
import type { SecretFileReader } from '../../../secrets/file/index.ts';

/** An error shaped like the ones Node's fs throws. */
export function errnoError(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated failure, open '${path}'`), {
    code,
    syscall: 'open',
    path,
  });
}

/**
 * A reader over the real one that injects what a real file system does now and then: EIO
 * (transient), EACCES (the agent runs as root in the test container, so chmod cannot deny), and
 * slowness. Every read is counted, failed or not.
 */
export class FaultyFileReader implements SecretFileReader {
  readonly #inner: SecretFileReader;
  readonly #denied = new Set<string>();
  #failures = 0;
  #failAll = false;
  #delayMs = 0;
  #reads = 0;

  constructor(inner: SecretFileReader) {
    this.#inner = inner;
  }

  get reads(): number {
    return this.#reads;
  }

  deny(path: string): void {
    this.#denied.add(path);
  }

  failNext(count: number): void {
    this.#failures = count;
  }

  failAll(): void {
    this.#failAll = true;
  }

  delay(ms: number): void {
    this.#delayMs = ms;
  }

  restore(): void {
    this.#failures = 0;
    this.#failAll = false;
    this.#delayMs = 0;
  }

  async read(
    path: string,
    options: { readonly maxBytes: number; readonly signal: AbortSignal },
  ): Promise<Buffer> {
    this.#reads += 1;
    if (this.#delayMs > 0) {
      await sleep(this.#delayMs, undefined, { signal: options.signal });
    }
    if (this.#failAll || this.#failures > 0) {
      this.#failures = Math.max(0, this.#failures - 1);
      throw errnoError('EIO', path);
    }
    if (this.#denied.has(path)) {
      throw errnoError('EACCES', path);
    }
    return this.#inner.read(path, options);
  }
}
