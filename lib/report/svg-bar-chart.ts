// Horizontal grouped bar chart as self-contained SVG (per-stage wall time and CPU seconds in the report).
import { escapeHtml } from './html-escape.ts';

interface BarGroup {
  readonly label: string;
  /** One value per series, in series order; null draws no bar. */
  readonly values: readonly (number | null)[];
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'];
const fmt = (v: number) => (Number.isInteger(v) || v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

export function svgBarChart(title: string, unit: string, seriesNames: readonly string[], groups: readonly BarGroup[], width = 560): string {
  const bar = 12;
  const gap = 10;
  const left = 130;
  const right = 70;
  const top = 30 + 16 * seriesNames.length;
  const groupHeight = bar * seriesNames.length + gap;
  const height = top + Math.max(1, groups.length) * groupHeight + 30;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}">`];
  out.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-family="sans-serif">${escapeHtml(title)}</text>`);
  const values = groups.flatMap((g) => g.values).filter((v): v is number => v !== null && Number.isFinite(v) && v >= 0);
  if (values.length === 0) {
    out.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="12" font-family="sans-serif">no data</text></svg>`);
    return out.join('');
  }
  const max = Math.max(...values) || 1;
  const scale = (v: number) => (v / max) * (width - left - right);
  seriesNames.forEach((name, i) => {
    const color = COLORS[i % COLORS.length]!;
    out.push(`<rect x="${left}" y="${26 + 16 * i}" width="10" height="10" fill="${color}"/>`);
    out.push(`<text x="${left + 14}" y="${35 + 16 * i}" font-size="11" font-family="sans-serif">${escapeHtml(name)} (${escapeHtml(unit)})</text>`);
  });
  groups.forEach((g, gi) => {
    const y0 = top + gi * groupHeight;
    out.push(`<text x="${left - 6}" y="${y0 + (bar * seriesNames.length) / 2 + 4}" text-anchor="end" font-size="11" font-family="sans-serif">${escapeHtml(g.label)}</text>`);
    g.values.forEach((v, si) => {
      if (v === null || !Number.isFinite(v) || v < 0) return;
      const y = y0 + si * bar;
      const w = scale(v);
      out.push(`<rect class="bar" x="${left}" y="${y}" width="${w.toFixed(1)}" height="${bar - 2}" fill="${COLORS[si % COLORS.length]!}"/>`);
      out.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + bar - 3}" font-size="10" font-family="sans-serif">${fmt(v)}</text>`);
    });
  });
  out.push(`<line x1="${left}" y1="${top - 4}" x2="${left}" y2="${height - 26}" stroke="#333"/>`);
  out.push('</svg>');
  return out.join('');
}
