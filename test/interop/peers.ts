/**
 * The interop suite's parts: the dev OP answering as Entra's hosts (test/interop/hosts.ts), and
 * three peers behind one small interface: authflow, msal-node (in this process) and MSAL Python
 * (a child process running test/interop/msal_peer.py). Every peer signs in through the dev OP's
 * pages, exports and imports MSAL's JSON cache, and reports outcomes with a hash of the token.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ConfidentialClientApplication, CryptoProvider, LogLevel, type AccountInfo as MsalAccount, type ICachePlugin } from '@azure/msal-node';
import { AuthError, ConfidentialClient, type AccountInfo, type TokenCacheStore, type TokenResult } from '../../src/index.js';
import { startDevOp, type DevOp } from '../helpers/op.js';
import { startHttpsFront, type HttpsFront } from '../../bench/tls.js';
import { MAPPED_HOSTS, mapGlobalFetch, msalNetworkClient } from './hosts.js';

/** What a peer reports: success with a token hash, or the OAuth error code. */
export interface Outcome { ok: boolean; token?: string | undefined; error?: string | undefined; description?: string | undefined }

/** One library acting on its own cache. */
export interface Peer {
  readonly name: 'authflow' | 'msal-node' | 'msal-python';
  signIn(username: string, scopes: string[]): Promise<Outcome>;
  silent(scopes: string[], options?: { forceRefresh?: boolean; username?: string }): Promise<Outcome>;
  clientCredentials(scopes: string[]): Promise<Outcome>;
  onBehalfOf(assertion: string, scopes: string[]): Promise<Outcome>;
  exportCache(): Promise<string>;
  importCache(json: string): Promise<void>;
  close(): Promise<void>;
}

export const ORDERS = ['api://orders/Orders.Read'];
export const INVENTORY = ['api://inventory/Inventory.Read'];
export const hashToken = (token: string | undefined): string | undefined => (token ? createHash('sha256').update(token).digest('hex').slice(0, 16) : undefined);

/** The dev OP as `https://login.microsoftonline.com/<tenant>`, its https front and the host mapping. */
export interface Interop {
  op: DevOp;
  front: HttpsFront;
  port: number;
  /** Entra-style authority without the version (msal-node, MSAL Python). */
  authority: string;
  dir: string;
  /** Token requests per grant type since the last call (a cache hit adds none). */
  tokenRequests(): number;
  close(): Promise<void>;
}

