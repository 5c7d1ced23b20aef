/** Bearer validations counted by outcome, and verified-token cache hits, for tokens the dev OP issued. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createBearerValidator } from '../../src/index.js';
import { ATTR, METRIC } from '../../src/telemetry/names.js';
import { clientFor, signIn, startDevOp, type DevOp } from '../helpers/op.js';
import { installTelemetry, type Telemetry } from '../helpers/otel.js';

describe('telemetry: bearer validations', () => {
  let op: DevOp;
  let otel: Telemetry;
  before(async () => {
    otel = installTelemetry();
    op = await startDevOp();
  });
  after(() => op.close());

  it('counts valid and refused tokens (with the code) and verified-token cache hits', async () => {
    const token = (await signIn(op, clientFor(op, 'webApp'), { partition: 'p-bearer' })).accessToken;
    const validate = createBearerValidator({ authority: op.issuer, audience: 'api://orders', scopes: ['Orders.Read'], allowInsecureRequests: true });
    otel.reset();
    await validate(token);
    await validate(token);
    const [header, payload, signature] = token.split('.');
    const tampered = `${header}.${payload}.${signature!.slice(0, -4)}AAAA`;
    await assert.rejects(validate(tampered));
    await assert.rejects(validate('not a jwt'));
    assert.equal(await otel.count(METRIC.bearerValidations, { [ATTR.outcome]: 'valid' }), 2);
    assert.equal(await otel.count(METRIC.bearerValidations, { [ATTR.outcome]: 'refused', [ATTR.errorCode]: 'token_invalid' }), 2);
    assert.equal(await otel.count(METRIC.bearerCacheHits), 1);
  });
});
