/**
 * (9) Cache hits of the web-API flows, authflow vs msal-node, in one process started with
 * NODE_EXTRA_CA_CERTS so that msal-node trusts the dev OP's https front: On-Behalf-Of (the orders
 * API exchanging alice's token for inventory) and client credentials (the daemon asking
 * `api://inventory/.default`). Each library makes its first request to the OP for real, then every
 * call must be a cache hit. Both keep their cache in memory, each library's default for these flows.
 *
 * Prints one JSON line: the checks, then ops/s per round for each flow. Exits when stdin ends.
 */
import { ConfidentialClientApplication, ProtocolMode } from '@azure/msal-node';
import { ConfidentialClient } from '../../src/index.js';
import { alternate, env, opsPerSecond, stdinLines } from '../common.js';

export interface AppTokensWorkerConfig {
  issuer: string;
  msal: { authority: string; knownAuthorities: string[]; metadata: Record<string, unknown> };
  obo: { clientId: string; secret: string; assertion: string; scopes: string[] };
  daemon: { clientId: string; secret: string; scopes: string[] };
  rounds: number;
  roundMs: number;
}

export interface AppTokensWorkerResult {
  checks: { authflowFromCache: boolean[]; msalFromCache: boolean[] };
  obo: { authflow: number[]; msal: number[] };
  clientCredentials: { authflow: number[]; msal: number[] };
}

const config = JSON.parse(env('APP_TOKENS_CONFIG')) as AppTokensWorkerConfig;

const authflowFor = (clientId: string, secret: string): ConfidentialClient => new ConfidentialClient({
  clientId, authority: config.issuer, credential: { secret }, allowInsecureRequests: true, authorityType: 'entra',
});
const msalFor = (clientId: string, secret: string): ConfidentialClientApplication => new ConfidentialClientApplication({
  auth: {
    clientId,
    clientSecret: secret,
    authority: config.msal.authority,
    knownAuthorities: config.msal.knownAuthorities,
    authorityMetadata: JSON.stringify(config.msal.metadata),
  },
  system: { protocolMode: ProtocolMode.OIDC },
});

const { obo, daemon } = config;
const [oboA, oboM] = [authflowFor(obo.clientId, obo.secret), msalFor(obo.clientId, obo.secret)];
const [ccA, ccM] = [authflowFor(daemon.clientId, daemon.secret), msalFor(daemon.clientId, daemon.secret)];
const calls = {
  oboA: () => oboA.acquireTokenOnBehalfOf({ userAssertion: obo.assertion, scopes: obo.scopes }),
  oboM: () => oboM.acquireTokenOnBehalfOf({ oboAssertion: obo.assertion, scopes: obo.scopes }),
  ccA: () => ccA.acquireTokenForClient({ scopes: daemon.scopes }),
  ccM: () => ccM.acquireTokenByClientCredential({ scopes: daemon.scopes }),
};

// The first call of each goes to the OP; the second must come from the cache.
const checks: AppTokensWorkerResult['checks'] = { authflowFromCache: [], msalFromCache: [] };
for (const [a, m] of [[calls.oboA, calls.oboM], [calls.ccA, calls.ccM]] as const) {
  await a();
  await m();
  checks.authflowFromCache.push((await a()).fromCache);
  checks.msalFromCache.push((await m())?.fromCache === true);
}

for (const fn of Object.values(calls)) await opsPerSecond(fn, 300);
const oboRuns = await alternate(config.rounds, {
  authflow: () => opsPerSecond(calls.oboA, config.roundMs),
  msal: () => opsPerSecond(calls.oboM, config.roundMs),
});
const ccRuns = await alternate(config.rounds, {
  authflow: () => opsPerSecond(calls.ccA, config.roundMs),
  msal: () => opsPerSecond(calls.ccM, config.roundMs),
});

const result: AppTokensWorkerResult = { checks, obo: oboRuns, clientCredentials: ccRuns };
process.stdout.write(`${JSON.stringify(result)}\n`);
for await (const _ of stdinLines()) { /* wait for the parent to close stdin */ }
