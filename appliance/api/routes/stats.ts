// Statistics: the counters of one period (the last 24 hours, a day, a week, a month, a year; see
// appliance/stats/periods.ts) bucket by bucket, with their totals, as JSON for the console's
// graphs and as CSV (the numbers behind each graph). The appliance admin reads the whole box or
// any domain; a domain admin one of their domains, or all of them summed; mailbox users have no
// statistics (counters are kept per domain). Buckets are in the domain's time zone (the
// appliance's for the whole box or several domains), which the answer names.
import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import { problem } from '../../config/problems.ts';
import { csvStream } from '../../csv/csv.ts';
import { isoDate, localTime, parseIsoDate } from '../../stats/calendar.ts';
import { COUNTERS, GRANULARITIES, type Counts } from '../../stats/counters.ts';
import { PERIODS, STEPS } from '../../stats/periods.ts';
import { invalid, unavailable } from '../errors.ts';
import type { SchemaRequest } from '../guard.ts';
import { scopeOf, type StatisticsSeries } from '../providers/interfaces.ts';
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

const CountsSchema = Type.Object(Object.fromEntries(COUNTERS.map((c) => [c, Type.Integer()])) as Record<keyof Counts, ReturnType<typeof Type.Integer>>);
const SeriesReply = Type.Object({
  domains: Type.Union([Type.Literal('all'), Type.Array(Type.String())]),
  zone: Type.String(),
  period: PeriodSchema,
  step: StepSchema,
  start: Type.String(),
  end: Type.String(),
  previous: Type.Optional(Type.String()),
  next: Type.Optional(Type.String()),
  points: Type.Array(Type.Object({ start: Type.String(), counts: CountsSchema })),
  totals: CountsSchema,
});

const domainTarget = (req: SchemaRequest<{ querystring: typeof StatsQuery }>) => (req.query.domain ? [{ domain: req.query.domain.toLowerCase() }] : []);

/** Fastify drops parameters a schema does not name; a misspelt one is refused instead. */
async function refuseUnknown(req: FastifyRequest): Promise<void> {
  const unknown = Object.keys(req.query as object).filter((k) => !(k in StatsQuery.properties));
  if (unknown.length) throw invalid(unknown.map((k) => problem(`/querystring/${k}`, 'problem.unknown-keys', { keys: k })));
}

export default async function statsRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const access = { roles: ['admin', 'domain-admin'] as const, targets: domainTarget };

  const read = async (req: SchemaRequest<{ querystring: typeof StatsQuery }>): Promise<StatisticsSeries> => {
    const provider = ctx.providers.statistics;
    if (!provider) throw unavailable('api.unavailable.statistics');
    const q: StatsQuery = req.query;
    const date = q.date === undefined ? undefined : parseIsoDate(q.date);
    if (q.date !== undefined && !date) throw invalid([problem('/querystring/date', 'problem.format', { format: 'date' })]);
    if (q.step && !STEPS[q.period].includes(q.step)) {
      throw invalid([problem('/querystring/step', 'problem.one-of', { values: STEPS[q.period].join(', ') })]);
    }
    return provider.series({ scope: scopeOf(req.principal!), period: q.period, ...(q.domain ? { domain: q.domain } : {}), ...(date ? { date } : {}), ...(q.step ? { step: q.step } : {}) });
  };

  app.get('/api/stats', {
    config: { access }, schema: { querystring: StatsQuery, response: { 200: SeriesReply } }, preValidation: refuseUnknown,
  }, (req) => read(req));

  app.get('/api/stats/export', { config: { access }, schema: { querystring: StatsQuery }, preValidation: refuseUnknown }, async (req, reply) => {
    const s = await read(req);
    // Local times of the zone the buckets were counted in, as a spreadsheet wants them.
    const local = (iso: string) => {
      const l = localTime(Date.parse(iso), s.zone);
      return `${isoDate(l)} ${String(l.hour).padStart(2, '0')}:${String(l.minute).padStart(2, '0')}`;
    };
    async function* rows(): AsyncGenerator<string[][]> {
      yield s.points.map((p) => [local(p.start), ...COUNTERS.map((c) => String(p.counts[c]))]);
    }
    const name = `mailmoat-stats-${s.domains === 'all' ? 'all' : s.domains.join('+')}-${s.period}-${s.start.slice(0, 10)}.csv`;
    reply.header('content-disposition', `attachment; filename="${name.replace(/[^\w.+-]/g, '_')}"`).type('text/csv; charset=utf-8');
    return reply.send(Readable.from(csvStream([`start (${s.zone})`, ...COUNTERS], rows())));
  });
}
