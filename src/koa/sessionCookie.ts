/**
 * authflow/koa's session cookie: an opaque session id signed with authflow's own secret(s), never
 * with the app's `app.keys` (which may be weak and sign the app's other cookies: with them a
 * forged cookie was accepted). Value: `<id>.<base64url HMAC-SHA256(secret, id)>`; the first
 * secret signs, all verify (rotation).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { SessionSettings } from '../web/sessionSettings.js';

/** koa-session's `externalKey` option: reads and writes the id through the signed cookie. */
export interface ExternalKey {
  get(ctx: Context): string;
  set(ctx: Context, id: string): void;
}

const sign = (secret: string, id: string): string => createHmac('sha256', secret).update(id).digest('base64url');

/** The verified session id in the request's cookie, or '' (none, or not signed by us). */
export function verifiedId(value: string | undefined, secrets: readonly string[]): string {
  if (!value) return '';
  const dot = value.lastIndexOf('.');
  if (dot < 1) return '';
  const id = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1));
  for (const secret of secrets) {
    const expected = Buffer.from(sign(secret, id));
    if (expected.length === given.length && timingSafeEqual(expected, given)) return id;
  }
  return '';
}

/**
 * Reads the id (remembering it with `remember`, for the back-channel logout index) and writes it
 * back signed, with the cookie policy and the session's current lifetime.
 */
export function signedCookieKey(settings: SessionSettings, remember: (ctx: Context, id: string) => void): ExternalKey {
  return {
    get(ctx) {
      const id = verifiedId(ctx.cookies.get(settings.name, { signed: false }), settings.secrets);
      if (id) remember(ctx, id);
      return id;
    },
    set(ctx, id) {
      const maxAge = (ctx as Context & { sessionOptions?: { maxAge?: unknown } }).sessionOptions?.maxAge;
      ctx.cookies.set(settings.name, `${id}.${sign(settings.secrets[0]!, id)}`, {
        httpOnly: true,
        sameSite: 'lax',
        secure: settings.secure,
        path: '/',
        overwrite: true,
        signed: false,
        maxAge: typeof maxAge === 'number' ? maxAge : settings.maxAgeMs,
      });
    },
  };
}
