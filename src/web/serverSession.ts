/**
 * A small server-side session for frameworks without one of their own (Hono): a random session id
 * in a cookie signed with authflow's secret (`signId`), the data in a promise-style store (memory by
 * default, Redis through `redisSessionStore`) seen through the store guard. The adapter only reads
 * and writes the cookie; what to save, when, and for how long is decided here, the way
 * express-session decides it (`saveUninitialized: false`, `resave: false`, `rolling: false`).
 */
import { randomBytes } from 'node:crypto';
import { memorySessionStore, type KoaSessionStore } from '../stores/sessionStores.js';
import { SESSION_KEY, type AuthSessionData, type SessionPort } from './session.js';
import { sessionSettings, type AuthSessionOptions, type SessionSettings } from './sessionSettings.js';
import { signId, verifiedId } from './signedId.js';
import { asStoreError, destroyIn, guardPromiseStore, storeGuard, type SessionStoreOptions } from './storeGuard.js';

/** What the adapter does with the cookie at the end of the request. */
export type CookieChange = { set: string; maxAgeMs: number } | { clear: true } | undefined;

/** Where the session's own lifetime is kept beside its data in the store (koa-session's name). */
const LIFETIME = '_maxAge';
const EMPTY: AuthSessionData = Object.freeze({});
const newId = (): string => randomBytes(24).toString('base64url');

/** The sessions of one app: its cookie policy and its guarded store. */
export class ServerSessions {
  readonly settings: SessionSettings;
  readonly store: KoaSessionStore;

  constructor(options: AuthSessionOptions & SessionStoreOptions & { store?: KoaSessionStore }, kind: string) {
    this.settings = sessionSettings(options);
    const given = options.store ?? memorySessionStore();
    this.store = guardPromiseStore(given, storeGuard(options, given, kind));
  }

  /** The request's session: the one its cookie names (when signed by us and still stored), else a new, empty one. */
  load(cookieValue: string | undefined): Promise<ServerSession> {
    const id = verifiedId(cookieValue, this.settings.secrets);
    const hadCookie = Boolean(cookieValue);
    if (!id) return Promise.resolve(new ServerSession(this, undefined, undefined, hadCookie));
    // The guarded store fails only with store_unavailable (see guardPromiseStore).
    return this.store.get(id).then((stored) => new ServerSession(this, stored && typeof stored === 'object' ? id : undefined, stored ?? undefined, hadCookie));
  }

  /** Removes another session (back-channel logout). */
  destroy(id: string): Promise<void> {
    return destroyIn(this.store, id);
  }
}

/**
 * One request's session, and the web layer's `SessionPort` onto it (its methods live on the
 * class: a request makes no closures). The record read from the store is kept as it is (its
 * lifetime field beside authflow's data) until the first write, which works on a copy: a store
 * handing out its own objects is never changed behind its back.
 */
export class ServerSession implements SessionPort {
  #id: string | undefined;
  #data: Record<string, unknown>;
  /** `#data` is this session's own copy (made at the first write), not the store's record. */
  #own = false;
  #lifetime: number;
  /** Written since it was loaded or saved: a session left as it was is not saved again. */
  #dirty = false;
  #savedLifetime: number;
  #cookieDue = false;
  #destroyed = false;
  #failed = false;
  readonly #sessions: ServerSessions;
  readonly #hadCookie: boolean;

  constructor(sessions: ServerSessions, id: string | undefined, stored: Record<string, unknown> | undefined, hadCookie: boolean) {
    const lifetime = stored?.[LIFETIME];
    this.#sessions = sessions;
    this.#id = id;
    this.#data = stored ?? {};
    this.#lifetime = typeof lifetime === 'number' && lifetime > 0 ? lifetime : sessions.settings.maxAgeMs;
    this.#savedLifetime = this.#lifetime;
    this.#hadCookie = hadCookie;
  }

  read(): AuthSessionData {
    return (this.#data[SESSION_KEY] as AuthSessionData | undefined) ?? EMPTY;
  }

  write(data: AuthSessionData): void {
    if (!this.#own) {
      this.#data = { ...this.#data };
      this.#own = true;
    }
    // No data, no key: a session left as it was loaded is not saved again.
    if (Object.values(data).every((value) => value === undefined)) delete this.#data[SESSION_KEY];
    else this.#data[SESSION_KEY] = data;
    this.#dirty = true;
  }

  async regenerate(): Promise<void> {
    // The old id dies with its data (session fixation): the store forgets it now.
    if (this.#id) await this.#sessions.destroy(this.#id);
    this.#id = newId();
    this.#data = {};
    this.#own = true;
    this.#dirty = true;
    this.#cookieDue = true;
  }

  async destroy(): Promise<void> {
    if (this.#id) await this.#sessions.destroy(this.#id);
    this.#id = undefined;
    this.#data = {};
    this.#own = true;
    this.#dirty = false;
    this.#destroyed = true;
  }

  save(): Promise<void> {
    return this.#save();
  }

  id(): string | undefined {
    return this.#id;
  }

  setLifetime(ms: number | undefined): void {
    this.#lifetime = ms ?? this.#sessions.settings.maxAgeMs;
  }

  /**
   * Saves what changed (at the end of the request) and says what becomes of the cookie: at once
   * when there is nothing to save (most requests), else once saved.
   */
  commit(): CookieChange | Promise<CookieChange> {
    const changed = this.#dirty || this.#lifetime !== this.#savedLifetime;
    // A save that failed was answered (503); the store is not tried again for the same data.
    if (changed && !this.#failed && (this.#id || this.#holdsData())) return this.#save().then(() => this.#cookieChange());
    return this.#cookieChange();
  }

  #cookieChange(): CookieChange {
    if (this.#id && this.#cookieDue) return { set: signId(this.#id, this.#sessions.settings.secrets), maxAgeMs: this.#lifetime };
    return this.#destroyed && this.#hadCookie ? { clear: true } : undefined;
  }

  /** True when the session holds anything besides its lifetime. */
  #holdsData(): boolean {
    return Object.keys(this.#data).some((key) => key !== LIFETIME);
  }

  async #save(): Promise<void> {
    this.#id ??= newId();
    try {
      await this.#sessions.store.set(this.#id, { ...this.#data, [LIFETIME]: this.#lifetime }, this.#lifetime);
    } catch (err) {
      this.#failed = true;
      throw asStoreError('save', err);
    }
    this.#dirty = false;
    this.#savedLifetime = this.#lifetime;
    this.#cookieDue = true;
    this.#destroyed = false;
  }
}
