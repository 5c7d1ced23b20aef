/**
 * Redis for tests, found or started, never faked: `REDIS_URL` if set; else 127.0.0.1:6379 if it
 * answers; else a `redis-server` from PATH on a free port for this test process; else a failure
 * that says how to get one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { Redis } from 'ioredis';

let found: Promise<string> | undefined;

/** The URL of a Redis that answers PING. */
export function redisUrl(): Promise<string> {
  found ??= locateRedis();
  return found;
}

/** A fresh ioredis client on the test Redis; close it with `quit()`. */
export async function connectRedis(): Promise<Redis> {
  const client = new Redis(await redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return client;
}

/** A key prefix no other test uses, so tests can share one Redis. */
export const uniquePrefix = (label = 'test'): string => `authflow-${label}-${randomUUID().slice(0, 8)}:`;

/** Deletes every key under `prefix` (SCAN, not KEYS). */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

async function locateRedis(): Promise<string> {
  if (process.env.REDIS_URL) {
    const url = new URL(process.env.REDIS_URL);
    if (!(await answersPing(url.hostname, Number(url.port || 6379)))) {
      throw new Error(`REDIS_URL=${url.origin} does not answer PING`);
    }
    return process.env.REDIS_URL;
  }
  if (await answersPing('127.0.0.1', 6379)) return 'redis://127.0.0.1:6379';
  const server = await startRedisServer();
  return `redis://127.0.0.1:${server.port}`;
}

export interface RedisServer {
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway `redis-server` (no persistence) on a free loopback port, with extra
 * arguments if given; stopped when this process exits.
 */
export async function startRedisServer(port?: number, extraArgs: string[] = []): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  const args = ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const spawnError = new Promise<never>((_, reject) => child.once('error', (err: NodeJS.ErrnoException) => {
    reject(err.code === 'ENOENT'
      ? new Error('No Redis for the tests: set REDIS_URL, run one on 127.0.0.1:6379, or install redis-server (Debian: apt-get install -y redis-server)')
      : err);
  }));
  process.once('exit', () => child.kill('SIGKILL'));
  const deadline = Date.now() + 10_000;
  while (!(await Promise.race([answersPing('127.0.0.1', chosen), spawnError]))) {
    if (Date.now() > deadline) throw new Error(`redis-server on port ${chosen} did not answer within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port: chosen,
    process: child,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    }),
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function answersPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data: Buffer) => done(data.toString().startsWith('+PONG')));
  });
}
