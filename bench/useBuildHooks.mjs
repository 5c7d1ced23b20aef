/**
 * Module resolution hook (see useBuild.mjs): whatever resolves to `src/<path>.ts` is loaded from
 * `dist/src/<path>.js` instead. Registered after tsx, so it runs first and rewrites what tsx resolved.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/', import.meta.url).href;
const build = new URL('../dist/src/', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (!resolved.url.startsWith(source) || !resolved.url.endsWith('.ts')) return resolved;
  const url = `${build}${resolved.url.slice(source.length, -'.ts'.length)}.js`;
  if (!existsSync(fileURLToPath(url))) throw new Error(`bench: ${fileURLToPath(url)} is missing: npm run build first (npm run bench does)`);
  return { url, format: 'module', shortCircuit: true };
}
