/**
 * Options are checked when the client is built, and each refusal names the option.
 * No OP is contacted: construction does no I/O.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { AuthError, ConfidentialClient, type ConfidentialClientOptions } from '../../src/index.js';
import { selfSignedCertificate } from '../../examples/dev-op/keys.js';

const valid: ConfidentialClientOptions = {
  clientId: 'app-1',
  authority: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0',
  credential: { secret: 's3cret-value' },
};

/** Asserts construction fails with invalid_config whose message names `option`, and never echoes a secret. */
function refuses(options: unknown, option: string): void {
  assert.throws(() => new ConfidentialClient(options as ConfidentialClientOptions), (err: unknown) => {
    assert.ok(err instanceof AuthError, `expected AuthError, got ${String(err)}`);
    assert.equal(err.code, 'invalid_config');
    assert.match(err.message, new RegExp(`option "${option.replace('.', '\\.')}"`));
    assert.doesNotMatch(err.message, /s3cret-value|BEGIN/);
    return true;
  });
}

describe('ConfidentialClient options', () => {
  const cert = selfSignedCertificate('authflow-test');

  it('accepts a secret, a certificate, an OIDC issuer and Entra tenants', () => {
    assert.equal(new ConfidentialClient(valid).clientId, 'app-1');
    new ConfidentialClient({ ...valid, credential: { privateKey: cert.privateKey, certificate: cert.certificate, algorithm: 'PS256' } });
    new ConfidentialClient({ ...valid, authority: 'https://login.microsoftonline.com/common/v2.0', allowedTenants: ['t1'] });
    new ConfidentialClient({ ...valid, authority: 'http://127.0.0.1:4000/tenant/v2.0', allowInsecureRequests: true });
    const entraNoVersion = new ConfidentialClient({ ...valid, authority: 'https://login.microsoftonline.com/contoso.onmicrosoft.com' });
    assert.equal(entraNoVersion.config.authority.issuer.href, 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0');
  });

  it('refuses options that are not an object', () => refuses(undefined, 'options'));
  it('refuses a missing clientId', () => refuses({ ...valid, clientId: undefined }, 'clientId'));
  it('refuses an empty clientId', () => refuses({ ...valid, clientId: '  ' }, 'clientId'));
  it('refuses a missing credential', () => refuses({ ...valid, credential: undefined }, 'credential'));
  it('refuses a credential with neither secret nor certificate', () => refuses({ ...valid, credential: {} }, 'credential'));
  it('refuses both a secret and a certificate', () => refuses({ ...valid, credential: { secret: 's3cret-value', privateKey: cert.privateKey, certificate: cert.certificate } }, 'credential'));
  it('refuses an empty secret', () => refuses({ ...valid, credential: { secret: '' } }, 'credential.secret'));
  it('refuses an unknown secret auth method', () => refuses({ ...valid, credential: { secret: 's3cret-value', authMethod: 'client_secret_jwt' } }, 'credential.authMethod'));
  it('refuses a certificate without its private key', () => refuses({ ...valid, credential: { certificate: cert.certificate } }, 'credential.privateKey'));
  it('refuses a private key without its certificate', () => refuses({ ...valid, credential: { privateKey: cert.privateKey } }, 'credential.certificate'));
  it('refuses an unreadable private key', () => refuses({ ...valid, credential: { privateKey: 'not a pem', certificate: cert.certificate } }, 'credential.privateKey'));
  it('refuses an unreadable certificate', () => refuses({ ...valid, credential: { privateKey: cert.privateKey, certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' } }, 'credential.certificate'));
  it('refuses a certificate that does not match the private key', () => {
    const other = selfSignedCertificate('other');
    refuses({ ...valid, credential: { privateKey: cert.privateKey, certificate: other.certificate } }, 'credential.certificate');
  });
  it('refuses a non-RSA private key', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    refuses({ ...valid, credential: { privateKey: ec, certificate: cert.certificate } }, 'credential.privateKey');
  });
  it('refuses an unknown assertion algorithm', () => refuses({ ...valid, credential: { privateKey: cert.privateKey, certificate: cert.certificate, algorithm: 'HS256' } }, 'credential.algorithm'));
  it('refuses a missing authority', () => refuses({ ...valid, authority: undefined }, 'authority'));
  it('refuses a malformed authority', () => refuses({ ...valid, authority: 'login.microsoftonline.com/contoso' }, 'authority'));
  it('refuses a non-http authority', () => refuses({ ...valid, authority: 'ftp://op.example' }, 'authority'));
  it('refuses an http: authority without allowInsecureRequests', () => refuses({ ...valid, authority: 'http://op.example' }, 'authority'));
  it('refuses the discovery document URL as authority', () => refuses({ ...valid, authority: 'https://op.example/.well-known/openid-configuration' }, 'authority'));
  it('refuses an authority with a query', () => refuses({ ...valid, authority: 'https://op.example/?x=1' }, 'authority'));
  it('refuses an Entra authority with an unexpected path', () => refuses({ ...valid, authority: 'https://login.microsoftonline.com/contoso/oauth2/v2.0' }, 'authority'));
  it('refuses Entra /common without allowedTenants', () => refuses({ ...valid, authority: 'https://login.microsoftonline.com/common/v2.0' }, 'allowedTenants'));
  it('refuses Entra /organizations without allowedTenants', () => refuses({ ...valid, authority: 'https://login.microsoftonline.com/organizations/v2.0' }, 'allowedTenants'));
  it('refuses an empty allowedTenants list', () => refuses({ ...valid, allowedTenants: [] }, 'allowedTenants'));
  it('refuses an unknown authorityType', () => refuses({ ...valid, authorityType: 'adfs' }, 'authorityType'));
  it('refuses a cacheStore without the store methods', () => refuses({ ...valid, cacheStore: { get() {} } }, 'cacheStore'));
  it('refuses a logger without pino-style methods', () => refuses({ ...valid, logger: console.log }, 'logger'));
  it('refuses a non-positive timeoutMs', () => refuses({ ...valid, timeoutMs: 0 }, 'timeoutMs'));
  it('refuses a negative tokenRenewalOffsetSeconds', () => refuses({ ...valid, tokenRenewalOffsetSeconds: -1 }, 'tokenRenewalOffsetSeconds'));
  it('refuses a non-positive flowLifetimeSeconds', () => refuses({ ...valid, flowLifetimeSeconds: 0 }, 'flowLifetimeSeconds'));
  it('refuses a negative clockToleranceSeconds', () => refuses({ ...valid, clockToleranceSeconds: -5 }, 'clockToleranceSeconds'));
});
