import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CACHE_SECTIONS, UNKNOWN_SECTION_PREFIX, sectionOf, type CacheEntities, type CacheEntity, type UnknownSectionEntity } from '../cache/entities.js';
import { fromMsalJson } from '../cache/serialize.js';
import { AuthError, configError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CacheChanges, CacheWriteOptions, TokenCacheStore } from './types.js';
import { logger, object } from '../util/options.js';

/** Options of {@link FileTokenCacheStore}. */
export interface FileTokenCacheStoreOptions {
  /** Where a corrupt cache file is reported (`warn`). Default: a Node process warning. */
  logger?: Logger;
}

/** Reports through `process.emitWarning`, so a CLI user sees it on stderr. */
const processWarnings: Logger = {
  debug: () => {},
  info: () => {},
  warn: (obj, msg) => process.emitWarning(`${msg ?? 'authflow'} ${JSON.stringify(obj)}`, { code: 'AUTHFLOW_CACHE' }),
  error: (obj, msg) => process.emitWarning(`${msg ?? 'authflow'} ${JSON.stringify(obj)}`, { code: 'AUTHFLOW_CACHE' }),
};

/**
 * A token cache in one file, in MSAL's JSON format (what MSAL Python's `SerializableTokenCache`
 * and msal-node's persistence write), for public clients: a CLI or desktop app keeps its users
 * signed in between runs.
 *
 * - One cache per file, for ONE partition: the store takes the partition name of its first use
 *   and refuses any other with `invalid_argument` (a `PublicClient` always uses one partition,
 *   `'default'` unless set). Several client ids may share the file: MSAL keys name the client.
 * - Writes are atomic: a temporary file in the same directory (mode 0600), fsync, rename. A crash
 *   leaves the old file or the new one, never half of one. The file's mode is 0600; a missing
 *   parent directory is created with mode 0700.
 * - Writes within the process are serialised (each applies its changes to the file's latest
 *   content). Two processes writing at once: the last rename wins (no cross-process lock).
 * - The file is shared with msal-node's and MSAL Python's file caches: a write changes only the
 *   entries it names, in the JSON as read, so entries and sections authflow does not use (or
 *   cannot read) stay as they are. An unusable entry reads as absent, with a warning naming its key.
 * - A file that is not JSON at all reads as empty, with a warning, and is never overwritten: the
 *   next write first moves it aside (`<file>.unreadable-<time>`, kept for the user) and starts anew.
 * - `ttlSeconds` is ignored: the refresh token's own expiry decides.
 *
 * The file holds refresh tokens: keep it in the user's home directory, never in a shared place.
 *
 * @example
 * ```ts
 * const cli = new PublicClient({
 *   clientId, authority,
 *   cacheStore: new FileTokenCacheStore(join(homedir(), '.my-cli', 'cache.json')),
 * });
 * ```
 */
export class FileTokenCacheStore implements TokenCacheStore {
  /** The cache file's absolute path. */
  readonly path: string;
  readonly #logger: Logger;
  #partition: string | undefined;
  /** The tail of the write queue: every write and clear runs after the previous one. */
  #queue: Promise<unknown> = Promise.resolve();

  /** `path`: the cache file (created with mode 0600, its folder 0700). */
  constructor(path: string, options: FileTokenCacheStoreOptions = {}) {
    if (typeof path !== 'string' || path === '') throw configError('path', 'must be the path of the cache file');
    this.path = resolve(path);
    this.#logger = logger(object(options).logger, processWarnings);
  }

  async read(partition: string): Promise<CacheEntities> {
    this.#checkPartition(partition);
    await this.#queue.catch(() => {});
    return this.#load();
  }

