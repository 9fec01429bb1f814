// The domain report's graph: the statistics' timeline (hours for a day, the domain's local days for
// a week, empty buckets included) counted from logged mail, drawn as SVG in the HTML report with
// each bar's figures, and drawn into the PDF (its title extractable with pdftotext).
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { MessageLogRecord } from '../../appliance/logsearch/message-log.ts';
import { renderPdf } from '../../appliance/reports/pdf.ts';
import { renderDomainReport, type Totals } from '../../appliance/reports/render.ts';
import { Stats } from '../../appliance/stats/counters.ts';
import { openStore } from '../../appliance/store/store.ts';

const run = promisify(execFile);

function record(id: string, at: number, status: 'delivered' | 'quarantined'): MessageLogRecord {
  return {
    id, receivedAt: at, finishedAt: at, direction: 'inbound', mailFrom: 's@sender.test', size: 100, attempts: [], status,
    recipients: [{ address: 'u@example.jp', original: 'u@example.jp', status, mainClass: status === 'quarantined' ? 'Spam' : 'Not Spam' }],
  };
}

test('the timeline has every hour of a day and every local day of a week, with the mail counted where it arrived', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mm-report-graph-'));
  const store = await openStore(dir);
  const stats = await Stats.open(store, { zoneOf: () => 'Asia/Tokyo', flushMs: 60_000 });
  t.teardown(async () => { await stats.close(); await store.close(); await rm(dir, { recursive: true, force: true }); });
  const day = Date.parse('2026-11-28T15:00:00Z'); // 29 Nov 00:00 in Tokyo
  for (const [i, r] of [record('a', day + 9.5 * 3_600_000, 'delivered'), record('b', day + 9.6 * 3_600_000, 'delivered'),
    record('c', day + 20 * 3_600_000, 'quarantined'), record('d', day + 3 * 86_400_000, 'delivered')].entries()) {
    stats.answered(r);
    if (i !== 2) stats.finished(r);
  }
  const hours = await stats.timeline(['example.jp'], day, day + 86_400_000);
  t.is(hours.length, 24);
  t.true(hours.every((h) => h.unit === 'hour'));
  t.is(hours[9].counts.delivered, 2, '09:00–10:00 Tokyo');
  t.is(hours[20].counts.quarantined, 1);
  t.is(hours.reduce((n, h) => n + h.counts.delivered, 0), 2, 'the next days are outside the period');
  const days = await stats.timeline(['example.jp'], day, day + 7 * 86_400_000);
  t.deepEqual(days.map((d) => d.unit), Array(7).fill('day'));
  t.deepEqual(days.map((d) => d.counts.delivered), [2, 0, 0, 1, 0, 0, 0]);
  t.is(days[3].at, day + 3 * 86_400_000, 'each day starts at its local midnight');
});

const zero: Totals = { received: 0, delivered: 0, quarantined: 0, rejected: 0, spam: 0, virus: 0 };

function view(language: 'ja' | 'en') {
  const since = Date.parse('2026-11-22T15:00:00Z');
  return {
    language, zone: 'Asia/Tokyo', hostname: 'mx.example.jp', domain: 'example.jp', since, until: since + 7 * 86_400_000,
    totals: { ...zero, received: 12, delivered: 9, quarantined: 2, rejected: 1 }, held: 0, items: [], linksUntil: since,
    timeline: Array.from({ length: 7 }, (_, i) => ({ at: since + i * 86_400_000, unit: 'day' as const,
      totals: { ...zero, delivered: i === 2 ? 9 : 0, quarantined: i === 2 ? 2 : 0, rejected: i === 5 ? 1 : 0 } })),
  };
}

test('the HTML report draws the timeline as SVG, one bar segment per figure, labelled in the report\'s language', (t) => {
  const ja = renderDomainReport(view('ja')).html;
  t.regex(ja, /<svg[^>]*aria-label="期間中の配送・隔離・拒否の推移"/);
  t.regex(ja, /<title>11\/25 — 配送: 9, 隔離: 2, 拒否: 0<\/title>/);
  t.is((ja.match(/<rect [^>]*><title>/g) ?? []).length, 3, 'delivered and quarantined on one day, rejected on another');
  t.notRegex(ja, /<script|<image|href="http/);
  const en = renderDomainReport(view('en')).html;
  t.regex(en, /aria-label="Delivered, quarantined and refused mail over the period"/);
  t.regex(en, /<title>25\/11 — Delivered: 9/);
});

test('the PDF report draws the graph with its title (pdftotext reads it)', async (t) => {
  const rendered = renderDomainReport(view('ja'));
  t.is(rendered.document?.charts?.length, 1);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mm-report-graph-pdf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'r.pdf');
  await writeFile(file, await renderPdf(rendered.document!));
  const { stdout } = await run('pdftotext', ['-enc', 'UTF-8', file, '-']);
  t.true(stdout.includes('期間中の配送・隔離・拒否の推移'), stdout);
  t.true(stdout.includes('11/25'), 'day labels are drawn');
});
