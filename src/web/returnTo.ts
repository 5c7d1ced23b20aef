/**
 * Where to send the browser after sign-in: only a path on this app. Anything else (absolute
 * URLs, `//host`, `/\host`, schemes, encoded or control-character tricks) becomes `/`, so
 * `/login?returnTo=` can never be used as an open redirect.
 *
 * @example
 * ```ts
 * safeReturnTo('/orders?page=2'); // '/orders?page=2'
 * safeReturnTo('//evil.example'); // '/'
 * ```
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return '/';
  // Must start with exactly one slash followed by something that is not a slash or backslash.
  if (!/^\/(?![/\\])/.test(value)) return '/';
  // No control characters or whitespace (browsers strip tabs/newlines, turning "/\t/evil" into "//evil").
  if (/[\u0000-\u0020\u007f\\]/.test(value)) return '/';
  let decoded = value;
  try {
    // Decoded forms must pass too: "/%2F%2Fevil.example" and "/%5Cevil.example" are refused.
    for (let i = 0; i < 3 && /%[0-9a-f]{2}/i.test(decoded); i++) decoded = decodeURIComponent(decoded);
  } catch {
    return '/';
  }
  if (!/^\/(?![/\\])/.test(decoded) || /[\u0000-\u0020\u007f\\]/.test(decoded)) return '/';
  // Resolved against a placeholder origin it must stay on that origin and keep its path.
  const base = 'http://authflow.invalid';
  let resolved: URL;
  try {
    resolved = new URL(value, base);
  } catch {
    return '/';
  }
  if (resolved.origin !== base) return '/';
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}
