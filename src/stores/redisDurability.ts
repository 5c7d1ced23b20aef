/**
 * Durable writes on replicated Redis (Cluster, Sentinel): after a write that must survive a
 * failover, `WAIT 1 <timeout>` on the master that took it, so the write (and everything sent
 * before it on that connection) is on at least one replica before the caller goes on.
 *
 * `WAIT` names no key, so ioredis' Cluster would send it to any node; it is routed here to the
 * master serving the key's slot (CRC16 of the key's hash tag, as Redis computes it).
 *
 * @see https://redis.io/docs/latest/commands/wait/
 * @see https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#key-distribution-model
 */
import type { Cluster, Redis } from 'ioredis';
import { configError } from '../errors.js';

/** What a durable write waits for: one replica's acknowledgement, or nothing (a single Redis). */
export type RedisDurability = 'replica' | 'none';

const SLOTS = 16384;

/** CRC16/XMODEM (polynomial 0x1021), the checksum Redis Cluster maps keys with. */
const CRC16_TABLE = Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  return crc;
});

/**
 * The cluster slot of `key`: CRC16 of the key's hash tag (the text between the first `{` and the
 * next `}`, when not empty), else of the whole key, modulo 16384.
 */
export function keySlot(key: string): number {
  let bytes = Buffer.from(key, 'utf8');
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc % SLOTS;
}

/** True for an ioredis `Cluster`. */
export const isCluster = (client: Redis | Cluster): client is Cluster => (client as Cluster).isCluster === true;

/** True for an ioredis `Redis` that finds its master through Sentinel. */
export function isSentinel(client: Redis | Cluster): boolean {
  const sentinels = (client as Redis).options?.sentinels;
  return !isCluster(client) && Array.isArray(sentinels) && sentinels.length > 0;
}

/**
 * The `durability` option: `'replica'` or `'none'`; absent, `'replica'` for a Cluster or Sentinel
 * client (they have replicas to fail over to) and `'none'` for a single Redis.
 */
export function durabilityOf(value: unknown, client: Redis | Cluster, name = 'durability'): RedisDurability {
  if (value === undefined) return isCluster(client) || isSentinel(client) ? 'replica' : 'none';
  if (value !== 'replica' && value !== 'none') throw configError(name, 'must be \'replica\' or \'none\'');
  return value;
}

/**
 * The connection that took writes to `key`: in a Cluster, the master serving the key's slot (as
 * the client last learnt it), else the client itself. Undefined when the Cluster knows no master
 * for the slot (it is failing over).
 */
export function masterFor(client: Redis | Cluster, key: string): Redis | undefined {
  if (!isCluster(client)) return client;
  const nodeKey = client.slots[keySlot(key)]?.[0];
  if (!nodeKey) return undefined;
  return client.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === nodeKey);
}

/** What {@link waitForReplica} answers for a Cluster slot without any replica: nothing was waited for. */
export const NO_REPLICA = -1;

/**
 * `WAIT 1 timeoutMs` on the master that took the write to `key`: resolves to the number of
 * replicas that acknowledged (0 when none did in time, or the master could not be asked;
 * {@link NO_REPLICA} when the Cluster knows no replica for the key's slot).
 * Never rejects: durability is best effort, the caller reports and keeps serving.
 */
export async function waitForReplica(client: Redis | Cluster, key: string, timeoutMs: number): Promise<number> {
  // A slot the Cluster serves without a replica (none configured, or one just promoted): nothing to wait for.
  if (isCluster(client) && (client.slots[keySlot(key)]?.length ?? 0) < 2) return NO_REPLICA;
  const master = masterFor(client, key);
  if (!master || master.status !== 'ready') return 0;
  let timer: NodeJS.Timeout | undefined;
  // WAIT answers by itself after timeoutMs; the extra bound covers a master that stopped answering.
  const late = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(0), timeoutMs + 250);
  });
  try {
    return await Promise.race([master.call('WAIT', '1', String(timeoutMs)).then((n) => Number(n), () => 0), late]);
  } finally {
    clearTimeout(timer);
  }
}
