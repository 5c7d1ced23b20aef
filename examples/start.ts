/**
 * `npm start`: the dev OP, the example web app, and the orders and inventory APIs, in-memory
 * stores (Redis with REDIS_URL). Ports: PORT (3000), ORDERS_PORT (3001), INVENTORY_PORT (3002),
 * DEV_OP_PORT (4000); HOST to bind (127.0.0.1).
 */
import { startStack } from './stack.js';

const stack = await startStack({
  host: process.env.HOST ?? '127.0.0.1',
  ports: {
    app: Number(process.env.PORT ?? 3000),
    orders: Number(process.env.ORDERS_PORT ?? 3001),
    inventory: Number(process.env.INVENTORY_PORT ?? 3002),
    op: Number(process.env.DEV_OP_PORT ?? 4000),
  },
  ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
  ...(process.env.SESSION_SECRET ? { sessionSecret: process.env.SESSION_SECRET } : {}),
});

console.log([
  `example app:   ${stack.appUrl}/`,
  `orders API:    ${stack.ordersUrl}/orders`,
  `inventory API: ${stack.inventoryUrl}/inventory`,
  `dev OP:        ${stack.op.issuer}`,
  `stores:        ${process.env.REDIS_URL ? `Redis at ${new URL(process.env.REDIS_URL).host}` : 'in memory (set REDIS_URL for Redis)'}`,
  `demo users:    ${Object.values(stack.op.users).map((u) => `${u.username} / ${u.password}`).join(', ')}`,
].join('\n'));

const shutdown = (): void => {
  void stack.close().then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
