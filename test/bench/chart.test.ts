/**
 * bench/results.svg is drawn from the bench's rows: one bar per ratio, the target as a line at its
 * place on the log scale, the colour from "met?". Checked on the rows of the committed results.md.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { barsOf, renderChart } from '../../bench/chart.js';
import type { Row } from '../../bench/common.js';

/** The table of bench/results.md as rows (cells unescaped). */
function committedRows(): Row[] {
  const md = readFileSync(new URL('../../bench/results.md', import.meta.url), 'utf8');
  return md.split('\n')
    .filter((line) => /^\| \d/.test(line))
    .map((line) => {
      const cells = line.slice(2, -2).split(/(?<!\\) \| /).map((c) => c.replace(/\\\|/g, '|'));
      const [measurement, authflow, baseline, ratio, target, met] = cells as [string, string, string, string, string, Row['met']];
      return { measurement, authflow, baseline, ratio, target, met };
    });
}

describe('bench chart', () => {
  it('draws a bar for every row with a ratio, and a target line for every ">= Nx" / "<= Nx" target', () => {
    const rows = committedRows();
    assert.ok(rows.length >= 10, `the committed table has rows (${rows.length})`);
    const bars = barsOf(rows);
    const withRatio = rows.filter((r) => /^\d+(\.\d+)?x/.test(r.ratio));
    assert.equal(bars.length, withRatio.length);
    const svg = renderChart(rows, 'test');
    assert.equal((svg.match(/<rect x=/g) ?? []).length, bars.length, 'one bar each');
    assert.equal((svg.match(/<title>target /g) ?? []).length, bars.filter((b) => b.target).length, 'one target line each');
    assert.ok(!/<title>[^<]*[<>&"][^<]*<\/title>/.test(svg.replace(/&(amp|lt|gt|quot);/g, '')), 'labels are escaped');
  });

  it('places values on a log scale and colours them by "met?"', () => {
    const row = (ratio: string, target: string, met: Row['met']): Row => ({ measurement: `m ${ratio}`, authflow: '', baseline: '', ratio, target, met });
    const svg = renderChart([row('1x', '>= 10x', 'no'), row('10x', '>= 10x', 'yes'), row('0.5x', '(reported)', 'n/a')], 't');
    const widths = [...svg.matchAll(/<rect x="(\d+)" y="\d+" width="([\d.]+)" height="\d+" fill="([^"]+)"/g)].map((m) => ({ width: Number(m[2]), fill: m[3] }));
    assert.equal(widths.length, 3);
    // 0.1x..100x is three decades: 1x is one decade in, 10x two.
    assert.ok(Math.abs(widths[1]!.width / widths[0]!.width - 2) < 0.01, 'ten times the ratio is one more decade');
    assert.deepEqual(widths.map((w) => w.fill), ['#c62828', '#2e7d32', '#9e9e9e']);
    const targets = [...svg.matchAll(/<line x1="([\d.]+)"[^>]*stroke-width="2"><title>target &gt;= 10x/g)].map((m) => Number(m[1]));
    assert.equal(targets.length, 2, 'the reported row has no target line');
  });
});
