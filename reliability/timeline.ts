/**
 * A soak's timeline as an SVG drawn here (no library, no network): per second, the answers as
 * stacked bars by status (their height is requests per second), the p99 latency as a line on its
 * own scale, and marked moments (a master killed, a replica promoted, the old master back).
 */
import type { Sample } from './harness.js';

/** A moment marked on the timeline (ms since the epoch). */
export interface Mark {
  at: number;
  label: string;
  color: string;
}

const WIDTH = 960;
const HEIGHT = 420;
const PAD = { left: 56, right: 72, top: 60, bottom: 48 };
const STATUS_COLORS: [string, (status: number) => boolean, string][] = [
  ['200', (s) => s === 200, '#3a9d5d'],
  ['503', (s) => s === 503, '#e8a33d'],
  ['timeout', (s) => s === 0, '#888888'],
  ['other', (s) => s !== 200 && s !== 503 && s !== 0, '#c8423b'],
];

const escape = (text: string): string => text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

function percentile99(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!;
}

/** Per-second buckets from `start`: answers by status class and the p99 latency. */
export function perSecond(samples: Sample[], start: number): { counts: number[][]; p99: number[] } {
  const seconds = Math.max(1, Math.ceil((Math.max(...samples.map((s) => s.at), start) - start) / 1000));
  const counts = Array.from({ length: seconds }, () => STATUS_COLORS.map(() => 0));
  const latencies = Array.from({ length: seconds }, () => [] as number[]);
  for (const sample of samples) {
    // By the second the request was sent: one that timed out is drawn where the failover caught it.
    const second = Math.min(seconds - 1, Math.max(0, Math.floor((sample.at - sample.ms - start) / 1000)));
    counts[second]![STATUS_COLORS.findIndex(([, test]) => test(sample.status))]!++;
    latencies[second]!.push(sample.ms);
  }
  return { counts, p99: latencies.map(percentile99) };
}

/** The SVG document for one soak. */
export function timelineSvg(title: string, samples: Sample[], start: number, marks: Mark[]): string {
  const { counts, p99 } = perSecond(samples, start);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const maxRate = Math.max(1, ...counts.map((c) => c.reduce((a, b) => a + b, 0)));
  const maxP99 = Math.max(1, ...p99);
  const barW = plotW / counts.length;
  const x = (second: number) => PAD.left + second * barW;
  const yRate = (n: number) => PAD.top + plotH - (n / maxRate) * plotH;
  const yP99 = (ms: number) => PAD.top + plotH - (ms / maxP99) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${PAD.left}" y="18" font-size="14" font-weight="bold">${escape(title)}</text>`,
    `<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${PAD.left + plotW}" y2="${PAD.top + plotH}" stroke="#333"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + plotH}" stroke="#333"/>`,
    `<line x1="${PAD.left + plotW}" y1="${PAD.top}" x2="${PAD.left + plotW}" y2="${PAD.top + plotH}" stroke="#7a4fb5"/>`,
    `<text x="${PAD.left}" y="${PAD.top - 6}" text-anchor="middle">${maxRate}/s</text>`,
    `<text x="${PAD.left + plotW}" y="${PAD.top - 6}" text-anchor="middle" fill="#7a4fb5">${Math.round(maxP99)} ms</text>`,
  ];
  for (let second = 0; second < counts.length; second += Math.max(1, Math.ceil(counts.length / 15))) {
    parts.push(`<text x="${x(second + 0.5)}" y="${PAD.top + plotH + 14}" text-anchor="middle">${second}</text>`);
  }
  parts.push(`<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 20}" text-anchor="middle">seconds since the load started (requests by the second they were sent; bar height = requests/s)</text>`);
  for (const [second, bucket] of counts.entries()) {
    let below = 0;
    for (const [i, n] of bucket.entries()) {
      if (n === 0) continue;
      parts.push(`<rect x="${x(second) + 1}" y="${yRate(below + n)}" width="${Math.max(1, barW - 2)}" height="${yRate(below) - yRate(below + n)}" fill="${STATUS_COLORS[i]![2]}"><title>${second} s: ${n} x ${STATUS_COLORS[i]![0]}</title></rect>`);
      below += n;
    }
  }
  parts.push(`<polyline fill="none" stroke="#7a4fb5" stroke-width="2" points="${p99.map((ms, second) => `${x(second + 0.5).toFixed(1)},${yP99(ms).toFixed(1)}`).join(' ')}"/>`);
  for (const [i, mark] of marks.entries()) {
    const mx = PAD.left + ((mark.at - start) / 1000) * barW;
    parts.push(`<line x1="${mx.toFixed(1)}" y1="${PAD.top}" x2="${mx.toFixed(1)}" y2="${PAD.top + plotH}" stroke="${mark.color}" stroke-width="2" stroke-dasharray="5,3"/>`);
    parts.push(`<text x="${(mx + 4).toFixed(1)}" y="${PAD.top + 12 + i * 13}" fill="${mark.color}">${escape(mark.label)}</text>`);
  }
  STATUS_COLORS.forEach(([label, , color], i) => {
    const lx = PAD.left + i * 90;
    parts.push(`<rect x="${lx}" y="26" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="35">${label}</text>`);
  });
  parts.push(`<line x1="${PAD.left + 360}" y1="31" x2="${PAD.left + 380}" y2="31" stroke="#7a4fb5" stroke-width="2"/><text x="${PAD.left + 384}" y="35">p99 latency (right scale)</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
