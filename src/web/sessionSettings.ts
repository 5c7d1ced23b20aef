import { randomBytes } from 'node:crypto';
import { configError } from '../errors.js';
import { appUrl, isLoopback, num, object, text } from '../util/options.js';

/** Options of `authSession()` (Express and Koa): the session cookie authflow needs. */
export interface AuthSessionOptions {
  /** The app's public URL: decides whether the cookie is `Secure`. */
  baseUrl: string;
  /**
   * Secret(s) signing the session cookie; the first signs, all verify (rotation). Required when
   * NODE_ENV=production (at least 32 characters); elsewhere a random one is made per process.
   */
  secret?: string | readonly string[];
  /** Cookie name. Default `authflow.sid`. */
  name?: string;
  /** Cookie and session lifetime, ms. Default 8 hours. */
  maxAgeMs?: number;
}

export interface SessionSettings {
  name: string;
  secrets: string[];
  secure: boolean;
  maxAgeMs: number;
}

/** The cookie policy: `httpOnly`, `sameSite=lax`, `secure` unless the app is http://localhost / 127.0.0.1. */
export function sessionSettings(options: AuthSessionOptions): SessionSettings {
  object(options);
  const local = isLoopback(appUrl(options.baseUrl));
  const production = process.env.NODE_ENV === 'production';
  const given = options.secret === undefined ? [] : typeof options.secret === 'string' ? [options.secret] : [...options.secret];
  if (given.some((s) => typeof s !== 'string' || s.length === 0)) throw configError('secret', 'must be a non-empty string or list of strings');
  if (production && given.length === 0) throw configError('secret', 'is required when NODE_ENV=production (sessions would not survive a restart and could not be shared)');
  if (production && given.some((s) => s.length < 32)) throw configError('secret', 'must be at least 32 characters in production');
  const maxAgeMs = num('maxAgeMs', options.maxAgeMs, 8 * 3600 * 1000, { integer: true });
  const name = text('name', options.name, 'authflow.sid', /^[A-Za-z0-9._-]{1,64}$/, 'a cookie name of letters, digits, ".", "_" or "-"');
  return { name, secrets: given.length > 0 ? given : [randomBytes(32).toString('base64url')], secure: !local, maxAgeMs };
}
