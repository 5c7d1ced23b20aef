/**
 * Wakes waiters of a Redis refresh lock when it is released, instead of letting them poll:
 * the release script PUBLISHes on the lock's channel, and one subscriber connection per store
 * (`client.duplicate()`, made on first need, closed when idle) hands the message to the waiters
 * of that channel. Waiters in this process are woken directly by the release, without Redis.
 *
 * A lost message (the subscriber reconnecting, a failover) is not a hang: waiters still poll, at a
 * long interval. On a Cluster the same classic PUBLISH / SUBSCRIBE is used: a PUBLISH reaches every
 * node over the cluster bus, so a subscriber on any node hears it (sharded SPUBLISH would save
 * that broadcast but needs Redis 7 and ioredis' sharded subscribers; releases are rare enough).
 */
import type { Cluster, Redis } from 'ioredis';

/** One waiter's view of a channel: `ready` says whether messages can arrive (else: poll as before). */
export interface LockListener {
  /** True once the subscription is live; false when there is no pub/sub (the caller polls often). */
  ready: Promise<boolean>;
  /** Resolves on a release message (or a release in this process), or after `ms`. */
  next(ms: number): Promise<void>;
  /** Stops listening (the channel is unsubscribed when its last waiter leaves). */
  close(): void;
}

/** How long the subscriber connection stays open without any waiter. */
const IDLE_CLOSE_MS = 1_000;

export class LockWaker {
  readonly #client: Redis | Cluster;
  readonly #subscribeTimeoutMs: number;
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #subscribed = new Map<string, Promise<boolean>>();
  #subscriber: Redis | Cluster | undefined;
  #idle: NodeJS.Timeout | undefined;

  constructor(client: Redis | Cluster, subscribeTimeoutMs: number) {
    this.#client = client;
    this.#subscribeTimeoutMs = subscribeTimeoutMs;
  }

  /** Starts listening on `channel` (subscribing when it is the first waiter). */
  listen(channel: string): LockListener {
    let woken = false;
    let wake: (() => void) | undefined;
    const onRelease = (): void => {
      woken = true;
      wake?.();
    };
    let waiters = this.#waiters.get(channel);
    if (!waiters) this.#waiters.set(channel, (waiters = new Set()));
    waiters.add(onRelease);
    const ready = this.#subscribe(channel);
    return {
      ready,
      next: (ms) => new Promise<void>((resolve) => {
        // A release heard between two attempts is not lost: the next wait ends at once.
        if (woken) {
          woken = false;
          return resolve();
        }
        const done = (): void => {
          clearTimeout(timer);
          wake = undefined;
          woken = false;
          resolve();
        };
        const timer = setTimeout(done, ms);
        wake = done;
      }),
      close: () => {
        waiters.delete(onRelease);
        if (waiters.size > 0) return;
        this.#waiters.delete(channel);
        this.#unsubscribe(channel);
      },
    };
  }

  /** A release in this process: its waiters are woken now (the PUBLISH wakes the other processes). */
  wake(channel: string): void {
    for (const onRelease of this.#waiters.get(channel) ?? []) onRelease();
  }

  #subscribe(channel: string): Promise<boolean> {
    const subscriber = this.#connection();
    if (!subscriber) return Promise.resolve(false);
    let subscribed = this.#subscribed.get(channel);
    if (!subscribed) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.#subscribeTimeoutMs);
      });
      subscribed = Promise.race([subscriber.subscribe(channel).then(() => true, () => false), timeout]).finally(() => clearTimeout(timer));
      this.#subscribed.set(channel, subscribed);
    }
    return subscribed;
  }

  #unsubscribe(channel: string): void {
    this.#subscribed.delete(channel);
    const subscriber = this.#subscriber;
    if (!subscriber) return;
    subscriber.unsubscribe(channel).catch(() => undefined);
    if (this.#subscribed.size === 0) {
      clearTimeout(this.#idle);
      this.#idle = setTimeout(() => this.#closeIf(subscriber), IDLE_CLOSE_MS);
      this.#idle.unref();
    }
  }

  /** The subscriber connection, made on first need; undefined when the client cannot duplicate itself. */
  #connection(): Redis | Cluster | undefined {
    clearTimeout(this.#idle);
    if (this.#subscriber) return this.#subscriber;
    const client = this.#client as Partial<Redis>;
    if (typeof client.duplicate !== 'function' || client.status === 'end') return undefined;
    const subscriber = (this.#client as Redis).duplicate();
    this.#subscriber = subscriber;
    subscriber.on('message', (channel: string) => this.wake(channel));
    // Errors only mean messages may be lost: waiters poll meanwhile. Never an unhandled 'error'.
    subscriber.on('error', () => undefined);
    subscriber.once('end', () => this.#forget(subscriber));
    // The app's client closed: the subscriber must not keep the process alive.
    const closeWithClient = (): void => this.#closeIf(subscriber, true);
    this.#client.once('end', closeWithClient);
    subscriber.once('end', () => this.#client.off('end', closeWithClient));
    return subscriber;
  }

  #forget(subscriber: Redis | Cluster): void {
    if (this.#subscriber !== subscriber) return;
    this.#subscriber = undefined;
    this.#subscribed.clear();
  }

  /** Closes `subscriber` when no channel needs it any more (or, `force`, when the app's client closed). */
  #closeIf(subscriber: Redis | Cluster, force = false): void {
    if (!force && this.#subscriber === subscriber && this.#subscribed.size > 0) return;
    this.#forget(subscriber);
    subscriber.disconnect();
  }
}
