/**
 * Prints the figures every reliability suite recorded (test-output/reliability.jsonl) as one
 * report at the end of `npm run test:reliability`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { REPORT_FILE } from './harness.js';

if (!existsSync(REPORT_FILE)) {
  console.log('reliability report: no figures were recorded');
  process.exit(0);
}
const lines = readFileSync(REPORT_FILE, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { suite: string; figures: Record<string, unknown> });
console.log('\n== reliability report ==');
for (const { suite, figures } of lines) {
  console.log(`\n${suite}`);
  for (const [name, value] of Object.entries(figures)) console.log(`  ${name.padEnd(32)} ${String(value)}`);
}
