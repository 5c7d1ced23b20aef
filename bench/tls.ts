/**
 * The dev OP over https, for msal-node (which refuses http authorities): a self-signed certificate
 * valid for 127.0.0.1 and localhost, and a TLS listener that forwards every request to the dev OP.
 *
 * Node checks an IP host against the certificate's IP subjectAltNames only, so the CN-only
 * certificate of examples/dev-op/keys.ts passes for `localhost` but not for `127.0.0.1`. When
 * `openssl` is on PATH we make one with `subjectAltName=IP:127.0.0.1,DNS:localhost` (and use
 * 127.0.0.1, no name resolution); otherwise the CN=localhost one and https://localhost.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { selfSignedCertificate } from '../examples/dev-op/keys.js';

export interface HttpsFront {
  /** https://<host>:<port> */
  origin: string;
  /** The dev OP's issuer as seen through this listener. */
  issuer: string;
  /** PEM file to give child processes as NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** How the certificate was made. */
  certificate: string;
  requests: () => number;
  close(): Promise<void>;
}

function makeCertificate(dir: string): { key: string; cert: string; host: string; how: string } {
  const keyFile = join(dir, 'op-key.pem');
  const certFile = join(dir, 'op-cert.pem');
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: 'ignore' });
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), host: '127.0.0.1', how: 'openssl, SAN IP:127.0.0.1' };
  } catch {
    const generated = selfSignedCertificate('localhost');
    writeFileSync(certFile, generated.certificate);
    return { key: generated.privateKey, cert: generated.certificate, host: 'localhost', how: 'examples/dev-op/keys.ts, CN=localhost' };
  }
}

/** Options of {@link startHttpsFront}. */
export interface HttpsFrontOptions {
  /**
   * Pass the host the client asked for on as `X-Forwarded-Host` (and `X-Forwarded-Proto: https`),
   * for a dev OP started with `publicOrigin` behind a host mapping (test/interop maps Entra's host
   * names onto this listener). Default: the OP sees its own host.
   */
  forwardHost?: boolean;
}

/** Starts the https listener in front of the dev OP at `opUrl` (http://127.0.0.1:<port>). */
export async function startHttpsFront(opUrl: string, opIssuer: string, dir: string, options: HttpsFrontOptions = {}): Promise<HttpsFront> {
  const { key, cert, host, how } = makeCertificate(dir);
  const caFile = join(dir, 'op-cert.pem');
  writeFileSync(caFile, cert);
  const target = new URL(opUrl);
  let count = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer({ key, cert }, (req, res) => {
    count++;
    const forwarded = options.forwardHost ? { 'x-forwarded-host': req.headers.host ?? '', 'x-forwarded-proto': 'https' } : {};
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host, ...forwarded } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `https://${host}:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    issuer: opIssuer.replace(target.origin, origin),
    caFile,
    certificate: how,
    requests: () => count,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}
