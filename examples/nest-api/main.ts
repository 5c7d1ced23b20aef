/**
 * Runs the NestJS orders API alone: `TSX_TSCONFIG_PATH=examples/nest-api/tsconfig.json npx tsx examples/nest-api/main.ts`
 * (the legacy decorators need this folder's tsconfig), with AUTHORITY, CLIENT_ID, CLIENT_SECRET
 * (the orders API's client at the OP), INVENTORY_URL and PORT (default 3001; 0 picks a free port).
 */
import { ConfidentialClient } from '../../src/index.js';
import { createNestOrdersApi } from './orders.js';

const { AUTHORITY = '', CLIENT_ID = '', CLIENT_SECRET = '', INVENTORY_URL = 'http://127.0.0.1:3002' } = process.env;
const client = new ConfidentialClient({
  clientId: CLIENT_ID,
  authority: AUTHORITY,
  credential: { secret: CLIENT_SECRET },
  allowInsecureRequests: AUTHORITY.startsWith('http://127.0.0.1:'),
});
const app = await createNestOrdersApi({ client, inventoryUrl: INVENTORY_URL });
await app.listen(Number(process.env.PORT ?? 3001), '127.0.0.1');
console.log(`listening on ${await app.getUrl()}`);
