import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthError } from '../errors.js';
import type { TokenResult } from '../results.js';
import { acquireTokenByAuthCodeFlow, initiateAuthCodeFlow, type AuthCodeFlowRequest } from './authCode.js';
import type { FlowContext } from './context.js';

/** How long the user has to sign in by default, ms (MSAL's 5 minutes). */
const DEFAULT_TIMEOUT_MS = 5 * 60 * 1000;

/** What {@link PublicClient.acquireTokenInteractive} needs: the scopes and a way to open the browser. */
export interface InteractiveRequest extends Pick<AuthCodeFlowRequest, 'prompt' | 'loginHint' | 'domainHint' | 'claims' | 'maxAge'> {
  /** Scopes to ask for; `openid profile offline_access` are added. */
  scopes: readonly string[];
  /**
   * Opens the system browser at `url` (e.g. with the `open` package, or by printing the URL).
   * It may resolve as soon as the browser is launched; the sign-in completes when the browser
   * comes back to the loopback redirect URI.
   */
  openBrowser: (url: string) => Promise<void>;
  /** How long the user has to complete the sign-in, ms. Default 300,000 (5 minutes): then `flow_timeout`. */
  timeoutMs?: number;
  /** Cancels the sign-in: rejects with `flow_cancelled` and closes the listener. */
  signal?: AbortSignal;
  /** Loopback port to listen on; default 0 (a free one, as RFC 8252 §7.3 intends). */
  port?: number;
}

interface Callback {
  params: URLSearchParams;
  res: ServerResponse;
}

/**
 * Signs a user in with the system browser (RFC 8252, OAuth 2.0 for native apps): listens on
 * `http://127.0.0.1:<free port>/`, runs an auth-code flow with PKCE, state and nonce using that
 * redirect URI, and redeems the first callback that reaches it (its state and nonce are checked:
 * anything else is refused). The browser gets a small page saying whether it worked (never a
 * token); the listener is closed in every case; no callback within `timeoutMs` ends in `flow_timeout`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 */
export async function acquireTokenInteractive(ctx: FlowContext, request: InteractiveRequest, partition: string): Promise<TokenResult> {
  if (request === null || typeof request !== 'object') throw argumentError('the request must be an object');
  if (typeof request.openBrowser !== 'function') throw argumentError('openBrowser must be a function (url) => Promise<void>');
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) throw argumentError('timeoutMs must be a positive number');
  const port = request.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw argumentError('port must be an integer from 0 to 65535');
  if (request.signal?.aborted) throw cancelled(request.signal);

  const listener = await listen(port);
  try {
    const redirectUri = `http://127.0.0.1:${listener.port}/`;
    const flow = await initiateAuthCodeFlow(ctx, {
      scopes: request.scopes,
      redirectUri,
      ...(request.prompt ? { prompt: request.prompt } : {}),
      ...(request.loginHint ? { loginHint: request.loginHint } : {}),
      ...(request.domainHint ? { domainHint: request.domainHint } : {}),
      ...(request.claims ? { claims: request.claims } : {}),
      ...(request.maxAge !== undefined ? { maxAge: request.maxAge } : {}),
    });
    const callback = await waitForCallback(listener, flow.authUri, request, timeoutMs);
    try {
      const result = await acquireTokenByAuthCodeFlow(ctx, flow, callback.params, { partition });
      await answer(callback.res, 200, 'Sign-in complete', 'You are signed in. You can close this window and return to the application.');
      return result;
    } catch (err) {
      await answer(callback.res, 400, 'Sign-in failed', 'The sign-in did not complete. You can close this window and return to the application.');
      throw err;
    }
  } finally {
    await listener.close();
  }
}

interface Listener {
  server: Server;
  port: number;
  /** The first request to `/` carrying callback parameters. */
  next: Promise<Callback>;
  close(): Promise<void>;
}

async function listen(port: number): Promise<Listener> {
  let deliver!: (callback: Callback) => void;
  const next = new Promise<Callback>((resolve) => { deliver = resolve; });
  let delivered = false;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const isCallback = req.method === 'GET' && url.pathname === '/'
      && (url.searchParams.has('code') || url.searchParams.has('error') || url.searchParams.has('state'));
    if (!isCallback || delivered) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end('Not found');
      return;
    }
    delivered = true;
    deliver({ params: url.searchParams, res });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new AuthError('invalid_argument', { description: `cannot listen on 127.0.0.1:${port} for the redirect: ${err.message}`, cause: err })));
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    next,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** Opens the browser and waits for the callback, the timeout, the signal or a failing `openBrowser`, whichever comes first. */
async function waitForCallback(listener: Listener, authUri: string, request: InteractiveRequest, timeoutMs: number): Promise<Callback> {
  const { signal } = request;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AuthError('flow_timeout', { description: `the sign-in was not completed within ${Math.round(timeoutMs / 1000)} s` })), timeoutMs);
    timer.unref?.();
    if (signal) {
      onAbort = () => reject(cancelled(signal));
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  // openBrowser's own failure is passed through as it is; its success only means the browser is on its way.
  const opened = Promise.resolve().then(() => request.openBrowser(authUri)).then(() => new Promise<never>(() => {}));
  try {
    return await Promise.race([listener.next, stopped, opened]);
  } finally {
    clearTimeout(timer);
    if (signal && onAbort) signal.removeEventListener('abort', onAbort);
    stopped.catch(() => {});
    opened.catch(() => {});
  }
}

/** Sends the page and resolves once it is handed to the socket (or after 1 s), so closing the listener does not cut it. */
function answer(res: ServerResponse, status: number, title: string, text: string): Promise<void> {
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>`
    + `<body style="font-family: sans-serif; margin: 3em"><h1>${title}</h1><p>${text}</p></body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    connection: 'close',
  });
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1000);
    timer.unref?.();
    res.once('close', () => { clearTimeout(timer); resolve(); });
    res.end(body, () => { clearTimeout(timer); resolve(); });
  });
}

function cancelled(signal: AbortSignal): AuthError {
  return new AuthError('flow_cancelled', { description: 'the interactive sign-in was cancelled', cause: signal.reason });
}

const argumentError = (description: string): AuthError => new AuthError('invalid_argument', { description });
