/**
 * A small cookie-jar HTTP "browser" for driving an app's own pages over real HTTP: it keeps
 * cookies per origin, follows redirects on the app's origin, and stops at the first redirect that
 * leaves it (to the OP), returning that URL so a test can hand it to the dev OP's `signIn`.
 */

export interface Page {
  status: number;
  url: string;
  headers: Headers;
  body: string;
  /** Where a redirect pointed, when the browser stopped at one. */
  location: string | undefined;
}

export class Browser {
  readonly #cookies = new Map<string, Map<string, string>>();
  readonly origin: string;

  constructor(baseUrl: string) {
    this.origin = new URL(baseUrl).origin;
  }

  /** GET a path or URL; redirects within the app's origin are followed (at most 10). */
  get(pathOrUrl: string, headers: Record<string, string> = {}): Promise<Page> {
    return this.#navigate('GET', new URL(pathOrUrl, this.origin), undefined, headers);
  }

  /** POST a urlencoded form, then follow redirects like `get`. */
  post(pathOrUrl: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Page> {
    return this.#navigate('POST', new URL(pathOrUrl, this.origin), new URLSearchParams(form), headers);
  }

  /** The cookies the browser holds for the app's origin. */
  cookies(): Map<string, string> {
    return new Map(this.#cookies.get(this.origin) ?? []);
  }

  async #navigate(method: string, url: URL, body: URLSearchParams | undefined, headers: Record<string, string>): Promise<Page> {
    for (let hops = 0; hops < 10; hops++) {
      const response = await fetch(url, {
        method,
        body,
        redirect: 'manual',
        headers: { ...headers, ...(this.#cookieHeader(url) ? { cookie: this.#cookieHeader(url)! } : {}) },
      });
      this.#store(url, response.headers.getSetCookie());
      const location = response.headers.get('location') ?? undefined;
      const next = location ? new URL(location, url) : undefined;
      if (!next || response.status < 300 || response.status >= 400 || next.origin !== this.origin) {
        return { status: response.status, url: url.href, headers: response.headers, body: await response.text(), location: next?.href };
      }
      method = 'GET';
      body = undefined;
      url = next;
    }
    throw new Error(`too many redirects from ${url.pathname}`);
  }

  #cookieHeader(url: URL): string | undefined {
    const jar = this.#cookies.get(url.origin);
    if (!jar || jar.size === 0) return undefined;
    return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  #store(url: URL, setCookies: string[]): void {
    const jar = this.#cookies.get(url.origin) ?? new Map<string, string>();
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1] ?? '') < Date.now()));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    this.#cookies.set(url.origin, jar);
  }
}
