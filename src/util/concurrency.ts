/**
 * Concurrent callers asking for the same key share one promise: the first call runs `work`,
 * the others wait for its result (or its failure). The key is free again once it settles.
 *
 * @example
 * ```ts
 * const flight = new SingleFlight<TokenResult>();
 * await Promise.all([flight.run('p|scope', refresh), flight.run('p|scope', refresh)]); // one refresh
 * ```
 */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.#inFlight.get(key);
    if (running) return running;
    const promise: Promise<T> = work().finally(() => {
      if (this.#inFlight.get(key) === promise) this.#inFlight.delete(key);
    });
    this.#inFlight.set(key, promise);
    return promise;
  }

  /** Later callers of `key` start their own work (the running one still answers those who joined it). */
  forget(key: string): void {
    this.#inFlight.delete(key);
  }
}

/**
 * Runs work for the same key one at a time, in arrival order (different keys run in parallel).
 * Used so that two refreshes of one partition never redeem the same rotating refresh token.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => { release = resolve; });
    const tail = previous.then(() => current);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
