import { AuthError } from '../errors.js';
import { CACHE_SECTIONS, keyOf, sectionOf, type CacheEntities, type CacheEntity, type CacheSection } from './entities.js';

/** A token cache in MSAL's JSON shape: one object per section, each mapping keys to entities. */
export type MsalCacheJson = Partial<Record<CacheSection, Record<string, CacheEntity>>> & Record<string, unknown>;

const REQUIRED_FIELDS: Record<CacheSection, readonly string[]> = {
  AccessToken: ['secret', 'home_account_id', 'environment', 'client_id', 'realm', 'target', 'expires_on'],
  RefreshToken: ['secret', 'home_account_id', 'environment', 'client_id'],
  IdToken: ['secret', 'home_account_id', 'environment', 'client_id', 'realm'],
  Account: ['home_account_id', 'environment', 'realm', 'local_account_id', 'username', 'authority_type'],
  AppMetadata: ['client_id', 'environment'],
};

/** A partition as MSAL's JSON (what MSAL Python's `SerializableTokenCache.serialize()` writes). */
export function toMsalJson(entities: CacheEntities): MsalCacheJson {
  const json: MsalCacheJson = { AccessToken: {}, RefreshToken: {}, IdToken: {}, Account: {}, AppMetadata: {} };
  for (const [key, entity] of Object.entries(entities)) {
    (json[sectionOf(entity)] as Record<string, CacheEntity>)[key] = entity;
  }
  return json;
}

/**
 * Reads MSAL JSON (a string or a parsed object) written by any MSAL. Entities are re-keyed with
 * authflow's key function (so lookups by key work whatever the writer did), fields MSAL does not
 * know are kept, and anything malformed is refused with `cache_invalid` naming the entry.
 */
export function fromMsalJson(input: unknown): CacheEntities {
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
  for (const section of CACHE_SECTIONS) {
    const entries = (json as Record<string, unknown>)[section];
    if (entries === undefined) continue;
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) {
      throw new AuthError('cache_invalid', { description: `section ${section} must be an object` });
    }
    for (const [key, value] of Object.entries(entries)) {
      const entity = checkEntity(section, key, value);
      entities[keyOf(entity, section)] = entity;
    }
  }
  return entities;
}

function checkEntity(section: CacheSection, key: string, value: unknown): CacheEntity {
  const where = `${section} entry "${key.slice(0, 80)}"`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AuthError('cache_invalid', { description: `${where} must be an object` });
  }
  const entity = { ...(value as Record<string, unknown>) };
  for (const field of REQUIRED_FIELDS[section]) {
    if (typeof entity[field] !== 'string') throw new AuthError('cache_invalid', { description: `${where} lacks the string field "${field}"` });
  }
  if (section === 'AccessToken' || section === 'RefreshToken' || section === 'IdToken') {
    if (entity.credential_type !== undefined && entity.credential_type !== section) {
      throw new AuthError('cache_invalid', { description: `${where} has credential_type "${String(entity.credential_type)}"` });
    }
    entity.credential_type = section;
  }
  if (section === 'AccessToken') {
    entity.cached_at ??= entity.expires_on;
    entity.extended_expires_on ??= entity.expires_on;
  }
  return entity as unknown as CacheEntity;
}
