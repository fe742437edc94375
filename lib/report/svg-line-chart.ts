// Small self-contained SVG line charts for the report (training curves, per-stage times). No scripts, no fonts
// to fetch: the report must open offline.
import { escapeHtml as esc } from './html-escape.ts';

interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];


function niceTicks(min: number, max: number, count = 5): number[] {
  if (min === max) return [min];
  const step = (max - min) / (count - 1);
  return Array.from({ length: count }, (_, i) => min + i * step);
}

const label = (v: number) => (Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3));

export function svgLineChart(title: string, xLabel: string, yLabel: string, series: readonly Series[], width = 560, height = 300): string {
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const left = 60;
  const right = 20;
  const top = 30;
  const bottom = 45;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}">`];
  out.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-family="sans-serif">${esc(title)}</text>`);
  if (pts.length === 0) {
    out.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="12" font-family="sans-serif">no data</text></svg>`);
    return out.join('');
  }
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const px = (x: number) => left + ((x - x0) / (x1 - x0 || 1)) * (width - left - right);
  const py = (y: number) => top + (1 - (y - y0) / (y1 - y0)) * (height - top - bottom);
  out.push(`<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="#333"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="#333"/>`);
  for (const t of niceTicks(y0, y1)) {
    out.push(`<text x="${left - 6}" y="${py(t) + 4}" text-anchor="end" font-size="10" font-family="sans-serif">${label(t)}</text>`);
    out.push(`<line x1="${left}" y1="${py(t)}" x2="${width - right}" y2="${py(t)}" stroke="#eee"/>`);
  }
  // Epoch axes: a tick per integer when there are few, not fractional epochs.
  const xTicks = xs.every(Number.isInteger) && x1 - x0 <= 10 ? Array.from({ length: x1 - x0 + 1 }, (_, i) => x0 + i) : niceTicks(x0, x1);
  for (const t of xTicks) {
    out.push(`<text x="${px(t)}" y="${height - bottom + 14}" text-anchor="middle" font-size="10" font-family="sans-serif">${label(t)}</text>`);
  }
  out.push(`<text x="${(left + width - right) / 2}" y="${height - 8}" text-anchor="middle" font-size="11" font-family="sans-serif">${esc(xLabel)}</text>`);
  out.push(`<text x="14" y="${(top + height - bottom) / 2}" text-anchor="middle" font-size="11" font-family="sans-serif" transform="rotate(-90 14 ${(top + height - bottom) / 2})">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const valid = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const d = valid.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    out.push(`<path class="series" d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const [x, y] of valid) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.5" fill="${color}"/>`);
    out.push(`<text x="${width - right - 4}" y="${top + 14 * (i + 1)}" text-anchor="end" font-size="11" font-family="sans-serif" fill="${color}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('');
}
