/**
 * Key material for the development OP: RSA signing keys (as private JWKs for oidc-provider)
 * and a self-signed X.509 certificate for the `ordersCert` client (private_key_jwt).
 *
 * Node has no certificate generator, so {@link selfSignedCertificate} DER-encodes a minimal
 * X.509 v3 certificate by hand (RSA 2048, sha256WithRSAEncryption, CN only); Node's own
 * `X509Certificate` parses it back, which is how the result is checked.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';

/** A private RSA JWK usable in oidc-provider's `jwks` configuration. */
export interface SigningJwk {
  kty: 'RSA';
  kid: string;
  alg: 'RS256';
  use: 'sig';
  n: string;
  e: string;
  d: string;
  p: string;
  q: string;
  dp: string;
  dq: string;
  qi: string;
}

/** Generates a fresh RS256 signing key with a random `kid`. */
export function generateSigningKey(): SigningJwk {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return {
    kty: 'RSA',
    kid: randomBytes(12).toString('base64url'),
    alg: 'RS256',
    use: 'sig',
    n: String(jwk.n), e: String(jwk.e), d: String(jwk.d), p: String(jwk.p), q: String(jwk.q),
    dp: String(jwk.dp), dq: String(jwk.dq), qi: String(jwk.qi),
  };
}

/** An RSA key pair with a self-signed certificate, in PEM and JWK forms. */
export interface CertificateCredential {
  /** PKCS#8 PEM private key. */
  privateKey: string;
  /** X.509 PEM certificate. */
  certificate: string;
  /** Public JWK with `kid`, `x5c` and `x5t#S256`, for client metadata `jwks`. */
  publicJwk: Record<string, string | string[]>;
}

// --- minimal DER encoder -------------------------------------------------------------------

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let l = length; l > 0; l >>= 8) bytes.unshift(l & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const seq = (...c: Buffer[]): Buffer => der(0x30, ...c);
const set = (...c: Buffer[]): Buffer => der(0x31, ...c);
const nul = (): Buffer => Buffer.from([0x05, 0x00]);

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [40 * (parts[0] ?? 0) + (parts[1] ?? 0)];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let v = part >> 7; v > 0; v >>= 7) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

/** A DER INTEGER for unsigned big-endian bytes: minimal (no leading zero bytes), 0x00 in front when the high bit is set. */
function positiveInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const minimal = bytes.subarray(start);
  return der(0x02, (minimal[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), minimal]) : minimal);
}

function utcTime(date: Date): Buffer {
  const s = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return der(0x17, Buffer.from(s, 'ascii'));
}

function name(commonName: string): Buffer {
  return seq(set(seq(oid('2.5.4.3'), der(0x0c, Buffer.from(commonName, 'utf8')))));
}

/**
 * Creates an RSA key pair and a self-signed certificate for `commonName`, valid for one year.
 */
export function selfSignedCertificate(commonName: string): CertificateCredential {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sha256WithRsa = seq(oid('1.2.840.113549.1.1.11'), nul());
  const now = new Date(Date.now() - 60_000);
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))), // version v3
    positiveInteger(randomBytes(16)),
    sha256WithRsa,
    name(commonName),
    seq(utcTime(now), utcTime(new Date(now.getTime() + 365 * 24 * 3600 * 1000))),
    name(commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certDer = seq(tbs, sha256WithRsa, der(0x03, Buffer.from([0]), signature));
  const b64 = certDer.toString('base64');
  const certificate = `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE-----\n`;
  const x509 = new X509Certificate(certificate);
  if (!x509.verify(publicKey)) throw new Error('self-signed certificate does not verify');
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificate,
    publicJwk: publicJwkWithCertificate(publicKey, certDer),
  };
}

function publicJwkWithCertificate(publicKey: KeyObject, certDer: Buffer): Record<string, string | string[]> {
  const jwk = publicKey.export({ format: 'jwk' });
  const x5tS256 = createHash('sha256').update(certDer).digest('base64url');
  return {
    kty: 'RSA', n: String(jwk.n), e: String(jwk.e), use: 'sig',
    kid: x5tS256, x5c: [certDer.toString('base64')], 'x5t#S256': x5tS256,
  };
}
