/**
 * bench/results.svg: every row with a ratio as a bar on a log scale, its target as a line across
 * the bar, green when met, red when not, grey when only reported. Drawn here from the rows of the
 * run (no network, no browser), so the picture always shows the table beside it.
 */
import type { Row } from './common.js';

/** A ratio or target read from a row: `0.90x`, `34.03x`, `0.37x (time 2.72x)`, `>= 0.85x`, `<= 1.2x`. */
const RATIO = /^(\d+(?:\.\d+)?)x/;
const TARGET = /^(>=|<=) (\d+(?:\.\d+)?)x/;

const SCALE = { min: 0.1, max: 100 };
const TICKS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100];
const LAYOUT = { width: 1120, label: 600, right: 30, top: 56, row: 24, bottom: 40, bar: 14 };
const COLOURS = { yes: '#2e7d32', no: '#c62828', reported: '#9e9e9e', target: '#111', grid: '#ddd' };

/** One bar: the row's label, its ratio, and its target when it has one of the form `>= Nx` / `<= Nx`. */
interface Bar { label: string; ratio: number; target?: { op: '>=' | '<='; value: number }; met: Row['met'] }

/** The rows that can be drawn: a ratio `Nx` (rows without one, such as counts, stay in the table only). */
export function barsOf(rows: readonly Row[]): Bar[] {
  const bars: Bar[] = [];
  for (const row of rows) {
    const ratio = RATIO.exec(row.ratio.trim());
    if (!ratio) continue;
    const target = TARGET.exec(row.target.trim());
    bars.push({
      label: row.measurement,
      ratio: Number(ratio[1]),
      ...(target ? { target: { op: target[1] as '>=' | '<=', value: Number(target[2]) } } : {}),
      met: row.met,
    });
  }
  return bars;
}

/** The SVG document for `rows` (see the file comment). */
export function renderChart(rows: readonly Row[], title: string): string {
  const bars = barsOf(rows);
  const { width, label, right, top, row, bottom, bar } = LAYOUT;
  const plot = width - label - right;
  const height = top + bars.length * row + bottom;
  const x = (v: number): number => label + (Math.log10(clamp(v)) - Math.log10(SCALE.min)) / (Math.log10(SCALE.max) - Math.log10(SCALE.min)) * plot;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<text x="10" y="38" fill="#555">ratio against the named baseline of the same run (log scale); black line: target; green met, red not met, grey reported only</text>`,
  ];
  for (const tick of TICKS) {
    out.push(`<line x1="${x(tick).toFixed(1)}" y1="${top - 6}" x2="${x(tick).toFixed(1)}" y2="${height - bottom + 4}" stroke="${tick === 1 ? '#888' : COLOURS.grid}"/>`);
    out.push(`<text x="${x(tick).toFixed(1)}" y="${height - bottom + 18}" text-anchor="middle" fill="#555">${tick}x</text>`);
  }
  bars.forEach((b, i) => {
    const y = top + i * row;
    const colour = b.met === 'yes' ? COLOURS.yes : b.met === 'no' || b.met === 'ERROR' ? COLOURS.no : COLOURS.reported;
    out.push(`<text x="${label - 8}" y="${y + bar - 2}" text-anchor="end">${escape(shorten(b.label, 92))}</text>`);
    out.push(`<rect x="${label}" y="${y}" width="${Math.max(1, x(b.ratio) - label).toFixed(1)}" height="${bar}" fill="${colour}"><title>${escape(`${b.label}: ${b.ratio}x`)}</title></rect>`);
    const valueAt = Math.max(x(b.ratio), b.target ? x(b.target.value) : 0) + 5;
    out.push(`<text x="${valueAt.toFixed(1)}" y="${y + bar - 2}" fill="#333">${b.ratio}x</text>`);
    if (b.target) {
      const tx = x(b.target.value).toFixed(1);
      out.push(`<line x1="${tx}" y1="${y - 3}" x2="${tx}" y2="${y + bar + 3}" stroke="${COLOURS.target}" stroke-width="2"><title>${escape(`target ${b.target.op} ${b.target.value}x`)}</title></line>`);
    }
  });
  out.push('</svg>', '');
  return out.join('\n');
}

const clamp = (v: number): number => Math.min(SCALE.max, Math.max(SCALE.min, v));
const shorten = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
