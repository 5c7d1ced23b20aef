/**
 * Runs the dev OP standalone: `npm run dev-op` (port 4000 or DEV_OP_PORT, host 127.0.0.1 or HOST).
 * Prints the issuer, the clients (with their development secrets) and the demo users.
 */
import { startDevOp } from './index.js';

const port = Number(process.env['DEV_OP_PORT'] ?? 4000);
const op = await startDevOp({
  port,
  host: process.env['HOST'] ?? '127.0.0.1',
  ...(process.env['DEV_OP_BACKCHANNEL_LOGOUT_URI'] ? { webApp: { backchannelLogoutUri: process.env['DEV_OP_BACKCHANNEL_LOGOUT_URI'] } } : {}),
});

const lines = [
  `dev OP listening on ${op.url}`,
  `issuer:    ${op.issuer}`,
  `discovery: ${op.issuer}/.well-known/openid-configuration`,
  `tenant:    ${op.tenantId}`,
  '',
  'clients:',
  ...Object.entries(op.clients).map(([name, c]) => [
    `  ${name.padEnd(10)} client_id=${c.clientId}`,
    c.clientSecret ? ` secret=${c.clientSecret}` : '',
    c.apiUri ? ` api=${c.apiUri}` : '',
    c.redirectUris ? ` redirect_uris=${c.redirectUris.join(',')}` : '',
    c.certificate ? ' (private_key_jwt; key and certificate via startDevOp().clients.ordersCert)' : '',
  ].join('')),
  '',
  'APIs: api://orders (Orders.Read Orders.Write), api://inventory (Inventory.Read); scopes are prefixed, e.g. api://orders/Orders.Read',
  `users: ${Object.values(op.users).map((u) => `${u.username} (oid ${u.oid})`).join(', ')}; password: password`,
];
console.log(lines.join('\n'));

const stop = (): void => { void op.close().then(() => process.exit(0)); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
