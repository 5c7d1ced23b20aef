import { request as httpRequest } from 'node:http';

/** What {@link postRaw} answers. */
export interface RawAnswer { status: number; headers: Record<string, unknown>; text: string }

/**
 * A raw urlencoded POST to 127.0.0.1:`port` that keeps sending after the answer would be sent:
 * what a client that ignores 413 does (supertest stops at the answer).
 */
export function postRaw(port: number, path: string, body: Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
