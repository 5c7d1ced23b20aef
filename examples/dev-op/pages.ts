/**
 * The dev OP's HTML pages: plain forms, no JavaScript, no external assets. `signIn` in
 * browser.ts recognises them by their form ids (`login`, `consent`, oidc-provider's
 * `op.deviceConfirmForm` / `op.deviceInputForm` / `op.logoutForm`) and the error page by `id="error"`.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { html } from './dialect.js';

/** A page of the dev OP (title, body; no scripts). */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${html(title)}</title>
<style>body{font-family:sans-serif;max-width:28em;margin:3em auto}label,input,button{display:block;margin:.4em 0}</style>
</head><body><h1>${html(title)}</h1>
${body}
</body></html>`;
}

/** Login form posted to `${action}`; `error` re-renders it after a failed attempt. */
export function loginPage(action: string, clientId: string, loginHint: string | undefined, error?: string): string {
  return page('Sign in', `<p>Sign in to continue to <strong>${html(clientId)}</strong>. Users: alice, bob (password: password).</p>
${error ? `<p class="error" id="login-error">${html(error)}</p>` : ''}
<form id="login" method="post" action="${html(action)}">
<label>Username <input name="username" autocomplete="username" value="${html(loginHint ?? '')}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>`);
}

/** Consent form: lists the permissions and posts `decision=allow` or `decision=deny`. */
export function consentPage(action: string, clientId: string, permissions: readonly string[]): string {
  return page('Permissions requested', `<p><strong>${html(clientId)}</strong> asks for:</p>
<ul>${permissions.map((p) => `<li>${html(p)}</li>`).join('')}</ul>
<form id="consent" method="post" action="${html(action)}">
<button type="submit" name="decision" value="allow">Accept</button>
<button type="submit" name="decision" value="deny">Cancel</button>
</form>`);
}

/** What to type on the device page: oidc-provider's default user codes (base-20 letters, mask `****-****`). */
export const DEVICE_CODE_INSTRUCTIONS = 'Enter the code shown in your terminal (or on the device you are signing in on): '
  + '8 letters, like BCDF-GHJK. Capital or small letters, with or without the dash.';

/** features.deviceFlow.userCodeInputSource */
export async function userCodeInputSource(ctx: KoaContextWithOIDC, form: string, _out: unknown, err?: Error): Promise<void> {
  const msg = err ? `<p class="error" id="device-error">${html(err.name === 'NoCodeError' || 'userCode' in err ? 'The code you entered is incorrect: check it against your terminal, it expires after 10 minutes.' : 'There was an error processing your request.')}</p>` : '';
  const input = form.replace('placeholder="Enter code"', 'id="user-code" placeholder="XXXX-XXXX" aria-describedby="device-instructions"');
  ctx.body = page('Enter code', `<p id="device-instructions">${html(DEVICE_CODE_INSTRUCTIONS)}</p>
${msg}<label for="user-code">Code from your terminal</label>
${input.replace('</form>', '<button type="submit">Next</button></form>')}`);
}

/** features.deviceFlow.userCodeConfirmSource */
export async function userCodeConfirmSource(ctx: KoaContextWithOIDC, form: string, client: { clientId: string }, _info: unknown, userCode: string): Promise<void> {
  ctx.body = page('Confirm device', `<p><strong>${html(client.clientId)}</strong> on your device shows the code <code>${html(userCode)}</code>.
Continue only if your terminal shows this same code; if not, close this page.</p>
${form.replace('</form>', '<button type="submit">Continue</button></form>')}`);
}

/** features.deviceFlow.successSource */
export async function deviceSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
  ctx.body = page('Device signed in', '<p id="device-success">You have signed in on your device. You can close this window.</p>');
}

/** features.rpInitiatedLogout.logoutSource: the confirmation form (its button submits logout=yes). */
export async function logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  ctx.body = page('Sign out', `<p>Sign out of the dev OP?</p>
${form.replace('</form>', '<button type="submit" name="logout" value="yes">Yes, sign me out</button></form>')}`);
}

/** features.rpInitiatedLogout.postLogoutSuccessSource (no post_logout_redirect_uri given). */
export async function postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
  ctx.body = page('Signed out', '<p id="signed-out">You have signed out.</p>');
}

/** renderError: the error page (no redirect possible). */
export async function renderError(ctx: KoaContextWithOIDC, out: Record<string, unknown>): Promise<void> {
  ctx.type = 'html';
  ctx.body = page('Sign-in error', `<div id="error">${Object.entries(out)
    .map(([k, v]) => `<p><strong>${html(k)}</strong>: <span data-field="${html(k)}">${html(v)}</span></p>`).join('')}</div>`);
}
