/**
 * A small, scriptable OpenID Provider for the RP conformance suite: plain node:http + jose, code
 * flow only. It answers discovery, authorize (no login UI: it redirects straight back with code,
 * state and the RFC 9207 `iss`), token (client_secret_basic or _post, PKCE S256 checked), JWKS and
 * userinfo, counts every request, and misbehaves exactly as one OpenID Foundation RP test does when
 * told to with `misbehave(testId)`.
 *
 * @see https://openid.net/certification/rp_testing/ (RP test ids), https://www.rfc-editor.org/rfc/rfc9207
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

/** The misbehaviours this OP knows, named by the RP test they reproduce. */
export type Misbehaviour =
  | 'rp-nonce-invalid'
  | 'rp-id_token-issuer-mismatch'
  | 'rp-id_token-aud'
  | 'rp-id_token-sub'
  | 'rp-id_token-iat'
  | 'rp-id_token-sig-none'
  | 'rp-id_token-bad-sig-rs256'
  | 'rp-id_token-kid-absent-single-jwks'
  | 'rp-id_token-kid-absent-multiple-jwks'
  | 'rp-discovery-issuer-not-matching-config'
  | 'rp-userinfo-bad-sub-claim'
  | 'mix-up-iss'
  /** Not an RP test id: the ID token's `iat` is a year in the future (security review, finding 10). */
  | 'iat-future'
  /** Not an RP test id: each ID token is signed by a fresh key with a random `kid` the JWKS never publishes (finding 12). */
  | 'unknown-kid';

export interface HostileOpOptions {
  clientId: string;
  clientSecret: string;
  /** Redirect URIs the client registered. */
  redirectUris: readonly string[];
}

export interface HostileOpCounters {
  discovery: number;
  authorize: number;
  token: number;
  jwks: number;
  userinfo: number;
}

export interface HostileOp {
  /** `http://127.0.0.1:<port>`: the configured authority of the clients under test. */
  readonly issuer: string;
  readonly counters: HostileOpCounters;
  /** How the client authenticated at the token endpoint, one entry per token request. */
  readonly clientAuthMethods: Array<'client_secret_basic' | 'client_secret_post'>;
  /** From now on, behave like the OP of this RP test (undefined: behave). */
  misbehave(testId: Misbehaviour | undefined): void;
  /** Key rotation: sign with a fresh key from now on; JWKS publishes it alone, or with the old one. */
  rotateSigningKey(options?: { keepOld?: boolean }): Promise<void>;
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  nonce: string | undefined;
  codeChallenge: string | undefined;
  scope: string;
}

const SUBJECT = 'alice-subject-0001';

