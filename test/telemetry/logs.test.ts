/**
 * Log lines as one object: pino as is, `console` adapted to one JSON object per line, and the
 * active span's trace_id/span_id added when there is one (never otherwise).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { trace } from '@opentelemetry/api';
import { AuthError, ConfidentialClient, type Logger } from '../../src/index.js';
import { isConsole, structuredLogger } from '../../src/telemetry/logs.js';
import { installTelemetry } from '../helpers/otel.js';

function sink(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const clientWith = (logger: unknown): ConfidentialClient => new ConfidentialClient({
  clientId: 'c', authority: 'http://127.0.0.1:9/tenant/v2.0', credential: { secret: 's' }, allowInsecureRequests: true, logger: logger as Logger,
});

describe('telemetry: log lines', () => {
  before(() => installTelemetry());

  it('tells a console from a pino-style logger', () => {
    const cases: Array<[unknown, boolean]> = [
      [console, true], [new Console(process.stdout), true], [pino({ enabled: false }), false],
      [{ debug() {}, info() {}, warn() {}, error() {} }, false], [null, false], ['console', false],
    ];
    for (const [value, expected] of cases) assert.equal(isConsole(value), expected, String(value));
  });

  it('console: one JSON object per line, level and message inside', () => {
    const out = sink();
    const client = clientWith(new Console({ stdout: out.stream, stderr: out.stream }));
    client.config.logger.warn({ code: 'op_unreachable', correlationId: 'c-1' }, 'authflow: OP request failed');
    client.config.logger.debug({ endpoint: '/token', error: new Error('boom') });
    assert.deepEqual(out.lines(), [
      { level: 'warn', msg: 'authflow: OP request failed', code: 'op_unreachable', correlationId: 'c-1' },
      { level: 'debug', msg: '', endpoint: '/token', error: 'boom' },
    ]);
  });

  it('pino: its own line, with trace_id and span_id only while a span is active', () => {
    const out = sink();
    const client = clientWith(pino({ level: 'debug', base: null, timestamp: false }, out.stream));
    client.config.logger.warn({ code: 'x', correlationId: 'c-2' }, 'outside');
    let ids: { traceId: string; spanId: string } | undefined;
    trace.getTracer('test').startActiveSpan('test', (span) => {
      ids = span.spanContext();
      client.config.logger.error({ code: 'y', correlationId: 'c-3' }, 'inside');
      span.end();
    });
    const [outside, inside] = out.lines();
    assert.deepEqual(outside, { level: 40, code: 'x', correlationId: 'c-2', msg: 'outside' });
    assert.deepEqual(inside, { level: 50, code: 'y', correlationId: 'c-3', trace_id: ids!.traceId, span_id: ids!.spanId, msg: 'inside' });
  });

  it('wraps a logger once, however often it is passed on (bearer options get the client\'s)', () => {
    const once = structuredLogger(pino({ enabled: false }));
    assert.equal(structuredLogger(once), once);
  });

  it('still refuses a logger without the four methods', () => {
    assert.throws(() => clientWith({ info() {}, warn() {} }), (err: unknown) => err instanceof AuthError && err.code === 'invalid_config' && /logger/.test(err.description));
  });
});
