import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { configError } from '../errors.js';

/** A 256-bit key with an id that is written beside each value it encrypts. */
export interface EncryptionKey {
  /** Short id (letters, digits, `_`, `-`), stored with each value so any configured key can decrypt it. */
  id: string;
  /** 32 bytes, or their base64 / base64url encoding. */
  key: string | Uint8Array;
}

const FORMAT = 'af1';
/**
 * GCM's full 128-bit tag, fixed on both sides: without `authTagLength` Node accepts any tag of
 * 4-16 bytes, so a value whose tag is cut to 4 bytes would verify on 32 bits only.
 */
const TAG_LENGTH = 16;
const ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * AES-256-GCM for cache values at rest: a random 96-bit IV per value, the value's location
 * (partition and field) as additional data so a value cannot be moved to another place, and a
 * key list: the first key encrypts, every key decrypts, so keys rotate without signing anyone out.
 * Stored form: `af1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts).
 *
 * @example
 * ```ts
 * const cipher = new FieldCipher([{ id: '2026-11', key: process.env.CACHE_KEY! }], 'encryptionKeys');
 * cipher.decrypt(cipher.encrypt('{"secret":"..."}', 'p|k'), 'p|k'); // '{"secret":"..."}'
 * ```
 */
export class FieldCipher {
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly #current: { id: string; key: Buffer };

  constructor(keys: readonly EncryptionKey[], option: string) {
    if (!Array.isArray(keys) || keys.length === 0) throw configError(option, 'must be a non-empty list of { id, key }');
    const map = new Map<string, Buffer>();
    keys.forEach((entry, index) => {
      const name = `${option}[${index}]`;
      if (!entry || typeof entry.id !== 'string' || !ID_PATTERN.test(entry.id)) throw configError(`${name}.id`, 'must be 1-32 letters, digits, "_" or "-"');
      if (map.has(entry.id)) throw configError(`${name}.id`, `repeats the id "${entry.id}"`);
      const key = typeof entry.key === 'string' ? Buffer.from(entry.key, 'base64') : Buffer.from(entry.key ?? []);
      if (key.length !== 32) throw configError(`${name}.key`, 'must be 32 bytes (256 bits), raw or base64');
      map.set(entry.id, key);
    });
    this.#keys = map;
    const first = keys[0]!;
    this.#current = { id: first.id, key: map.get(first.id)! };
  }

  encrypt(plaintext: string, location: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#current.key, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(Buffer.from(location, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, this.#current.id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /**
   * The plaintext, or why it could not be had: a value in another format (written without
   * encryption), under a key no longer configured, or that fails authentication (tampered, moved).
   */
  decrypt(value: string, location: string): { plaintext: string } | { problem: 'not_encrypted' | 'unknown_key' | 'invalid'; keyId?: string } {
    const parts = value.split('.');
    if (parts.length !== 5 || parts[0] !== FORMAT) return { problem: 'not_encrypted' };
    const [, keyId, iv, ciphertext, tag] = parts as [string, string, string, string, string];
    const key = this.#keys.get(keyId);
    if (!key) return { problem: 'unknown_key', keyId };
    const authTag = Buffer.from(tag, 'base64url');
    if (authTag.length !== TAG_LENGTH) return { problem: 'invalid', keyId };
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_LENGTH });
      decipher.setAAD(Buffer.from(location, 'utf8'));
      decipher.setAuthTag(authTag);
      const plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
      return { plaintext };
    } catch {
      return { problem: 'invalid', keyId };
    }
  }
}
