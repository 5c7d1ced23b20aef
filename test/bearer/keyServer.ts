/**
 * A tiny OP of our own for bearer tests: serves a discovery document and a JWKS for keys the test
 * holds, so tokens differing from a valid one in exactly one claim can be minted. Counts requests.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { BearerFetch } from '../../src/bearer/index.js';

export interface KeyServer {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** The issuer the discovery document announces (`${base}/oidc` unless overridden). */
  issuer: string;
  /** The kid of the current key (changes with `rotate`). */
  readonly kid: string;
  /** Key rotation at the OP: a new key pair and kid replace the old ones in the JWKS (the old key is gone). */
  rotate(): Promise<void>;
  stats: { discovery: number; jwks: number };
  /** Signs `claims` (RS256, `typ: JWT`, this server's kid) with the server's key, or `options.key`. */
  mint(claims: JWTPayload, options?: { header?: Record<string, unknown>; key?: CryptoKey }): Promise<string>;
  close(): Promise<void>;
}

export interface KeyServerOptions {
  /** Issuer in the discovery document (e.g. Entra's `{tenantid}` template). */
  issuer?: string;
  /** jwks_uri in the discovery document. Default `${base}/oidc/keys`. */
  jwksUri?: string;
}

export async function startKeyServer(options: KeyServerOptions = {}): Promise<KeyServer> {
  let { privateKey, publicKey } = await generateKeyPair('RS256');
  let kid = randomBytes(8).toString('base64url');
  let jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const stats = { discovery: 0, jwks: 0 };
  let base = '';
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const json = (body: unknown): void => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path.endsWith('/.well-known/openid-configuration')) {
      stats.discovery += 1;
      return json({ issuer: options.issuer ?? `${base}/oidc`, jwks_uri: options.jwksUri ?? `${base}/oidc/keys` });
    }
    if (path.endsWith('/keys')) {
      stats.jwks += 1;
      return json({ keys: [jwk] });
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    issuer: options.issuer ?? `${base}/oidc`,
    get kid() {
      return kid;
    },
    async rotate() {
      ({ privateKey, publicKey } = await generateKeyPair('RS256'));
      kid = randomBytes(8).toString('base64url');
      jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    },
    stats,
    mint: (claims, o = {}) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT', ...o.header }).sign(o.key ?? privateKey),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A fetch that sends `https://<host>/...` to the key server instead (to stand in for login.microsoftonline.com). */
export function routeHostTo(host: string, server: KeyServer): BearerFetch {
  return (url, init) => fetch(url.replace(`https://${host}`, server.base), init);
}

/** `{ alg, kid, ... }.{ claims }.<signature>` without signing (shape-only forgeries). */
export function unsignedJwt(header: Record<string, unknown>, claims: Record<string, unknown>, signature = ''): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${enc(header)}.${enc(claims)}.${signature}`;
}
