import { AuthError } from '../errors.js';
import {
  CACHE_SECTIONS, UNKNOWN_SECTION_PREFIX, sectionOf, type CacheEntities, type CacheEntity, type CacheSection, type UnknownSectionEntity,
} from './entities.js';

/** A token cache in MSAL's JSON shape: one object per section, each mapping keys to entities. */
export type MsalCacheJson = Partial<Record<CacheSection, Record<string, CacheEntity>>> & Record<string, unknown>;

/** Where {@link fromMsalJson} reports an entry it skipped (the key, never the entity: it may hold a token). */
export type SkippedEntryReporter = (skipped: { section: string; key: string; problem: string }) => void;

/**
 * Fields an entry needs to be usable at all; anything else (`null` local_account_id, missing
 * `target`, unknown fields) is kept as read. Credentials need a secret to be worth keeping.
 */
const REQUIRED_FIELDS: Record<CacheSection, readonly string[]> = {
  AccessToken: ['secret', 'environment', 'client_id', 'expires_on'],
  RefreshToken: ['secret', 'environment', 'client_id'],
  IdToken: ['secret', 'environment', 'client_id'],
  Account: ['home_account_id', 'environment', 'authority_type'],
  AppMetadata: ['client_id', 'environment'],
};
const CREDENTIAL_TYPES: Record<CacheSection, readonly unknown[]> = {
  AccessToken: ['AccessToken', 'AccessToken_With_AuthScheme'],
  RefreshToken: ['RefreshToken'],
  IdToken: ['IdToken'],
  Account: [undefined],
  AppMetadata: [undefined],
};

/**
 * A partition as MSAL's JSON (what MSAL Python's `SerializableTokenCache.serialize()` writes):
 * every entity under the key and with the fields it was read or written with, and sections
 * authflow does not know back under their own names.
 */
export function toMsalJson(entities: CacheEntities): MsalCacheJson {
  const json: MsalCacheJson = { AccessToken: {}, RefreshToken: {}, IdToken: {}, Account: {}, AppMetadata: {} };
  for (const [key, entity] of Object.entries(entities)) {
    const section = sectionOf(entity);
    if (section) (json[section] as Record<string, CacheEntity>)[key] = entity;
    else json[(entity as UnknownSectionEntity).authflow_unknown_section] = (entity as UnknownSectionEntity).entries;
  }
  return json;
}

/**
 * Reads MSAL JSON (a string or a parsed object) written by any MSAL: every entry is kept under
 * its own key with all its fields (lookups match on fields, so either key format works), and
 * unknown sections are kept whole. An entry that cannot be used (not an object, no secret, a
 * credential in the wrong section) is skipped and reported by key through `onSkipped`; only a
 * cache that is not a JSON object at all is refused (`cache_invalid`).
 */
export function fromMsalJson(input: unknown, onSkipped: SkippedEntryReporter = () => {}): CacheEntities {
  let json: unknown = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch {
      throw new AuthError('cache_invalid', { description: 'the cache is not valid JSON' });
    }
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new AuthError('cache_invalid', { description: 'the cache must be a JSON object with MSAL sections' });
  }
  const entities: CacheEntities = {};
  for (const [section, entries] of Object.entries(json as Record<string, unknown>)) {
    if (!(CACHE_SECTIONS as readonly string[]).includes(section)) {
      entities[`${UNKNOWN_SECTION_PREFIX}${section}`] = { authflow_unknown_section: section, entries };
      continue;
    }
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) {
      onSkipped({ section, key: '', problem: `section ${section} is not an object` });
      continue;
    }
    for (const [key, value] of Object.entries(entries)) {
      const problem = problemOf(section as CacheSection, value);
      if (problem) onSkipped({ section, key, problem });
      else entities[key] = value as CacheEntity;
    }
  }
  return entities;
}

function problemOf(section: CacheSection, value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not an object';
  const entity = value as Record<string, unknown>;
  for (const field of REQUIRED_FIELDS[section]) {
    if (typeof entity[field] !== 'string') return `lacks the string field "${field}"`;
  }
  if (!CREDENTIAL_TYPES[section].includes(entity.credential_type)) return `has credential_type "${String(entity.credential_type).slice(0, 40)}"`;
  if (sectionOf(entity as unknown as CacheEntity) !== section) return `does not look like a ${section} entry`;
  return undefined;
}
