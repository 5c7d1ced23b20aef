/**
 * authflow/koa's session cookie: an opaque session id signed with authflow's own secret(s)
 * (`signId`, `verifiedId` in src/web/signedId.ts), never with the app's `app.keys`.
 */
import type { Context } from 'koa';
import type { SessionSettings } from '../web/sessionSettings.js';
import { signId, verifiedId } from '../web/signedId.js';

/** koa-session's `externalKey` option: reads and writes the id through the signed cookie. */
export interface ExternalKey {
  get(ctx: Context): string;
  set(ctx: Context, id: string): void;
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
      ctx.cookies.set(settings.name, signId(id, settings.secrets), {
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
