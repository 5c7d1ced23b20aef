import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import { AuthError, type BodyFailureReason } from '../errors.js';

/**
 * Parses an `application/x-www-form-urlencoded` body into a null-prototype object: a field named
 * `__proto__` (or `constructor`) is an ordinary field, never the object's prototype. A name sent
 * more than once gives an array of its values, in order.
 *
 * @example
 * ```ts
 * parseUrlencoded('state=abc&__proto__=x'); // { state: 'abc', __proto__: 'x' } (own properties, no prototype)
 * ```
 * @see https://url.spec.whatwg.org/#application/x-www-form-urlencoded
 */
export function parseUrlencoded(body: string): Record<string, string | string[]> {
  const form = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(body)) {
    const previous = Object.hasOwn(form, name) ? form[name] : undefined;
    form[name] = previous === undefined ? value : ([] as string[]).concat(previous, value);
  }
  return form;
}

/** Largest urlencoded body read (form_post callbacks and logout tokens are a few KB). */
export const MAX_FORM_BYTES = 16_384;
/** Most fields in a form body (a callback has at most a handful). */
export const MAX_FORM_FIELDS = 50;

/**
 * The urlencoded body of a POST the web layer reads (form_post callbacks, back-channel logout),
 * read with `raw-body`: at most {@link MAX_FORM_BYTES} (413 past it, before reading when
 * Content-Length says so) and {@link MAX_FORM_FIELDS} fields, UTF-8, no content encoding.
 * A body a body parser already read (`parsed`, an object) is taken as it is; a body of another
 * type is an empty form. After a refusal the rest of the body is drained, not the connection
 * reset, so the client gets its 4xx.
 */
export async function readForm(stream: IncomingMessage, parsed?: unknown): Promise<Record<string, unknown>> {
  if (parsed && typeof parsed === 'object' && !Buffer.isBuffer(parsed)) return parsed as Record<string, unknown>;
  const type = contentType(stream.headers['content-type']);
  if (type.mediaType !== 'application/x-www-form-urlencoded') return {};
  const encoding = (stream.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') throw refused(415, 'body_unsupported', 'the request body\'s content encoding is not supported');
  if (type.charset !== undefined && type.charset !== 'utf-8' && type.charset !== 'utf8') throw refused(415, 'body_unsupported', 'the request body must be UTF-8');
  if (stream.readableEnded) return {};
  let text: string;
  try {
    text = await getRawBody(stream, { length: stream.headers['content-length'], limit: MAX_FORM_BYTES, encoding: 'utf-8' });
  } catch (err) {
    stream.resume();
    const status = (err as { status?: unknown }).status;
    if (status === 413) throw refused(413, 'body_too_large', 'the request body is too large');
    throw refused(400, 'body_unreadable', 'the request body could not be read');
  }
  const form = parseUrlencoded(text);
  if (Object.keys(form).length > MAX_FORM_FIELDS) throw refused(413, 'body_too_large', 'the request body has too many fields');
  return form;
}

function refused(status: number, reason: BodyFailureReason, description: string): AuthError {
  return new AuthError('invalid_request', { status, reason, description });
}

/** The media type and charset of a Content-Type header, lower case. */
function contentType(header: string | undefined): { mediaType: string; charset: string | undefined } {
  const [mediaType = '', ...parameters] = (header ?? '').toLowerCase().split(';').map((part) => part.trim());
  const charset = parameters.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/^"|"$/g, '');
  return { mediaType, charset };
}
