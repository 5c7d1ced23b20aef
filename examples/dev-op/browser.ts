/**
 * A tiny form-filling "browser" over fetch (redirect: 'manual', own cookie jar) that drives the
 * dev OP's pages: login, consent, device confirmation and logout confirmation.
 */

/** Options of {@link browse}. */
export interface BrowseOptions {
  /** Username for the login page (required when the login page shows up). */
  username?: string;
  /** Password; defaults to the demo password `password`. */
  password?: string;
  /** Accept (default) or cancel the consent page. */
  consent?: boolean;
  /**
   * A cookie jar to share between calls (e.g. sign in, then sign out in the same "browser
   * session" so that the OP knows which session to end). Each call uses a fresh jar otherwise.
   */
  jar?: Map<string, string>;
}

interface Form { id: string; action: string; method: string; fields: [string, string][] }

const attr = (tag: string, name: string): string | undefined => {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  const v = m ? (m[1] ?? m[2] ?? m[3]) : undefined;
  return v?.replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(Number(d))).replace(/&amp;/g, '&').replace(/&quot;/g, '"');
};

function parseForm(page: string): Form | undefined {
  const m = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(page);
  if (!m) return undefined;
  const [, tag = '', inner = ''] = m;
  const fields: [string, string][] = [];
  for (const input of inner.match(/<input\b[^>]*>/gi) ?? []) {
    const name = attr(input, 'name');
    if (name) fields.push([name, attr(input, 'value') ?? '']);
  }
  return { id: attr(tag, 'id') ?? '', action: attr(tag, 'action') ?? '', method: (attr(tag, 'method') ?? 'get').toUpperCase(), fields };
}

function storeCookies(jar: Map<string, string>, res: Response): void {
  for (const line of res.headers.getSetCookie()) {
    const [pair = '', ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1] ?? '') < Date.now()));
    if (expired || value === '') jar.delete(name); else jar.set(name, value);
  }
}

const cookieHeader = (jar: Map<string, string>): string => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

/**
 * Starts at `startUrl` and follows redirects and OP forms until a redirect leaves `opOrigin`
 * (resolves to that URL) or a page without a form is reached (resolves to that page's URL).
 * Rejects on an error page, a failed login, or a page it does not know.
 */
export async function browse(startUrl: string, opOrigin: string, options: BrowseOptions): Promise<string> {
  const jar = options.jar ?? new Map<string, string>();
  let url = new URL(startUrl);
  let init: { method: string; body?: string } = { method: 'GET' };
  let loginAttempted = false;
  for (let step = 0; step < 30; step += 1) {
    if (url.origin !== opOrigin) return url.href;
    const res = await fetch(url, {
      method: init.method,
      redirect: 'manual',
      headers: {
        cookie: cookieHeader(jar),
        ...(init.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    storeCookies(jar, res);
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get('location');
      await res.arrayBuffer();
      if (!location) throw new Error(`dev OP: redirect without location at ${url.pathname}`);
      url = new URL(location, url);
      init = { method: 'GET' };
      continue;
    }
    const page = await res.text();
    if (/id="error"/.test(page) || res.status >= 400) {
      const text = page.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
      throw new Error(`dev OP: error page (HTTP ${res.status}) at ${url.pathname}: ${text.slice(0, 500)}`);
    }
    const form = parseForm(page);
    if (!form) return url.href;
    const fields = new URLSearchParams(form.fields);
    switch (form.id) {
      case 'login':
        if (loginAttempted || /id="login-error"/.test(page)) throw new Error('dev OP: login failed (unknown user or wrong password)');
        if (!options.username) throw new Error('dev OP: the login page needs a username');
        loginAttempted = true;
        fields.set('username', options.username);
        fields.set('password', options.password ?? 'password');
        break;
      case 'hrd': // /organizations or /common without a hint: the username first (home realm discovery)
        if (!options.username) throw new Error('dev OP: the home realm discovery page needs a username');
        fields.set('login_hint', options.username);
        break;
      case 'consent':
        fields.set('decision', options.consent === false ? 'deny' : 'allow');
        break;
      case 'op.deviceConfirmForm':
      case '': // oidc-provider's self-submitting forms (the button a browser without JS would press)
        break;
      case 'op.logoutForm':
        fields.set('logout', 'yes');
        break;
      case 'op.deviceInputForm':
        if (/id="device-error"/.test(page) || !fields.get('user_code')) throw new Error('dev OP: the device code was not accepted (use verification_uri_complete)');
        break;
      default:
        throw new Error(`dev OP: unknown form "${form.id}" at ${url.pathname}`);
    }
    url = new URL(form.action || url.href, url);
    init = form.method === 'POST' ? { method: 'POST', body: fields.toString() } : { method: 'GET' };
    if (form.method !== 'POST') url.search = fields.toString();
  }
  throw new Error('dev OP: too many steps');
}
