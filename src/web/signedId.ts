/**
 * A session id signed with authflow's own secret(s), as authflow/koa and authflow/hono carry it in
 * their session cookie: `<id>.<base64url HMAC-SHA256(secret, id)>`; the first secret signs, all
 * verify (rotation). Never signed with an app's own keys (Koa's `app.keys` may be weak and sign the
 * app's other cookies: with them a forged cookie was accepted).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const signature = (secret: string, id: string): string => createHmac('sha256', secret).update(id).digest('base64url');

/** The cookie value for `id`, signed with the first secret. */
export function signId(id: string, secrets: readonly string[]): string {
  return `${id}.${signature(secrets[0]!, id)}`;
}

/** The verified session id in a cookie value, or '' (none, or not signed by us). */
export function verifiedId(value: string | undefined, secrets: readonly string[]): string {
  if (!value) return '';
  const dot = value.lastIndexOf('.');
  if (dot < 1) return '';
  const id = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1));
  for (const secret of secrets) {
    const expected = Buffer.from(signature(secret, id));
    if (expected.length === given.length && timingSafeEqual(expected, given)) return id;
  }
  return '';
}
