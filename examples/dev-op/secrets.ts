/**
 * The dev OP's client secrets. By default they are fixed, published development values, so a `.env`
 * written once keeps working across restarts. Because anyone can read them here, the OP accepts
 * them only from a loopback peer (127.0.0.0/8, ::1) that is not relaying for someone else
 * (no `Forwarded`/`X-Forwarded-For` header): bound to 0.0.0.0 (a container, a phone on the LAN
 * testing the web app), the browser still reaches the OP's pages, but a client secret sent from
 * another machine is refused. A secret of your own (`startDevOp({ clientSecret })`, or
 * `DEV_OP_CLIENT_SECRET` for `npm start` / `npm run dev-op`) is accepted from anywhere.
 */
import Provider, { errors } from 'oidc-provider';
import type { SecretClientName } from './config.js';

/** The fixed development secrets (published: accepted from loopback only). */
export const DEV_SECRETS: Readonly<Record<SecretClientName, string>> = {
  webApp: 'dev-op-web-app-secret-not-for-production',
  orders: 'dev-op-orders-api-secret-not-for-production',
  ordersCert: 'dev-op-orders-api-cert-secret-not-for-production',
  inventory: 'dev-op-inventory-api-secret-not-for-production',
  daemon: 'dev-op-daemon-secret-not-for-production',
  reports: 'dev-op-reports-api-secret-not-for-production',
  contosoOnly: 'dev-op-contoso-only-app-secret-not-for-production',
};

/** Every confidential client's secret: the fixed ones, or `clientSecret` for all of them. */
export function clientSecrets(clientSecret: string | undefined): Record<SecretClientName, string> {
  if (clientSecret === undefined) return { ...DEV_SECRETS };
  return { webApp: clientSecret, orders: clientSecret, ordersCert: clientSecret, inventory: clientSecret, daemon: clientSecret, reports: clientSecret, contosoOnly: clientSecret };
}

/** True for 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (`::ffff:127.0.0.1`). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return v4.startsWith('127.') || address === '::1';
}

/**
 * Makes `provider` (configured with {@link DEV_SECRETS}) refuse them from a non-loopback peer with Entra's
 * `invalid_client` (AADSTS7000215), saying what to do. Wraps the client model's secret check,
 * which every client-authenticating endpoint (token, device code, introspection, revocation) uses.
 */
export function acceptDevSecretsFromLoopbackOnly(provider: Provider): void {
  const clientModel = provider.Client.prototype as { compareClientSecret(actual: string): Promise<boolean> | boolean };
  const compare = clientModel.compareClientSecret;
  clientModel.compareClientSecret = async function (this: { clientSecret?: string }, actual: string): Promise<boolean> {
    if (!(await compare.call(this, actual))) return false;
    const req = Provider.ctx?.req;
    const relayed = req?.headers['forwarded'] !== undefined || req?.headers['x-forwarded-for'] !== undefined;
    if (isLoopbackAddress(req?.socket.remoteAddress) && !relayed) return true;
    const err = new errors.CustomOIDCProviderError('invalid_client', 'AADSTS7000215: Invalid client secret provided. '
      + 'The dev OP accepts its fixed development secrets from loopback only; set your own with DEV_OP_CLIENT_SECRET (startDevOp({ clientSecret })).');
    err.status = 401;
    err.statusCode = 401;
    throw err;
  };
}
