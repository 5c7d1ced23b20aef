/**
 * Captures what this process writes to stderr (where authflow's default logger writes), so a
 * test can read the lines a developer would see in the console. Nothing is faked: the real
 * logger writes through `process.stderr.write`, which is swapped for a recorder while capturing.
 */
export interface StderrCapture {
  /** Every line written so far. */
  lines(): string[];
  /** The lines authflow's default logger wrote (`authflow <level> …`). */
  authflowLines(): string[];
  /** The JSON object at the end of an authflow line. */
  fields(line: string): Record<string, unknown>;
  restore(): void;
}

export function captureStderr(options: { echo?: boolean } = {}): StderrCapture {
  const original = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (options.echo) return (original as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stderr.write;
  const lines = (): string[] => text.split('\n').filter(Boolean);
  return {
    lines,
    authflowLines: () => lines().filter((l) => /^authflow (debug|info|warn|error) /.test(l)),
    fields: (line) => JSON.parse(line.slice(line.indexOf(' {') + 1)) as Record<string, unknown>,
    restore: () => {
      process.stderr.write = original as typeof process.stderr.write;
    },
  };
}
