/**
 * `npm run cli`: a command-line app (a public client) that signs its user in with the device-code
 * flow (or `--interactive`: the system browser), prints their name, and keeps them signed in
 * between runs in an MSAL-format cache file: the second run signs in silently.
 *
 *   npm run cli                   device code; signs in silently from the cache on later runs
 *   npm run cli -- --interactive  the browser flow (auth code + PKCE on http://127.0.0.1:<port>/)
 *   npm run cli -- --sign-out     forgets the user (removes them from the cache file)
 *
 * Environment:
 *   AUTHORITY        the OP (issuer URL, or https://login.microsoftonline.com/<tenant>/v2.0).
 *                    Unset: DEMO MODE — the dev OP is started in this process on DEV_OP_PORT
 *                    (default 4100), and the test helper that plays the browser completes the
 *                    user's step as DEMO_USER (alice). A new dev OP per run does not know the
 *                    previous run's refresh token: once the access token expires (1 h) the demo
 *                    asks again. For the full experience run `npm run dev-op` and set
 *                    AUTHORITY=http://127.0.0.1:4000/7d1f0a3e-2c4b-4e8a-9f61-5a0c3b2d1e47/v2.0
 *   CLIENT_ID        the public client's id (default `cli`, the dev OP's)
 *   SCOPES           space-separated (default `api://orders/Orders.Read`)
 *   AUTHFLOW_CACHE   the cache file (default ~/.authflow-cli/cache.json)
 */
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AuthError, FileTokenCacheStore, PublicClient, type TokenResult } from '../../src/index.js';
import { startDevOp, type DevOp } from '../dev-op/index.js';

const args = new Set(process.argv.slice(2));
const interactive = args.has('--interactive');
const cachePath = process.env['AUTHFLOW_CACHE'] ?? join(homedir(), '.authflow-cli', 'cache.json');
const scopes = (process.env['SCOPES'] ?? 'api://orders/Orders.Read').split(/\s+/).filter(Boolean);
const demoUser = process.env['DEMO_USER'] ?? 'alice';

let op: DevOp | undefined;
let authority = process.env['AUTHORITY'];
if (!authority) {
  op = await startDevOp({ port: Number(process.env['DEV_OP_PORT'] ?? 4100) });
  authority = op.issuer;
  console.log(`[demo] no AUTHORITY set: started the dev OP at ${op.issuer}`);
}
const loopbackHttp = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(authority);

const client = new PublicClient({
  clientId: process.env['CLIENT_ID'] ?? 'cli',
  authority,
  cacheStore: new FileTokenCacheStore(cachePath),
  // Plain http only for an OP on this machine (the dev OP); never for a real one.
  allowInsecureRequests: loopbackHttp,
  ...(op ? { authorityType: 'entra' as const } : {}),
});

// Ctrl-C cancels a sign-in in progress (the flows reject with `flow_cancelled`).
const cancel = new AbortController();
process.once('SIGINT', () => cancel.abort());

try {
  if (args.has('--sign-out')) {
    for (const account of await client.getAccounts()) {
      await client.removeAccount(account);
      console.log(`Signed ${account.username} out (removed from ${cachePath}).`);
    }
  } else {
    const result = (await signInSilently()) ?? (interactive ? await signInWithBrowser() : await signInWithDeviceCode());
    const account = result.account;
    console.log(`Hello, ${account?.name ?? account?.username ?? 'unknown user'}! (${account?.username}; access to ${result.scopes.join(' ')} until ${result.expiresOn.toISOString()})`);
  }
} catch (err) {
  if (err instanceof AuthError) {
    console.error(`Sign-in failed: ${err.code}: ${err.description}${err.correlationId ? ` (correlation id ${err.correlationId})` : ''}`);
    process.exitCode = 1;
  } else {
    throw err;
  }
} finally {
  await op?.close();
}

/** The cached user, if any: a cached token or a refresh, no interaction. */
async function signInSilently(): Promise<TokenResult | undefined> {
  const [account] = await client.getAccounts();
  if (!account) return undefined;
  try {
    const result = await client.acquireTokenSilent({ scopes, account });
    console.log(`Signed in silently from ${cachePath} (${result.fromCache ? 'from the cache' : 'refreshed'}).`);
    return result;
  } catch (err) {
    if (err instanceof AuthError && err.interactionRequired) {
      console.log(`The cached sign-in of ${account.username} cannot be used any more (${err.code}): signing in again.`);
      return undefined;
    }
    throw err;
  }
}

async function signInWithDeviceCode(): Promise<TokenResult> {
  const flow = await client.initiateDeviceFlow({ scopes });
  console.log(flow.message);
  if (op) {
    const demoOp = op;
    console.log(`[demo] playing the user on the other device: signing in as ${demoUser} through the dev OP's pages...`);
    setTimeout(() => {
      demoOp.signIn(flow.verificationUriComplete ?? flow.verificationUri, { username: demoUser }).catch((err: unknown) => {
        console.error(`[demo] the simulated user step failed: ${(err as Error).message}`);
      });
    }, 1500).unref();
  }
  return client.acquireTokenByDeviceFlow(flow, {
    signal: cancel.signal,
    onPending: (info) => { if (info.reason === 'slow_down') console.log(`(the OP asked to poll more slowly: every ${info.interval} s)`); },
  });
}

async function signInWithBrowser(): Promise<TokenResult> {
  return client.acquireTokenInteractive({
    scopes,
    signal: cancel.signal,
    openBrowser: async (url) => {
      if (op) {
        // [demo] the dev OP's test helper stands in for the browser and the user.
        console.log(`[demo] playing the browser: signing in as ${demoUser}...`);
        const callback = await op.signIn(url, { username: demoUser });
        await (await fetch(callback)).text();
        return;
      }
      console.log(`Opening your browser to sign in. If it does not open, visit:\n${url}`);
      openSystemBrowser(url);
    },
  });
}

/** Best effort, without dependencies: the platform's opener. */
function openSystemBrowser(url: string): void {
  const [command, ...prefix] = process.platform === 'darwin' ? ['open'] : process.platform === 'win32' ? ['cmd', '/c', 'start', '""'] : ['xdg-open'];
  try {
    const child = spawn(command!, [...prefix, url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // The URL is printed above.
  }
}
