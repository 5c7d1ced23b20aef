/**
 * Entra's real host names, mapped onto the dev OP on loopback: an https front (bench/tls.ts, a
 * self-signed certificate) receives every request for a mapped host, tells the dev OP which host
 * was asked for (X-Forwarded-Host), and the dev OP (started with `publicOrigin`) answers as that
 * host. Nothing leaves loopback. authflow reaches it through a replaced global `fetch` (this test
 * process only), msal-node through its `networkClient`, MSAL Python through its `http_client`
 * (test/interop/msal_peer.py).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { checkServerIdentity } from 'node:tls';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { ENTRA_CLOUDS } from '../../src/cache/environments.js';

/** Every Entra host name: requests for them go to the front. */
export const MAPPED_HOSTS: ReadonlySet<string> = new Set(ENTRA_CLOUDS.flatMap((cloud) => cloud.aliases));

/** Where mapped requests go: the front's loopback port and the CA that signed its certificate. */
export interface FrontAddress {
  port: number;
  caFile: string;
}

interface RawResponse { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** One https request for a mapped URL, sent to the front with the original Host header. */
export function mappedRequest(front: FrontAddress, url: URL, method: string, headers: Record<string, string>, body?: Buffer, signal?: AbortSignal | null): Promise<RawResponse> {
  const ca = readFileSync(front.caFile, 'utf8');
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port: front.port, method, path: `${url.pathname}${url.search}`, ca,
      // The certificate names 127.0.0.1 (where the front is), not the mapped host in the Host header.
      checkServerIdentity: (_host, cert) => checkServerIdentity('127.0.0.1', cert),
      headers: { ...headers, host: url.host, ...(body ? { 'content-length': String(body.length) } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    signal?.addEventListener('abort', () => req.destroy(new Error('aborted')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Replaces `globalThis.fetch` so requests for Entra hosts reach the front; returns the restore function. */
export function mapGlobalFetch(front: FrontAddress): () => void {
  const original = globalThis.fetch;
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (!MAPPED_HOSTS.has(url.hostname)) return original(input, init);
    const headers = Object.fromEntries(new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).entries());
    const body = init?.body == null ? undefined : Buffer.from(await new Response(init.body).arrayBuffer());
    const raw = await mappedRequest(front, url, init?.method ?? 'GET', headers, body, init?.signal);
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(raw.headers)) {
      for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, v);
    }
    const empty = raw.status === 204 || raw.status === 304;
    return new Response(empty ? null : new Uint8Array(raw.body), { status: raw.status, headers: responseHeaders });
  };
  return () => {
    globalThis.fetch = original;
  };
}

/** msal-node's network module over the same mapping (it never reaches the internet either). */
export function msalNetworkClient(front: FrontAddress): INetworkModule {
  const send = async <T>(method: string, url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> => {
    const target = new URL(url);
    if (!MAPPED_HOSTS.has(target.hostname)) throw new Error(`msal-node asked for an unmapped host: ${target.hostname}`);
    const raw = await mappedRequest(front, target, method, { ...(options?.headers ?? {}) }, options?.body ? Buffer.from(options.body) : undefined);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    return { status: raw.status, headers, body: JSON.parse(raw.body.toString('utf8') || '{}') as T };
  };
  return {
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>('GET', url, options),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>('POST', url, options),
  };
}
