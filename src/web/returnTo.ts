/**
 * Where to send the browser after sign-in: a page of this app, as an absolute URL on the app's
 * origin. The value must be a path (`/orders?page=2`); it is judged by where it *resolves*
 * (`new URL(value, baseUrl)`, the parser browsers use), after dot segments and percent-encoded
 * dots are applied, not by how its raw text looks. Anything that is not a plain local path
 * (absolute URLs, `//host`, `/\host`, schemes, control characters, encoded slashes, or a path
 * that resolves to `//host` such as `/.//evil.example`) becomes the app's home page, so
 * `/login?returnTo=` can never be used as an open redirect.
 *
 * @example
 * ```ts
 * safeReturnTo('/orders?page=2', 'https://app.example'); // 'https://app.example/orders?page=2'
 * safeReturnTo('/.//evil.example', 'https://app.example'); // 'https://app.example/'
 * ```
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Unvalidated_Redirects_and_Forwards_Cheat_Sheet.html
 */
export function safeReturnTo(value: unknown, baseUrl: URL | string): string {
  const base = new URL(baseUrl);
  const home = `${base.origin}${base.pathname.replace(/\/+$/, '')}/`;
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return home;
  if (!isPlainPath(value)) return home;
  let decoded = value;
  try {
    // Decoded forms must pass too: "/%2F%2Fevil.example" and "/%5Cevil.example" are refused.
    for (let i = 0; i < 3 && /%[0-9a-f]{2}/i.test(decoded); i++) decoded = decodeURIComponent(decoded);
  } catch {
    return home;
  }
  if (!isPlainPath(decoded)) return home;
  let resolved: URL;
  try {
    resolved = new URL(value, base.origin);
  } catch {
    return home;
  }
  if (resolved.origin !== base.origin || resolved.username || resolved.password) return home;
  // "/.//evil.example" resolves to the path "//evil.example": on our origin, but a scheme-relative
  // URL to whoever reads the path alone. Refused, so no caller can ever be handed one.
  if (/^\/[/\\]/.test(resolved.pathname)) return home;
  return resolved.href;
}

/**
 * One leading slash, not followed by a slash or backslash, and no whitespace, control characters
 * or backslashes anywhere (browsers strip tabs and newlines, turning "/\t/evil" into "//evil").
 */
function isPlainPath(value: string): boolean {
  return /^\/(?![/\\])/.test(value) && !/[\u0000-\u0020\u007f-\u009f\\]/.test(value);
}
