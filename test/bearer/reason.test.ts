/**
 * The RFC 6750 challenge is chosen from `AuthError.reason`, never from the description's wording:
 * no credentials at all → no error attribute; every other refusal (a token missing a claim
 * included, whose description also starts with "missing") → `error="invalid_token"`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError, type BearerFailureReason } from '../../src/errors.js';
import { BearerGuard } from '../../src/web/bearerGuard.js';

const guard = new BearerGuard({ authority: 'https://op.example.com', audience: 'api://orders' });
const request = { method: 'GET', url: '/orders', headers: {} };

describe('bearer challenge by reason', () => {
  const cases: Array<[BearerFailureReason, string, RegExp]> = [
    ['missing_token', 'missing: send Authorization: Bearer <token>', /^Bearer realm="api"$/],
    ['missing_claim', 'missing_claim: the token has no "tid" claim', /error="invalid_token"/],
    ['malformed', 'malformed: whatever the words', /error="invalid_token"/],
    ['expired', 'expired: the token has expired', /error="invalid_token"/],
  ];
  for (const [reason, description, challenge] of cases) {
    it(`${reason} → ${challenge}`, () => {
      const result = guard.errorResult(request, new AuthError('token_invalid', { reason, description }));
      assert.ok(result?.kind === 'respond');
      assert.equal(result.status, 401);
      assert.match(result.headers['www-authenticate']!, challenge);
    });
  }

  it('a missing header is refused with reason missing_token, a non-Bearer one with malformed', async () => {
    await assert.rejects(guard.authenticate(undefined), (err: AuthError) => err.reason === 'missing_token');
    await assert.rejects(guard.authenticate('Basic abc'), (err: AuthError) => err.reason === 'malformed');
  });

  it('toJSON carries the reason', () => {
    assert.equal(new AuthError('token_invalid', { reason: 'expired' }).toJSON().reason, 'expired');
  });
});
