// Statistics: the counters of one period (the last 24 hours, a day, a week, a month, a year; see
// appliance/stats/periods.ts) bucket by bucket, with their totals, as JSON for the console's
// graphs and as CSV (the numbers behind each graph). The appliance admin reads the whole box or
// any domain; a domain admin one of their domains, or all of them summed; mailbox users have no
// statistics (counters are kept per domain). Buckets are in the domain's time zone (the
// appliance's for the whole box or several domains), which the answer names. Each bucket carries
// the queue's and quarantine's sampled average and peak size where samples were taken.
// /api/stats/top gives the period's top senders, sender domains, recipients, client IPs or virus
// names (with each count's error bound), /api/stats/scores its spam-score histogram; each has its
// CSV under /export.
import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import { problem } from '../../config/problems.ts';
import { csvStream } from '../../csv/csv.ts';
import { isoDate, localTime, parseIsoDate } from '../../stats/calendar.ts';
import { COUNTERS, GAUGES, GRANULARITIES, type Counts } from '../../stats/counters.ts';
import { PERIODS, STEPS } from '../../stats/periods.ts';
import { TOP_KINDS } from '../../stats/top.ts';
import { invalid, unavailable } from '../errors.ts';
import type { SchemaRequest } from '../guard.ts';
import { scopeOf, type StatisticsDays, type StatisticsQuery, type StatisticsSeries } from '../providers/interfaces.ts';
import type { ConsoleContext } from '../route-context.ts';

const PeriodSchema = Type.Union([Type.Literal('24h'), Type.Literal('day'), Type.Literal('week'), Type.Literal('month'), Type.Literal('year')]);
const StepSchema = Type.Union([Type.Literal('hour'), Type.Literal('day'), Type.Literal('month'), Type.Literal('year')]);
// The schemas name the same values as the modules that define them.
PERIODS satisfies readonly Static<typeof PeriodSchema>[];
GRANULARITIES satisfies readonly Static<typeof StepSchema>[];

const StatsQuery = Type.Object({
  period: PeriodSchema,
  date: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a local date within the period (YYYY-MM-DD); default today' })),
  domain: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: 'one domain; default the whole scope' })),
  step: Type.Optional(StepSchema),
}, { additionalProperties: false });
type StatsQuery = Static<typeof StatsQuery>;

const TopKindSchema = Type.Union([Type.Literal('sender'), Type.Literal('senderDomain'), Type.Literal('recipient'), Type.Literal('clientIp'), Type.Literal('virus')]);
TOP_KINDS satisfies readonly Static<typeof TopKindSchema>[];
const DaysQuery = {
  period: PeriodSchema,
  date: StatsQuery.properties.date,
  domain: StatsQuery.properties.domain,
};
const ScoresQuery = Type.Object(DaysQuery, { additionalProperties: false });
const TopQuery = Type.Object({
  ...DaysQuery,
  kind: TopKindSchema,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'how many rows (default 20)' })),
}, { additionalProperties: false });

const CountsSchema = Type.Object(Object.fromEntries(COUNTERS.map((c) => [c, Type.Integer()])) as Record<keyof Counts, ReturnType<typeof Type.Integer>>);
const GaugeValues = Type.Object(Object.fromEntries(GAUGES.map((g) => [g, Type.Optional(Type.Integer())])));
const DaysReply = {
  domains: Type.Union([Type.Literal('all'), Type.Array(Type.String())]),
  zone: Type.String(),
  period: PeriodSchema,
  firstDay: Type.String(),
  lastDay: Type.String(),
};
const TopReply = Type.Object({
  ...DaysReply,
  kind: TopKindSchema,
  items: Type.Array(Type.Object({ value: Type.String(), count: Type.Integer(), error: Type.Integer() })),
});
const ScoresReply = Type.Object({ ...DaysReply, binWidth: Type.Number(), bins: Type.Array(Type.Integer()) });
const SeriesReply = Type.Object({
  domains: Type.Union([Type.Literal('all'), Type.Array(Type.String())]),
  zone: Type.String(),
  period: PeriodSchema,
  step: StepSchema,
  start: Type.String(),
  end: Type.String(),
  previous: Type.Optional(Type.String()),
  next: Type.Optional(Type.String()),
  points: Type.Array(Type.Object({ start: Type.String(), counts: CountsSchema, gauges: Type.Optional(Type.Object({ average: GaugeValues, peak: GaugeValues })) })),
  totals: CountsSchema,
});

const domainTarget = (req: FastifyRequest) => {
  const domain = (req.query as { domain?: string }).domain;
  return domain ? [{ domain: domain.toLowerCase() }] : [];
};

/** Fastify drops parameters a schema does not name; a misspelt one is refused instead. */
const refuseUnknown = (schema: { properties: object }) => async (req: FastifyRequest): Promise<void> => {
  const unknown = Object.keys(req.query as object).filter((k) => !(k in schema.properties));
  if (unknown.length) throw invalid(unknown.map((k) => problem(`/querystring/${k}`, 'problem.unknown-keys', { keys: k })));
};

