// Stacked bar charts as SVG text, for the console's statistics and dashboard and for reports (PDF,
// mail): one pure function from numbers to markup, no DOM, so the server draws the same picture.
// The markup uses presentation attributes only (no style attributes: the console's CSP refuses
// them) and fixed sizes in a viewBox, so it scales to its container. Every bar carries a <title>
// with its figures (a tooltip in browsers) and the chart its accessible name; the numbers themselves
// belong in a table beside the chart, which the console and reports show.

export interface ChartSeries {
  name: string;
  /** Any SVG paint, e.g. #1d5fa8. */
  color: string;
  /** One value per label. */
  values: number[];
}

export interface BarChart {
  /** The chart's accessible name and title. */
  title: string;
  /** One per bar, in order. */
  labels: string[];
  /** Stacked bottom to top in this order. */
  series: ChartSeries[];
  width?: number;
  height?: number;
  /** How a value reads on the axis and in tooltips (default: grouped digits). */
  formatValue?: (n: number) => string;
}

/** Colours that stay apart for the usual outcomes (and in grey print, by lightness). */
export const PALETTE = ['#1d5fa8', '#f5a623', '#c62828', '#6a1b9a', '#2e7d32', '#00838f', '#8d6e63', '#546e7a'];

const FONT = 'system-ui, sans-serif';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A round step giving about `count` ticks up to `max` (1, 2 or 5 times a power of ten). */
export function niceStep(max: number, count = 4): number {
  if (max <= 0) return 1;
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  return Math.max(step, 1);
}

/** About how wide a text is drawn at 11 px (CJK characters are full width). */
const textWidth = (t: string) => [...t].reduce((w, ch) => w + (ch.charCodeAt(0) > 0x2e7f ? 11 : 6.5), 0);
const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

export function barChartSvg(c: BarChart): string {
  const width = c.width ?? 720;
  const height = c.height ?? 260;
  const format = c.formatValue ?? ((n: number) => n.toLocaleString('en-US'));
  const n = c.labels.length;
  const totals = c.labels.map((_, i) => c.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const step = niceStep(Math.max(0, ...totals));
  const top = Math.max(step, Math.ceil(Math.max(0, ...totals) / step) * step);
  const axisWidth = Math.max(...[0, top].map((v) => format(v).length)) * 7 + 12;
  const legendHeight = 22;
  const box = { left: axisWidth, right: width - 8, top: legendHeight + 8, bottom: height - 24 };
  const plotH = box.bottom - box.top;
  const slot = (box.right - box.left) / Math.max(n, 1);
  const barW = Math.max(1, slot * 0.72);
  const y = (v: number) => box.bottom - (v / top) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(c.title)}" font-family="${FONT}" font-size="11">`);
  out.push(`<title>${escapeXml(c.title)}</title>`);
  // Grid and value axis.
  for (let v = 0; v <= top; v += step) {
    const yy = num(y(v));
    out.push(`<line x1="${box.left}" x2="${box.right}" y1="${yy}" y2="${yy}" stroke="${v === 0 ? '#5b6775' : '#e3e8ee'}" stroke-width="1"/>`);
    out.push(`<text x="${box.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="#5b6775">${escapeXml(format(v))}</text>`);
  }
  // Bars, stacked bottom up; an empty bucket draws nothing.
  for (let i = 0; i < n; i++) {
    const x = num(box.left + i * slot + (slot - barW) / 2);
    let base = 0;
    const figures = c.series.map((s) => `${s.name}: ${format(s.values[i] ?? 0)}`).join(', ');
    for (const s of c.series) {
      const v = s.values[i] ?? 0;
      if (v <= 0) continue;
      const y1 = y(base + v);
      out.push(`<rect x="${x}" y="${num(y1)}" width="${num(barW)}" height="${num(y(base) - y1)}" fill="${escapeXml(s.color)}">` +
        `<title>${escapeXml(`${c.labels[i]} — ${figures}`)}</title></rect>`);
      base += v;
    }
  }
  // Category labels, thinned so they do not overlap.
  const longest = Math.max(1, ...c.labels.map(textWidth));
  const every = Math.max(1, Math.ceil((longest + 6) / slot));
  for (let i = 0; i < n; i += every) {
    out.push(`<text x="${num(box.left + i * slot + slot / 2)}" y="${box.bottom + 15}" text-anchor="middle" fill="#1c2430">${escapeXml(c.labels[i])}</text>`);
  }
  // Legend along the top.
  let lx = box.left;
  for (const s of c.series) {
    out.push(`<rect x="${num(lx)}" y="6" width="10" height="10" fill="${escapeXml(s.color)}"/>`);
    out.push(`<text x="${num(lx + 14)}" y="11" dominant-baseline="middle" fill="#1c2430">${escapeXml(s.name)}</text>`);
    lx += 14 + textWidth(s.name) + 14;
  }
  out.push('</svg>');
  return out.join('');
}
