import type { Cluster, Redis } from 'ioredis';

/** Statuses of an ioredis client that is on its way to `ready` (first connection). */
const CONNECTING = new Set(['connecting', 'connect']);

/**
 * Waits, at most `timeoutMs`, for an ioredis client that is still making its first connection
 * (every app start, every script: the client is built and used at once), and returns its status
 * then. A client that is ready, down or closed is answered at once: only connecting is waited for.
 * With `enableOfflineQueue: false` a command sent while connecting fails at once, hence the wait.
 */
export function whenConnected(client: Pick<Redis | Cluster, 'status' | 'once' | 'off'>, timeoutMs: number): Promise<string> {
  if (!isConnecting(client)) return Promise.resolve(client.status);
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      for (const event of ['ready', 'close', 'end']) client.off(event, done);
      resolve(client.status);
    };
    const timer = setTimeout(done, timeoutMs);
    for (const event of ['ready', 'close', 'end']) client.once(event, done);
  });
}

/**
 * True while the client makes its first connection: only then is {@link whenConnected} worth its
 * await (hot paths check this first and go on synchronously with a ready client).
 */
export function isConnecting(client: Pick<Redis | Cluster, 'status'>): boolean {
  return CONNECTING.has(client.status);
}

/** True for an ioredis `Redis` or `Cluster` (what connect-redis and authflow's stores are given). */
export function isIoredis(value: unknown): value is Redis | Cluster {
  const v = value as Partial<Redis> | null | undefined;
  return Boolean(v) && typeof v!.status === 'string' && typeof v!.once === 'function' && typeof v!.off === 'function';
}
