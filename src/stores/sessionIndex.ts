import { BoundedMap } from '../util/boundedMap.js';
import { num, object } from '../util/options.js';

/**
 * Which app sessions belong to an OP session (`sid`) or user (`sub`), so a back-channel logout
 * can end them. Entries are opaque strings (authflow stores the session id and cache partition).
 */
export interface SessionIndex {
  /** Files `entry` under each key, for `ttlSeconds`. */
  add(keys: readonly string[], entry: string, ttlSeconds: number): Promise<void>;
  /** Returns and forgets every entry filed under `key`. */
  take(key: string): Promise<string[]>;
  /**
   * Forgets `entry` under each key: the session ended at the app (logout). Optional so indexes
   * written for earlier versions still load; without it a logged-out session's id stays filed
   * until its TTL (harmless: the session itself is gone).
   */
  remove?(keys: readonly string[], entry: string): Promise<void>;
  /**
   * True the first time `id` is claimed within `ttlSeconds`, false on a repeat: the replay
   * defence for back-channel logout tokens (`jti`). Optional: without it authflow remembers ids
   * in process memory, which does not see replays sent to another instance.
   */
  claimOnce?(id: string, ttlSeconds: number): Promise<boolean>;
}

/**
 * The in-process default: enough for one app instance (entries expire; at most `maxKeys` keys and
 * `maxKeys` claimed ids kept, the oldest dropped first).
 */
export class MemorySessionIndex implements SessionIndex {
  readonly #entries: BoundedMap<string, Map<string, number>>;
  readonly #claimed: BoundedMap<string, true>;

  /** `maxKeys`: most OP sessions remembered (default 100,000); the least recently filed are dropped beyond it. */
  constructor(options: { maxKeys?: number } = {}) {
    const maxKeys = num('maxKeys', object(options).maxKeys, 100_000, { integer: true });
    this.#entries = new BoundedMap({ maxEntries: maxKeys });
    this.#claimed = new BoundedMap({ maxEntries: maxKeys });
  }

  async add(keys: readonly string[], entry: string, ttlSeconds: number): Promise<void> {
    const expiresAt = Date.now() + ttlSeconds * 1000;
    for (const key of keys) {
      const entries = this.#entries.peek(key) ?? new Map<string, number>();
      entries.set(entry, expiresAt);
      this.#entries.set(key, entries, ttlSeconds * 1000);
    }
  }

  async take(key: string): Promise<string[]> {
    const entries = this.#entries.peek(key);
    this.#entries.delete(key);
    const now = Date.now();
    return [...(entries ?? [])].filter(([, expiresAt]) => expiresAt > now).map(([entry]) => entry);
  }

  async remove(keys: readonly string[], entry: string): Promise<void> {
    for (const key of keys) {
      const entries = this.#entries.peek(key);
      entries?.delete(entry);
      if (entries?.size === 0) this.#entries.delete(key);
    }
  }

  async claimOnce(id: string, ttlSeconds: number): Promise<boolean> {
    if (this.#claimed.has(id)) return false;
    this.#claimed.set(id, true, ttlSeconds * 1000);
    return true;
  }
}
