/**
 * Runs the dev OP standalone: `npm run dev-op` (port 4000 or DEV_OP_PORT, host 127.0.0.1 or HOST,
 * the fixed development client secrets or DEV_OP_CLIENT_SECRET). Prints the issuer, the clients
 * (with their secrets) and the demo users. A port in use ends in one line naming DEV_OP_PORT.
 */
import { devOpClientSecretFromEnv, exitWithOneLine, portFromEnv } from '../env.js';
import { startDevOp } from './index.js';

async function main(): Promise<void> {
  const port = portFromEnv('DEV_OP_PORT', 4000);
  const clientSecret = devOpClientSecretFromEnv();
  const op = await startDevOp({
    port,
    host: process.env['HOST'] || '127.0.0.1',
    ...(clientSecret ? { clientSecret } : {}),
    ...(process.env['DEV_OP_BACKCHANNEL_LOGOUT_URI'] ? { webApp: { backchannelLogoutUri: process.env['DEV_OP_BACKCHANNEL_LOGOUT_URI'] } } : {}),
  });

  const lines = [
    `dev OP listening on ${op.url}`,
    `issuer:    ${op.issuer}`,
    `discovery: ${op.issuer}/.well-known/openid-configuration`,
    `tenants:   contoso ${op.tenants.contoso.id}, fabrikam ${op.tenants.fabrikam.id} (each at ${op.url}/<tenant id>/v2.0)`,
    `multi-tenant: ${op.authority('organizations')} and ${op.authority('common')} (issuer ${op.url}/{tenantid}/v2.0)`,
    '',
    `clients (${clientSecret ? 'secret from DEV_OP_CLIENT_SECRET' : 'fixed development secrets, accepted from loopback only; DEV_OP_CLIENT_SECRET sets your own'}):`,
    ...Object.entries(op.clients).map(([name, c]) => [
      `  ${name.padEnd(10)} client_id=${c.clientId}`,
      c.clientSecret ? ` secret=${c.clientSecret}` : '',
      c.apiUri ? ` api=${c.apiUri}` : '',
      c.redirectUris ? ` redirect_uris=${c.redirectUris.join(',')}` : '',
      c.certificate ? ' (private_key_jwt; key and certificate via startDevOp().clients.ordersCert)' : '',
    ].join('')),
    '',
    'APIs: api://orders (Orders.Read Orders.Write), api://inventory (Inventory.Read), api://reports (Reports.Read, v1 tokens); scopes are prefixed, e.g. api://orders/Orders.Read',
    `guest: alice in fabrikam (oid ${op.guests.aliceInFabrikam.oid}): sign in at fabrikam, or /organizations with domain_hint=fabrikam.onmicrosoft.com`,
    `users: ${Object.values(op.users).map((u) => `${u.username} (oid ${u.oid})`).join(', ')}; password: password`,
  ];
  // Handlers first: whoever reads the printout may stop the OP at once.
  const stop = (): void => { void op.close().then(() => process.exit(0)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  console.log(lines.join('\n'));
}

main().catch(exitWithOneLine((err) => {
  const e = err as NodeJS.ErrnoException & { port?: number };
  if (e.syscall === 'listen' && e.code === 'EADDRINUSE') return `port ${e.port} is in use: set DEV_OP_PORT=<a free port> for the dev OP (see README "Try it")`;
  return undefined;
}));
