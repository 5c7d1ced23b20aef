/**
 * Reading the examples' environment variables (README, "Try it"): a value that cannot work is a
 * {@link StartupError}, printed by `npm start` / `npm run dev-op` as one line naming the variable.
 */

/** A startup problem the developer fixes by changing a variable: printed as its message alone. */
export class StartupError extends Error {}

/** The port in `variable`, or `fallback` when unset or empty. */
export function portFromEnv(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || port > 65535) throw new StartupError(`${variable}=${JSON.stringify(raw)} is not a port number (0-65535; see README "Try it")`);
  return port;
}

/** `DEV_OP_CLIENT_SECRET` when set (the dev OP's own secret for every confidential client). */
export function devOpClientSecretFromEnv(): string | undefined {
  const secret = process.env['DEV_OP_CLIENT_SECRET'];
  if (secret === undefined || secret === '') return undefined;
  if (secret.length < 16) throw new StartupError('DEV_OP_CLIENT_SECRET must be at least 16 characters (e.g. openssl rand -base64 24), or unset for the development secrets');
  return secret;
}

/** `CACHE_KEY` when set: the token cache's AES-256-GCM key in Redis (32 bytes, base64). */
export function cacheKeyFromEnv(): string | undefined {
  const key = process.env['CACHE_KEY'];
  if (key === undefined || key === '') return undefined;
  if (Buffer.from(key, 'base64').length !== 32) throw new StartupError('CACHE_KEY must be 32 bytes in base64 (openssl rand -base64 32), or unset for a key of this run only');
  return key;
}

/** Prints a {@link StartupError} (or what `explain` makes of another error) as one line and exits 1; rethrows anything else. */
export function exitWithOneLine(explain: (err: unknown) => string | undefined = () => undefined) {
  return (err: unknown): never => {
    const line = err instanceof StartupError ? err.message : explain(err);
    if (line === undefined) throw err; // not a setup problem: the full stack helps
    console.error(line);
    process.exit(1);
  };
}

/**
 * Which framework to run an example part in: the flag `--<flag>=<name>` (`npm start -- --app=hono`),
 * else the variable (`APP_FRAMEWORK=hono`), else the first of `choices`; anything else is refused by name.
 */
export function frameworkFrom<T extends string>(flag: string, variable: string, choices: readonly T[], argv: readonly string[] = process.argv.slice(2)): T {
  const given = argv.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3) ?? process.env[variable];
  if (given === undefined || given === '') return choices[0]!;
  if (!(choices as readonly string[]).includes(given)) throw new StartupError(`--${flag} / ${variable}=${JSON.stringify(given)} is not one of ${choices.join(', ')} (see README "Try it")`);
  return given as T;
}
