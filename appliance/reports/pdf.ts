// Reports as PDF (pdfkit): the same title, paragraphs and tables as the HTML mail, laid out on A4
// landscape, with every action link a clickable annotation. Text is drawn only in the appliance's
// Japanese font (IPA Gothic, Debian package fonts-ipafont-gothic, listed in image/packages.txt),
// embedded as a subset, so Japanese subjects show and can be copied or extracted. pdfkit's own
// Helvetica has no Japanese glyphs: without the font file there is no PDF at all — `renderPdf`
// fails with a `PdfUnavailable` saying what to install, and the caller sends HTML instead.
// pdfkit (with fontkit and its tables) is loaded when the first PDF is made, not with the daemon:
// most boxes never make one, and it holds about 7 MiB of heap (issue 12).
import { readFile } from 'node:fs/promises';
import type { BarChart } from '../stats/svg-chart.ts';

/** Where Debian's fonts-ipafont-gothic puts its Gothic font. */
export const JAPANESE_FONT = '/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf';

export interface DocumentTable {
  heading: string;
  columns: string[];
  /** Relative widths of the columns. */
  widths: number[];
  rows: { cells: string[]; links?: { label: string; url: string }[] }[];
  /** Shown instead of the table when there are no rows. */
  empty: string;
}

/** What a report says, independent of HTML: what the PDF is drawn from. */
export interface ReportDocument {
  title: string;
  paragraphs: string[];
  /** Graphs drawn after the paragraphs (the same charts the HTML shows as SVG). */
  charts?: BarChart[];
  tables: DocumentTable[];
  footer: string[];
}

export class PdfUnavailable extends Error {}

const MARGIN = 36;
const INK = '#1d2733';
const MUTED = '#44546a';
const LINK = '#2f6fb2';

export async function renderPdf(doc: ReportDocument, fontPath: string = JAPANESE_FONT): Promise<Buffer> {
  let font: Buffer;
  try {
    font = await readFile(fontPath);
  } catch (err) {
    throw new PdfUnavailable(`the Japanese font ${fontPath} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): install the Debian package fonts-ipafont-gothic`);
  }
  const { default: PDFDocument } = await import('pdfkit');
  const pdf = new PDFDocument({ size: 'A4', layout: 'landscape', margin: MARGIN, info: { Title: doc.title, Producer: 'Mailmoat', Creator: 'Mailmoat' } });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (c: Buffer) => chunks.push(c));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  try {
    pdf.registerFont('report', font);
    pdf.font('report');
  } catch (err) {
    pdf.end();
    await done.catch(() => undefined);
    throw new PdfUnavailable(`the Japanese font ${fontPath} is not a usable font (${err instanceof Error ? err.message : String(err)}): reinstall the Debian package fonts-ipafont-gothic`);
  }
  const width = pdf.page.width - 2 * MARGIN;
  pdf.fillColor(INK).fontSize(16).text(doc.title, { width });
  pdf.moveDown(0.5);
  for (const p of doc.paragraphs) pdf.fontSize(10).fillColor(INK).text(p, { width }).moveDown(0.3);
  for (const c of doc.charts ?? []) chart(pdf, c, Math.min(width, 560));
  for (const t of doc.tables) table(pdf, t, width);
  pdf.moveDown(0.5);
  for (const f of doc.footer) pdf.fontSize(8).fillColor(MUTED).text(f, MARGIN, pdf.y, { width });
  pdf.end();
  return done;
}

function table(pdf: PDFKit.PDFDocument, t: DocumentTable, width: number): void {
  pdf.moveDown(0.6);
  pdf.fontSize(12).fillColor(INK).text(t.heading, MARGIN, pdf.y, { width });
  pdf.moveDown(0.2);
  if (!t.rows.length) {
    pdf.fontSize(10).fillColor(MUTED).text(t.empty, MARGIN, pdf.y, { width });
    return;
  }
  const total = t.widths.reduce((a, b) => a + b, 0);
  const cols = t.widths.map((w) => (w / total) * width);
  const pad = 3;
  const row = (cells: string[], size: number, colour: string, links?: { label: string; url: string }[]) => {
    pdf.fontSize(size);
    const heights = cells.map((c, i) => pdf.heightOfString(c || ' ', { width: cols[i] - 2 * pad }));
    const linkLine = links?.length ? pdf.heightOfString('X') + pad : 0;
    const h = Math.max(...heights) + 2 * pad + linkLine;
    if (pdf.y + h > pdf.page.height - MARGIN) pdf.addPage();
    const top = pdf.y;
    let x = MARGIN;
    cells.forEach((c, i) => {
      pdf.fillColor(colour).text(c, x + pad, top + pad, { width: cols[i] - 2 * pad });
      x += cols[i];
    });
    if (links?.length) {
      let lx = MARGIN + pad;
      const ly = top + h - linkLine;
      for (const l of links) {
        pdf.fillColor(LINK).text(l.label, lx, ly, { link: l.url, underline: true, lineBreak: false });
        lx += pdf.widthOfString(l.label) + 12;
      }
    }
    pdf.moveTo(MARGIN, top + h).lineTo(MARGIN + width, top + h).lineWidth(0.5).strokeColor('#dde3ea').stroke();
    pdf.x = MARGIN;
    pdf.y = top + h;
  };
  row(t.columns, 8, MUTED);
  for (const r of t.rows) row(r.cells, 9, INK, r.links);
}

/** A stacked bar chart as vectors: legend, value axis with a few grid lines, bars, some labels. */
function chart(pdf: PDFKit.PDFDocument, c: BarChart, width: number): void {
  const height = 150;
  if (pdf.y + height + 30 > pdf.page.height - MARGIN) pdf.addPage();
  pdf.moveDown(0.4);
  pdf.fontSize(11).fillColor(INK).text(c.title, MARGIN, pdf.y, { width });
  const top = pdf.y + 16;
  let lx = MARGIN;
  for (const s of c.series) {
    pdf.rect(lx, top - 13, 8, 8).fill(s.color);
    pdf.fontSize(8).fillColor(INK).text(s.name, lx + 11, top - 14, { lineBreak: false });
    lx += 11 + pdf.widthOfString(s.name) + 14;
  }
  const totals = c.labels.map((_, i) => c.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const axis = 34;
  const left = MARGIN + axis;
  const plotW = width - axis;
  const bottom = top + height - 18;
  const plotH = bottom - top;
  for (const v of [0, max / 2, max]) {
    const y = bottom - (v / max) * plotH;
    pdf.moveTo(left, y).lineTo(left + plotW, y).lineWidth(0.5).strokeColor(v === 0 ? '#5b6775' : '#e3e8ee').stroke();
    pdf.fontSize(7).fillColor(MUTED).text(String(Math.round(v)), MARGIN, y - 4, { width: axis - 4, align: 'right', lineBreak: false });
  }
  const slot = plotW / Math.max(1, c.labels.length);
  const every = Math.max(1, Math.ceil(28 / slot));
  c.labels.forEach((label, i) => {
    const x = left + i * slot + slot * 0.14;
    let base = 0;
    for (const s of c.series) {
      const v = s.values[i] ?? 0;
      if (v <= 0) continue;
      const h = (v / max) * plotH;
      pdf.rect(x, bottom - (base / max) * plotH - h, slot * 0.72, h).fill(s.color);
      base += v;
    }
    if (i % every === 0) pdf.fontSize(7).fillColor(MUTED).text(label, left + i * slot - 10, bottom + 3, { width: slot + 20, align: 'center', lineBreak: false });
  });
  pdf.x = MARGIN;
  pdf.y = bottom + 16;
}
