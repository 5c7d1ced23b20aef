// Module resolution hook: `express` resolves to Express 4 (installed as `express4`), so the
// Express suites can run against the adapter exactly as an Express 4 app would load it.
export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier === 'express' ? 'express4' : specifier, context);
}