export async function startInterop(): Promise<Interop> {
  const dir = mkdtempSync(join(tmpdir(), 'authflow-interop-'));
  const op = await startDevOp({ publicOrigin: 'https://login.microsoftonline.com' });
  const front = await startHttpsFront(op.url, op.issuer, dir, { forwardHost: true });
  const port = Number(new URL(front.origin).port);
  const restore = mapGlobalFetch({ port, caFile: front.caFile });
  let last = op.stats().tokenRequests;
  return {
    op, front, port, dir,
    authority: `https://login.microsoftonline.com/${op.tenantId}`,
    tokenRequests() {
      const now = op.stats().tokenRequests;
      const delta = now - last;
      last = now;
      return delta;
    },
    async close() {
      restore();
      await front.close();
      await op.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The dev OP's pages, reached directly on loopback, for an authorization URL naming an Entra host. */
async function completeSignIn(env: Interop, authUri: string, username: string): Promise<URL> {
  const url = new URL(authUri);
  if (!MAPPED_HOSTS.has(url.hostname)) throw new Error(`authorization URL at an unexpected host: ${url.hostname}`);
  return new URL(await env.op.signIn(`${env.op.url}${url.pathname}${url.search}`, { username: username as 'alice' }));
}

const failed = (err: unknown): Outcome => {
  const e = err as { code?: string; errorCode?: string; error?: string; description?: string; errorMessage?: string; message?: string };
  return { ok: false, error: e.code ?? e.errorCode ?? e.error ?? 'exception', description: (e.description ?? e.errorMessage ?? e.message ?? '').slice(0, 300) };
};

/** Which dev OP client a peer acts as, and (authflow) which partition its cache export and import use. */
export interface PeerOptions {
  client?: 'webApp' | 'daemon' | 'orders';
  /** authflow only: the partition `exportCache`/`importCache` use (OBO and app tokens have their own). */
  partition?: string;
  /** authflow only: where the cache lives (default: in memory). */
  cacheStore?: TokenCacheStore;
}

/** authflow's ConfidentialClient (webApp, or another dev OP client). */
export function authflowPeer(env: Interop, options: PeerOptions = {}): Peer & { client: ConfidentialClient; rawSignIn(username: string, scopes: string[]): Promise<TokenResult> } {
  const registered = env.op.clients[options.client ?? 'webApp'];
  const client = new ConfidentialClient({
    clientId: registered.clientId, authority: `${env.authority}/v2.0`, credential: { secret: registered.clientSecret! },
    ...(options.cacheStore ? { cacheStore: options.cacheStore } : {}),
  });
  const partition = options.partition ?? 'interop';
  let account: AccountInfo | undefined;
  const accountOf = async (username?: string): Promise<AccountInfo | undefined> => {
    const accounts = await client.getAccounts({ partition, ...(username ? { username } : {}) });
    return accounts[0] ?? account;
  };
  const run = async (work: () => Promise<{ accessToken: string }>): Promise<Outcome> => {
    try {
      return { ok: true, token: hashToken((await work()).accessToken) };
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      return failed(err);
    }
  };
  return {
    name: 'authflow', client,
    async rawSignIn(username: string, scopes: string[]) {
      const flow = await client.initiateAuthCodeFlow({ scopes, redirectUri: registered.redirectUris![0]! });
      const callback = await completeSignIn(env, flow.authUri, username);
      return client.acquireTokenByAuthCodeFlow(flow, callback.searchParams, { partition });
    },
    async signIn(username, scopes) {
      const redirectUri = registered.redirectUris![0]!;
      const flow = await client.initiateAuthCodeFlow({ scopes, redirectUri });
      const callback = await completeSignIn(env, flow.authUri, username);
      return run(async () => {
        const result = await client.acquireTokenByAuthCodeFlow(flow, callback.searchParams, { partition });
        account = result.account!;
        return result;
      });
    },
    async silent(scopes, options = {}) {
      const who = await accountOf(options.username);
      if (!who) return { ok: false, error: 'no_account' };
      return run(() => client.acquireTokenSilent({ scopes, account: who, partition, forceRefresh: options.forceRefresh === true }));
    },
    clientCredentials: (scopes) => run(() => client.acquireTokenForClient({ scopes })),
    onBehalfOf: (assertion, scopes) => run(() => client.acquireTokenOnBehalfOf({ userAssertion: assertion, scopes })),
    exportCache: () => client.exportCache(partition),
    importCache: (json) => client.importCache(partition, json),
    async close() {},
  };
}


/**
 * msal-node's ConfidentialClientApplication, Entra protocol mode, its requests mapped onto the
 * front. msal-node knows Entra's public-cloud endpoints by heart (`/<tenant>/oauth2/v2.0/...`);
 * the dev OP's live under `/<tenant>/v2.0/`, so it is given the dev OP's discovery document as
 * `authorityMetadata` (read through the mapping). Its alias table is its own built-in one.
 */
export async function msalNodePeer(env: Interop, options: PeerOptions & { cachePlugin?: ICachePlugin } = {}): Promise<Peer & { app: ConfidentialClientApplication }> {
  const registered = env.op.clients[options.client ?? 'webApp'];
  const authorityMetadata = await (await fetch(`${env.authority}/v2.0/.well-known/openid-configuration`)).text();
  const app = new ConfidentialClientApplication({
    auth: { clientId: registered.clientId, authority: env.authority, clientSecret: registered.clientSecret!, authorityMetadata },
    ...(options.cachePlugin ? { cache: { cachePlugin: options.cachePlugin } } : {}),
    system: { networkClient: msalNetworkClient({ port: env.port, caFile: env.front.caFile }), loggerOptions: { logLevel: LogLevel.Error, loggerCallback: () => {} } },
  });
  const run = async (work: () => Promise<{ accessToken: string } | null>): Promise<Outcome> => {
    try {
      const result = await work();
      return result ? { ok: true, token: hashToken(result.accessToken) } : { ok: false, error: 'no_result' };
    } catch (err) {
      return failed(err);
    }
  };
  const accountOf = async (username?: string): Promise<MsalAccount | undefined> => {
    const accounts = await app.getTokenCache().getAllAccounts();
    return accounts.find((a) => !username || a.username.toLowerCase() === username.toLowerCase());
  };
  return {
    name: 'msal-node', app,
    async signIn(username, scopes) {
      const redirectUri = registered.redirectUris![0]!;
      const pkce = await new CryptoProvider().generatePkceCodes();
      const authUri = await app.getAuthCodeUrl({ scopes, redirectUri, codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' });
      const callback = await completeSignIn(env, authUri, username);
      return run(() => app.acquireTokenByCode({ code: callback.searchParams.get('code')!, scopes, redirectUri, codeVerifier: pkce.verifier }));
    },
    async silent(scopes, options = {}) {
      const account = await accountOf(options.username);
      if (!account) return { ok: false, error: 'no_account' };
      return run(() => app.acquireTokenSilent({ scopes, account, forceRefresh: options.forceRefresh === true }));
    },
    clientCredentials: (scopes) => run(() => app.acquireTokenByClientCredential({ scopes })),
    onBehalfOf: (assertion, scopes) => run(() => app.acquireTokenOnBehalfOf({ oboAssertion: assertion, scopes })),
    exportCache: async () => app.getTokenCache().serialize(),
    importCache: async (json) => app.getTokenCache().deserialize(json),
    async close() {},
  };
}

/** Debian's python3 (where apt puts python3-msal) unless only another python3 on PATH has msal. */
const PYTHON = ['/usr/bin/python3', 'python3'].find((python) => (python === 'python3' || existsSync(python))
  && spawnSync(python, ['-c', 'import msal'], { stdio: 'ignore' }).status === 0) ?? 'python3';
const PEER_SCRIPT = fileURLToPath(new URL('./msal_peer.py', import.meta.url));

/** MSAL Python's ConfidentialClientApplication with a SerializableTokenCache, in a child process. */
export async function msalPythonPeer(env: Interop, options: PeerOptions = {}): Promise<Peer> {
  const registered = env.op.clients[options.client ?? 'webApp'];
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, [PEER_SCRIPT], {
    env: {
      ...process.env, REQUESTS_CA_BUNDLE: env.front.caFile, INTEROP_FRONT_PORT: String(env.port),
      INTEROP_MAPPED_HOSTS: JSON.stringify([...MAPPED_HOSTS]), PYTHONDONTWRITEBYTECODE: '1',
    },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString('utf8')).slice(-4000); });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const call = async (command: Record<string, unknown>): Promise<Record<string, unknown>> => {
    child.stdin.write(`${JSON.stringify(command)}\n`);
    const next = await lines.next();
    if (next.done) throw new Error(`MSAL Python exited: ${stderr}`);
    return JSON.parse(next.value) as Record<string, unknown>;
  };
  const outcome = (answer: Record<string, unknown>): Outcome => ({
    ok: answer.ok === true, token: answer.token as string | undefined, error: answer.error as string | undefined, description: answer.error_description as string | undefined,
  });
  const init = await call({ cmd: 'init', client_id: registered.clientId, secret: registered.clientSecret, authority: env.authority });
  if (init.ok !== true) throw new Error(`MSAL Python init failed: ${JSON.stringify(init)} ${stderr}`);
  return {
    name: 'msal-python',
    async signIn(username, scopes) {
      const redirectUri = registered.redirectUris![0]!;
      const started = await call({ cmd: 'initiate', scopes, redirect_uri: redirectUri });
      if (started.ok !== true) return outcome(started);
      const flow = started.flow as { auth_uri: string };
      const callback = await completeSignIn(env, flow.auth_uri, username);
      return outcome(await call({ cmd: 'redeem', flow, params: Object.fromEntries(callback.searchParams), scopes }));
    },
    silent: async (scopes, options = {}) => outcome(await call({ cmd: 'silent', scopes, username: options.username ?? null, force_refresh: options.forceRefresh === true })),
    clientCredentials: async (scopes) => outcome(await call({ cmd: 'client_credentials', scopes })),
    onBehalfOf: async (assertion, scopes) => outcome(await call({ cmd: 'obo', assertion, scopes })),
    exportCache: async () => (await call({ cmd: 'dump' })).cache as string,
    async importCache(json) {
      await call({ cmd: 'load', cache: json });
    },
    async close() {
      child.stdin.end();
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** Whether MSAL Python can be run here (Debian's python3-msal; `.ci/run` installs it). */
export const pythonMsalAvailable = (): boolean => spawnSync(PYTHON, ['-c', 'import msal'], { stdio: 'ignore' }).status === 0;

/** A serialized cache whose access tokens have all expired (what time would do), the rest untouched. */
export function expireAccessTokens(json: string): string {
  const cache = JSON.parse(json) as { AccessToken?: Record<string, { expires_on: string; extended_expires_on?: string }> };
  const past = String(Math.floor(Date.now() / 1000) - 10);
  for (const at of Object.values(cache.AccessToken ?? {})) {
    at.expires_on = past;
    if (at.extended_expires_on !== undefined) at.extended_expires_on = past;
  }
  return JSON.stringify(cache);
}
