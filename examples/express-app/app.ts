/**
 * The example web app. For now a placeholder: sign-in arrives with the web-layer issue
 * (authflow/express: /login, /callback, /logout, requireAuth, req.getToken).
 */
import express, { type Express } from 'express';

export interface ExampleAppOptions {
  /** The dev OP's issuer, shown on the page. */
  issuer: string;
}

export function createExampleApp(options: ExampleAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/', (_req, res) => {
    res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>authflow example</title></head>
<body>
  <h1>authflow example app</h1>
  <p>The development OpenID Provider is running at <code>${escapeHtml(options.issuer)}</code>.</p>
  <p>Sign-in is not wired yet: it comes with the web-layer issue (Express and Koa middleware,
     <code>/login</code>, <code>/callback</code>, <code>/logout</code>, <code>req.getToken</code>).</p>
</body></html>`);
  });
  return app;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
