/**
 * The items of `chunks`, one at a time: a connector produces its events in chunks (a table and
 * its columns) from one async generator, and `read()` hands them out one by one. An item already
 * in hand costs a resolved promise, not a trip through every generator that produced it, which
 * on a stream of millions of columns is most of the cost of reading it.
 */
export function flattenChunks<T>(chunks: AsyncIterable<readonly T[]>): AsyncIterableIterator<T> {
  return new ChunkReader(chunks[Symbol.asyncIterator]());
}

class ChunkReader<T> implements AsyncIterableIterator<T> {
  readonly #chunks: AsyncIterator<readonly T[]>;
  #chunk: readonly T[] = [];
  #index = 0;

  constructor(chunks: AsyncIterator<readonly T[]>) {
    this.#chunks = chunks;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#index < this.#chunk.length) {
      const value = this.#chunk[this.#index] as T;
      this.#index += 1;
      return Promise.resolve({ done: false, value });
    }
    return this.#nextChunk();
  }

  /** Stops the producer (its `finally` blocks run) and drops what is left of the chunk. */
  async return(): Promise<IteratorResult<T>> {
    this.#chunk = [];
    this.#index = 0;
    await this.#chunks.return?.();
    return { done: true, value: undefined };
  }

  async #nextChunk(): Promise<IteratorResult<T>> {
    for (;;) {
      const step = await this.#chunks.next();
      if (step.done === true) {
        this.#chunk = [];
        this.#index = 0;
        return { done: true, value: undefined };
      }
      if (step.value.length > 0) {
        this.#chunk = step.value;
        this.#index = 1;
        return { done: false, value: step.value[0] as T };
      }
    }
  }
}
