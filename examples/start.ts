/**
 * `npm start`: the dev OP on a fixed port and the example app beside it, in-memory stores.
 * Ports: DEV_OP_PORT (default 4000), PORT (default 3000); HOST to bind (default 127.0.0.1).
 */
import { startDevOp } from './dev-op/index.js';
import { createExampleApp } from './express-app/app.js';

const opPort = Number(process.env.DEV_OP_PORT ?? 4000);
const appPort = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';

const op = await startDevOp({ port: opPort, host });
const app = createExampleApp({ issuer: op.issuer });
const server = app.listen(appPort, host, () => {
  console.log(`dev OP:      ${op.issuer}`);
  console.log(`example app: http://localhost:${appPort}/`);
  console.log(`demo users:  ${Object.values(op.users).map((u) => `${u.username} / ${u.password}`).join(', ')}`);
});

const shutdown = () => {
  server.close();
  void op.close().then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