export async function startHostileOp(options: HostileOpOptions): Promise<HostileOp> {
  let misbehaviour: Misbehaviour | undefined;
  let signing = await newKey();
  /** A second key, published next to the signing key by `rp-id_token-kid-absent-multiple-jwks`. */
  const spare = await newKey();
  let published: SigningKey[] = [signing];
  const codes = new Map<string, PendingCode>();
  const counters: HostileOpCounters = { discovery: 0, authorize: 0, token: 0, jwks: 0, userinfo: 0 };
  const clientAuthMethods: Array<'client_secret_basic' | 'client_secret_post'> = [];
  let issuer = '';

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => json(res, 500, { error: 'server_error', error_description: String(err) }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', issuer);
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /.well-known/openid-configuration':
        counters.discovery++;
        return json(res, 200, discovery());
      case 'GET /authorize':
        counters.authorize++;
        return authorize(url.searchParams, res);
      case 'POST /token':
        counters.token++;
        return token(req, new URLSearchParams(await readBody(req)), res);
      case 'GET /jwks':
        counters.jwks++;
        return json(res, 200, { keys: jwks().map((k) => k.publicJwk) });
      case 'GET /userinfo':
      case 'POST /userinfo':
        counters.userinfo++;
        return json(res, 200, { sub: misbehaviour === 'rp-userinfo-bad-sub-claim' ? 'someone-else' : SUBJECT, name: 'Alice' });
      default:
        return json(res, 404, { error: 'not_found' });
    }
  }

  function discovery(): Record<string, unknown> {
    return {
      issuer: misbehaviour === 'rp-discovery-issuer-not-matching-config' ? `${issuer}/another-issuer` : issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      userinfo_endpoint: `${issuer}/userinfo`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'profile', 'offline_access'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      code_challenge_methods_supported: ['S256'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'name', 'preferred_username'],
      authorization_response_iss_parameter_supported: true,
    };
  }

  function jwks(): SigningKey[] {
    return misbehaviour === 'rp-id_token-kid-absent-multiple-jwks' ? [...published, spare] : published;
  }

  function authorize(params: URLSearchParams, res: ServerResponse): void {
    const redirectUri = params.get('redirect_uri') ?? '';
    if (params.get('client_id') !== options.clientId || !options.redirectUris.includes(redirectUri)) {
      return json(res, 400, { error: 'invalid_request', error_description: 'unknown client or redirect_uri' });
    }
    const back = new URL(redirectUri);
    const state = params.get('state');
    if (state !== null) back.searchParams.set('state', state);
    back.searchParams.set('iss', misbehaviour === 'mix-up-iss' ? 'https://another-op.example' : issuer);
    if (params.get('response_type') !== 'code') {
      back.searchParams.set('error', 'unsupported_response_type');
      return redirect(res, back.href);
    }
    const code = randomBytes(24).toString('base64url');
    codes.set(code, {
      clientId: options.clientId,
      redirectUri,
      nonce: params.get('nonce') ?? undefined,
      codeChallenge: params.get('code_challenge_method') === 'S256' ? params.get('code_challenge') ?? undefined : undefined,
      scope: params.get('scope') ?? 'openid',
    });
    back.searchParams.set('code', code);
    redirect(res, back.href);
  }

  async function token(req: IncomingMessage, body: URLSearchParams, res: ServerResponse): Promise<void> {
    const client = clientAuthentication(req, body);
    if (!client) return json(res, 401, { error: 'invalid_client', error_description: 'client authentication failed' });
    if (body.get('grant_type') !== 'authorization_code') return json(res, 400, { error: 'unsupported_grant_type' });
    const code = body.get('code') ?? '';
    const pending = codes.get(code);
    codes.delete(code);
    if (!pending || pending.clientId !== client || pending.redirectUri !== body.get('redirect_uri')) {
      return json(res, 400, { error: 'invalid_grant', error_description: 'unknown code or redirect_uri' });
    }
    const verifier = body.get('code_verifier');
    if (!pending.codeChallenge || !verifier || createHash('sha256').update(verifier).digest('base64url') !== pending.codeChallenge) {
      return json(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
    }
    json(res, 200, {
      access_token: randomBytes(32).toString('base64url'),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: pending.scope,
      id_token: await idToken(pending),
    });
  }

  /** The client id when the request authenticates with exactly one method (basic or post), else undefined. */
  function clientAuthentication(req: IncomingMessage, body: URLSearchParams): string | undefined {
    const header = req.headers.authorization;
    const posted = body.has('client_secret');
    if (header && posted) return undefined;
    if (header?.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(header.slice(6), 'base64').toString().split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
      if (id !== options.clientId || secret !== options.clientSecret) return undefined;
      clientAuthMethods.push('client_secret_basic');
      return id;
    }
    if (posted) {
      if (body.get('client_id') !== options.clientId || body.get('client_secret') !== options.clientSecret) return undefined;
      clientAuthMethods.push('client_secret_post');
      return options.clientId;
    }
    return undefined;
  }

  async function idToken(pending: PendingCode): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: issuer,
      sub: SUBJECT,
      aud: pending.clientId,
      exp: now + 600,
      iat: now,
      nonce: pending.nonce,
      name: 'Alice',
      preferred_username: 'alice@example.com',
    };
    switch (misbehaviour) {
      case 'rp-nonce-invalid': claims.nonce = 'a-nonce-this-client-never-sent'; break;
      case 'rp-id_token-issuer-mismatch': claims.iss = 'https://another-op.example'; break;
      case 'rp-id_token-aud': claims.aud = 'another-client'; break;
      case 'rp-id_token-sub': delete claims.sub; break;
      case 'rp-id_token-iat': delete claims.iat; break;
      case 'iat-future': claims.iat = now + 365 * 24 * 3600; break;
      default: break;
    }
    if (misbehaviour === 'rp-id_token-sig-none') {
      const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
      return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
    }
    const kidAbsent = misbehaviour === 'rp-id_token-kid-absent-single-jwks' || misbehaviour === 'rp-id_token-kid-absent-multiple-jwks';
    const key = misbehaviour === 'unknown-kid' ? await newKey() : signing;
    const jwt = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(kidAbsent ? {} : { kid: key.kid }) })
      .sign(key.privateKey);
    if (misbehaviour !== 'rp-id_token-bad-sig-rs256') return jwt;
    const [header, payload, signature] = jwt.split('.') as [string, string, string];
    const bytes = Buffer.from(signature, 'base64url');
    for (let i = 0; i < 8; i++) bytes[i] = bytes[i]! ^ 0xff;
    return `${header}.${payload}.${bytes.toString('base64url')}`;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    counters,
    clientAuthMethods,
    misbehave(testId) {
      misbehaviour = testId;
    },
    async rotateSigningKey({ keepOld = false } = {}) {
      const next = await newKey();
      published = keepOld ? [...published, next] : [next];
      signing = next;
    },
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((err) => (err ? reject(err) : resolve()));
    }),
  };
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomBytes(8).toString('hex');
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store' }).end();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 64_000) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