/** A CSV file as the answer, named for what it holds. */
function sendCsv(reply: FastifyReply, name: string, header: string[], rows: string[][]): FastifyReply {
  async function* chunks(): AsyncGenerator<string[][]> { yield rows; }
  reply.header('content-disposition', `attachment; filename="${name.replace(/[^\w.+-]/g, '_')}"`).type('text/csv; charset=utf-8');
  return reply.send(Readable.from(csvStream(header, chunks())));
}

const fileStem = (s: StatisticsDays) => `mailmoat-stats-${s.domains === 'all' ? 'all' : s.domains.join('+')}-${s.period}-${s.firstDay}`;

export default async function statsRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const access = { roles: ['admin', 'domain-admin'] as const, targets: domainTarget };

  const provider = () => {
    if (!ctx.providers.statistics) throw unavailable('api.unavailable.statistics');
    return ctx.providers.statistics;
  };
  /** The query every statistics read shares: the caller's scope, period, date and domain. */
  const common = (req: FastifyRequest, q: { period: StatsQuery['period']; date?: string; domain?: string }): StatisticsQuery => {
    const date = q.date === undefined ? undefined : parseIsoDate(q.date);
    if (q.date !== undefined && !date) throw invalid([problem('/querystring/date', 'problem.format', { format: 'date' })]);
    return { scope: scopeOf(req.principal!), period: q.period, ...(q.domain ? { domain: q.domain } : {}), ...(date ? { date } : {}) };
  };

  const read = async (req: SchemaRequest<{ querystring: typeof StatsQuery }>): Promise<StatisticsSeries> => {
    const q: StatsQuery = req.query;
    const base = common(req, q);
    if (q.step && !STEPS[q.period].includes(q.step)) {
      throw invalid([problem('/querystring/step', 'problem.one-of', { values: STEPS[q.period].join(', ') })]);
    }
    return provider().series({ ...base, ...(q.step ? { step: q.step } : {}) });
  };
  const readTop = (req: SchemaRequest<{ querystring: typeof TopQuery }>) => provider().top({ ...common(req, req.query), kind: req.query.kind, limit: req.query.limit ?? 20 });
  const readScores = (req: SchemaRequest<{ querystring: typeof ScoresQuery }>) => provider().scores(common(req, req.query));

  app.get('/api/stats', {
    config: { access }, schema: { querystring: StatsQuery, response: { 200: SeriesReply } }, preValidation: refuseUnknown(StatsQuery),
  }, (req) => read(req));

  app.get('/api/stats/top', {
    config: { access }, schema: { querystring: TopQuery, response: { 200: TopReply } }, preValidation: refuseUnknown(TopQuery),
  }, (req) => readTop(req));

  app.get('/api/stats/top/export', { config: { access }, schema: { querystring: TopQuery }, preValidation: refuseUnknown(TopQuery) }, async (req, reply) => {
    const s = await readTop(req);
    return sendCsv(reply, `${fileStem(s)}-top-${s.kind}.csv`, [s.kind, 'count', 'error'], s.items.map((i) => [i.value, String(i.count), String(i.error)]));
  });

  app.get('/api/stats/scores', {
    config: { access }, schema: { querystring: ScoresQuery, response: { 200: ScoresReply } }, preValidation: refuseUnknown(ScoresQuery),
  }, (req) => readScores(req));

  app.get('/api/stats/scores/export', { config: { access }, schema: { querystring: ScoresQuery }, preValidation: refuseUnknown(ScoresQuery) }, async (req, reply) => {
    const s = await readScores(req);
    const upper = (i: number) => (i === s.bins.length - 1 ? 100 : (i + 1) * s.binWidth);
    return sendCsv(reply, `${fileStem(s)}-scores.csv`, ['score from', 'score below', 'messages'], s.bins.map((n, i) => [String(i * s.binWidth), String(upper(i)), String(n)]));
  });

  app.get('/api/stats/export', { config: { access }, schema: { querystring: StatsQuery }, preValidation: refuseUnknown(StatsQuery) }, async (req, reply) => {
    const s = await read(req);
    // Local times of the zone the buckets were counted in, as a spreadsheet wants them.
    const local = (iso: string) => {
      const l = localTime(Date.parse(iso), s.zone);
      return `${isoDate(l)} ${String(l.hour).padStart(2, '0')}:${String(l.minute).padStart(2, '0')}`;
    };
    // The sampled sizes follow the counters: empty where no sample was taken (or the gauge is not the domain's).
    const gauge = (v: number | undefined) => (v === undefined ? '' : String(v));
    const rows = s.points.map((p) => [local(p.start), ...COUNTERS.map((c) => String(p.counts[c])),
      ...GAUGES.flatMap((g) => [gauge(p.gauges?.average[g]), gauge(p.gauges?.peak[g])])]);
    const name = `mailmoat-stats-${s.domains === 'all' ? 'all' : s.domains.join('+')}-${s.period}-${s.start.slice(0, 10)}.csv`;
    return sendCsv(reply, name, [`start (${s.zone})`, ...COUNTERS, ...GAUGES.flatMap((g) => [`${g} (average)`, `${g} (peak)`])], rows);
  });
}
