/**
 * The README's "Conformance" table, generated from what the RP conformance suite observed: each
 * test records its outcome, and `writeConformanceTable()` rewrites only the text between the
 * `<!-- conformance:start -->` and `<!-- conformance:end -->` markers. Rows follow a fixed order and
 * carry no date, so the README changes only when a result does.
 */
import { readFile, writeFile } from 'node:fs/promises';

export const START_MARKER = '<!-- conformance:start -->';
export const END_MARKER = '<!-- conformance:end -->';

export interface Outcome {
  testId: string;
  /** What a certified RP must do, e.g. "refused: 401 `nonce_mismatch`". */
  expected: string;
  /** `pass` / `fail` as observed, or a fixed text for tests that do not apply (when they passed). */
  result: string;
}

/** Outcomes in the order they were recorded (a test recorded twice keeps its last outcome). */
export class ConformanceReport {
  readonly #outcomes = new Map<string, Outcome>();

  record(outcome: Outcome): void {
    this.#outcomes.set(outcome.testId, outcome);
  }

  get outcomes(): Outcome[] {
    return [...this.#outcomes.values()];
  }

  /** The markdown table; rows in `order` first, then any others as recorded. */
  table(order: readonly string[] = []): string {
    const rank = (id: string): number => (order.includes(id) ? order.indexOf(id) : order.length);
    const rows = this.outcomes
      .map((outcome, index) => ({ outcome, index }))
      .sort((a, b) => rank(a.outcome.testId) - rank(b.outcome.testId) || a.index - b.index)
      .map(({ outcome }) => `| \`${cell(outcome.testId)}\` | ${cell(outcome.expected)} | ${cell(outcome.result)} |`);
    return ['| RP test | expected | result |', '|---|---|---|', ...rows].join('\n');
  }
}

/**
 * Replaces the text between the markers in `readmePath` with `table`. Writes nothing when the
 * markers are missing (returns false) or when the text is already the same.
 */
export async function writeConformanceTable(readmePath: string, table: string): Promise<boolean> {
  const readme = await readFile(readmePath, 'utf8');
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER, start + START_MARKER.length);
  if (start === -1 || end === -1) return false;
  const next = `${readme.slice(0, start + START_MARKER.length)}\n${table}\n${readme.slice(end)}`;
  if (next !== readme) await writeFile(readmePath, next);
  return true;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
