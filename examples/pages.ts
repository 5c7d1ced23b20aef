/** The example web app's page frame and HTML escaping, shared by its Express and Hono versions. */

/** A complete HTML page around `body` (which the caller has escaped). */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}th{text-align:left;padding-right:1rem}pre{background:#f4f4f4;padding:1rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** Text made safe inside HTML elements and quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The home page: who is signed in, or a sign-in link (and, multi-tenant, one as a guest of `guestTenant`). */
export function homePage(name: unknown, guestTenant?: { label: string; tenantId: string }): string {
  return page('authflow example', name
    ? `<p>Signed in as <strong id="user-name">${escapeHtml(String(name))}</strong>.</p>
         <p><a href="/profile">Profile</a> · <form method="post" action="/logout" style="display:inline"><button type="submit">Sign out</button></form></p>`
    : `<p>You are not signed in.</p><p><a id="sign-in" href="/login?returnTo=%2Fprofile">Sign in</a></p>${guestTenant
      ? `<p><a id="sign-in-guest" href="/login?returnTo=%2Fprofile&amp;tenant=${encodeURIComponent(guestTenant.tenantId)}">Sign in as a ${escapeHtml(guestTenant.label)} guest</a></p>`
      : ''}`);
}

/** The profile page: the user's name and ID token claims, a button calling the orders API, sign-out. */
export function profilePage(name: string, user: Record<string, unknown> | undefined): string {
  const claims = Object.entries(user ?? {})
    .map(([claim, value]) => `<tr><th>${escapeHtml(claim)}</th><td>${escapeHtml(JSON.stringify(value))}</td></tr>`)
    .join('');
  return page('Profile', `
      <p>Hello, <strong id="user-name">${escapeHtml(name)}</strong>.</p>
      <form method="get" action="/call-api"><button id="call-api" type="submit">Call the orders API</button></form>
      <h2>ID token claims</h2><table id="claims">${claims}</table>
      <p><a href="/">Home</a> · <form method="post" action="/logout" style="display:inline"><button id="sign-out" type="submit">Sign out</button></form></p>`);
}

/** The orders API's answer (it called the inventory API on the user's behalf). */
export function ordersPage(status: number, result: unknown): string {
  return page('Orders', `
      <p>The orders API answered ${status}; it called the inventory API on your behalf:</p>
      <pre id="api-result">${escapeHtml(JSON.stringify(result, null, 2))}</pre>
      <p><a href="/profile">Back to the profile</a></p>`);
}
