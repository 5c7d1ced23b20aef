/**
 * `npm start`: the dev OP, the example web app, and the orders and inventory APIs, in-memory
 * stores (Redis with REDIS_URL). The web app on Express or Hono (`--app=hono` or APP_FRAMEWORK),
 * the orders API on Express or Fastify (`--orders=fastify` or ORDERS_FRAMEWORK). The variables are listed in the README ("Try it"). A startup
 * failure a developer can fix (a port in use, a port that is not a number, Redis away) ends in one
 * line naming the variable to change and exit code 1, not a stack trace.
 */
import { cacheKeyFromEnv, devOpClientSecretFromEnv, exitWithOneLine, frameworkFrom, portFromEnv, StartupError } from './env.js';
import { APP_FRAMEWORKS, ORDERS_FRAMEWORKS, PortUnavailableError, RedisUnreachableError, startStack, type StackService } from './stack.js';

/** Each listener's variable and default port. */
const PORTS: Record<StackService, { variable: string; fallback: number; what: string }> = {
  app: { variable: 'PORT', fallback: 3000, what: 'the example web app' },
  orders: { variable: 'ORDERS_PORT', fallback: 3001, what: 'the orders API' },
  inventory: { variable: 'INVENTORY_PORT', fallback: 3002, what: 'the inventory API' },
  op: { variable: 'DEV_OP_PORT', fallback: 4000, what: 'the dev OP' },
  reports: { variable: 'REPORTS_PORT', fallback: 3003, what: 'the reports API (MULTI_TENANT=1)' },
};

function portOf(service: StackService): number {
  return portFromEnv(PORTS[service].variable, PORTS[service].fallback);
}

/** The one line for an error the developer can act on, or undefined for a real crash. */
function explain(err: unknown): string | undefined {
  if (err instanceof PortUnavailableError) {
    const { variable, what } = PORTS[err.service];
    const why = err.reason === 'in use' ? 'is in use' : 'needs privileges';
    return `port ${err.port} ${why}: set ${variable}=<a free port> for ${what} (see README "Try it")`;
  }
  if (err instanceof RedisUnreachableError) {
    return `cannot reach Redis at ${err.host} (REDIS_URL): ${(err.cause as Error).message || 'no answer'}; start Redis or unset REDIS_URL for in-memory stores`;
  }
  return undefined;
}

async function main(): Promise<void> {
  // OTEL=console prints authflow's spans (and metrics every minute): README "Observability".
  if (process.env.OTEL === 'console') (await import('./otel.js')).startConsoleTelemetry();
  else if (process.env.OTEL) throw new StartupError(`OTEL=${process.env.OTEL} is not supported: use OTEL=console, or unset it`);
  const multiTenant = process.env.MULTI_TENANT === '1';
  const ports = { app: portOf('app'), orders: portOf('orders'), inventory: portOf('inventory'), op: portOf('op'), ...(multiTenant ? { reports: portOf('reports') } : {}) };
  const clientSecret = devOpClientSecretFromEnv();
  const cacheKey = cacheKeyFromEnv();
  const appFramework = frameworkFrom('app', 'APP_FRAMEWORK', APP_FRAMEWORKS);
  const ordersFramework = frameworkFrom('orders', 'ORDERS_FRAMEWORK', ORDERS_FRAMEWORKS);
  const stack = await startStack({
    appFramework,
    ordersFramework,
    host: process.env.HOST || '127.0.0.1',
    ports,
    ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
    ...(process.env.SESSION_SECRET ? { sessionSecret: process.env.SESSION_SECRET } : {}),
    ...(clientSecret ? { opClientSecret: clientSecret } : {}),
    ...(cacheKey ? { cacheKey } : {}),
    ...(multiTenant ? { multiTenant } : {}),
  });

  // Handlers first: whoever reads the printout may stop the stack at once.
  const shutdown = (): void => {
    void stack.close().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  console.log([
    `example app:   ${stack.appUrl}/ (${appFramework})`,
    `orders API:    ${stack.ordersUrl}/orders (${ordersFramework})`,
    `inventory API: ${stack.inventoryUrl}/inventory`,
    ...(stack.reportsUrl ? [`reports API:   ${stack.reportsUrl}/reports (v1 tokens)`, `authority:     ${stack.op.authority('organizations')} (contoso and fabrikam allowed)`] : []),
    `dev OP:        ${stack.op.issuer}`,
    `stores:        ${process.env.REDIS_URL ? `Redis at ${new URL(process.env.REDIS_URL).host}, token cache encrypted (${process.env.CACHE_KEY ? 'CACHE_KEY' : 'a key for this run: set CACHE_KEY to keep tokens across restarts'})` : 'in memory (set REDIS_URL for Redis)'}`,
    `demo users:    ${Object.values(stack.op.users).map((u) => `${u.username} / ${u.password}`).join(', ')}`,
  ].join('\n'));
}

main().catch(exitWithOneLine(explain));