  async write(partition: string, changes: CacheChanges, _options: CacheWriteOptions = {}): Promise<void> {
    this.#checkPartition(partition);
    await this.#serialised(async () => {
      const json = await this.#loadJson();
      applyChanges(json, changes);
      await this.#save(json);
    });
  }

  async clear(partition: string): Promise<void> {
    this.#checkPartition(partition);
    await this.#serialised(async () => {
      await unlink(this.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    });
  }

  #checkPartition(partition: string): void {
    this.#partition ??= partition;
    if (partition !== this.#partition) {
      throw new AuthError('invalid_argument', {
        description: `FileTokenCacheStore holds one partition ("${this.#partition.slice(0, 40)}"); use another file for "${String(partition).slice(0, 40)}"`,
      });
    }
  }

  #serialised(work: () => Promise<void>): Promise<void> {
    const run = this.#queue.catch(() => {}).then(work);
    this.#queue = run;
    return run;
  }

  async #load(): Promise<CacheEntities> {
    const text = await this.#readText();
    if (text === undefined || text.trim() === '') return {};
    try {
      return fromMsalJson(text, (skipped) => {
        this.#logger.warn({ path: this.path, section: skipped.section, key: skipped.key.slice(0, 200), problem: skipped.problem }, 'authflow: an entry of the token cache file is unusable; it reads as absent and is left in the file');
      });
    } catch (err) {
      this.#logger.warn(
        { path: this.path, problem: err instanceof AuthError ? err.description : (err as Error)?.message },
        'authflow: the token cache file is not a readable MSAL cache; it reads as empty and is moved aside (never overwritten) at the next write',
      );
      return {};
    }
  }

  /** The file's JSON as it is (every section and entry), or a new object after moving an unreadable file aside. */
  async #loadJson(): Promise<Record<string, unknown>> {
    const text = await this.#readText();
    if (text === undefined || text.trim() === '') return emptyCache();
    try {
      const json = JSON.parse(text) as unknown;
      if (json !== null && typeof json === 'object' && !Array.isArray(json)) return json as Record<string, unknown>;
    } catch {
      // Not JSON: moved aside below.
    }
    const aside = `${this.path}.unreadable-${Date.now()}`;
    await rename(this.path, aside);
    this.#logger.warn({ path: this.path, movedTo: aside }, 'authflow: the token cache file was not readable; it was moved aside and a new one is written');
    return emptyCache();
  }

  async #readText(): Promise<string | undefined> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async #save(json: Record<string, unknown>): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = join(dir, `.${basename(this.path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      try {
        await handle.writeFile(`${JSON.stringify(json, null, 2)}\n`, 'utf8');
        await handle.chmod(0o600); // whatever the umask did
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
    await syncDirectory(dir);
  }
}

/** MSAL's five sections, empty (what every MSAL writes for a new cache). */
const emptyCache = (): Record<string, unknown> => Object.fromEntries(CACHE_SECTIONS.map((section) => [section, {}]));

/** Applies a write to the file's JSON: only the named entries change; a key moves to its entity's section. */
function applyChanges(json: Record<string, unknown>, changes: CacheChanges): void {
  const sections = (): Array<Record<string, unknown>> => Object.values(json).filter((v): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v));
  for (const key of [...changes.remove, ...Object.keys(changes.set)]) {
    if (key.startsWith(UNKNOWN_SECTION_PREFIX)) delete json[key.slice(UNKNOWN_SECTION_PREFIX.length)];
    else for (const section of sections()) delete section[key];
  }
  for (const [key, entity] of Object.entries(changes.set) as Array<[string, CacheEntity]>) {
    const section = sectionOf(entity);
    if (!section) {
      json[(entity as UnknownSectionEntity).authflow_unknown_section] = (entity as UnknownSectionEntity).entries;
      continue;
    }
    const entries = json[section];
    const target = entries !== null && typeof entries === 'object' && !Array.isArray(entries) ? entries as Record<string, unknown> : (json[section] = {}) as Record<string, unknown>;
    target[key] = entity;
  }
}

/** Makes the rename durable (POSIX); platforms that cannot open a directory skip it. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows cannot fsync a directory: the rename is still atomic.
  }
}
