// Quarantine: search, a message's details (score, reasons, headers, attachments), a preview page
// that can run nothing and load nothing remote, and the actions — release, release and train,
// allow-list and release, block-list and delete, delete, forward (admin only) — one message at a
// time or in bulk. Everyone may use these; the provider limits each caller to their own copies
// (mailbox user) or their domains' (domain admin), and a message without such a copy is 404.
// "Every message matching the search" is done here, by the search in the caller's scope, not by
// ids the browser sends: first counted (with the instant of the count), then acted on only when
// the messages received up to that instant are still the number the person confirmed.
// Search pages newest first: a page's `next` cursor, passed back as `cursor`, gives the next.
// A release answers with the queued copies it made (`undo`); while such a copy still waits in the
// delivery queue with no attempt in flight, /api/quarantine-undo takes it back into the quarantine
// (the caller's recipients only); once delivered or while being delivered it refuses, saying so.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { ConsoleContext } from '../route-context.ts';
import { problem } from '../../config/problems.ts';
import { errorText, LocalizedError } from '../../i18n/server-messages.ts';
import { reasonText } from '../../i18n/reasons.ts';
import { whyText } from '../../i18n/why.ts';
import type { Language } from '../../i18n/catalog.ts';
import { ApiError, forbidden, invalid, notFound, requestLanguage, unavailable } from '../errors.ts';
import { scopeOf, type QuarantineAction, type QuarantineProvider } from '../providers/interfaces.ts';
import { actorName, domainOf, type Principal } from '../roles.ts';
import { decodeCursor, encodeCursor } from '../providers/cursor.ts';
import { feedbackEnabled } from '../../policy/policy.ts';

export const QUARANTINE_ACTIONS: readonly QuarantineAction[] = ['release', 'release-train', 'allow-release', 'allow-domain-release', 'report-spam', 'block-delete', 'delete', 'forward'];
/** The actions that teach the classifier: a mailbox user's are refused where their domain turned feedback off. */
const TRAINING_ACTIONS: readonly QuarantineAction[] = ['release-train', 'report-spam'];

/** The preview document may show inline styles and embedded (data:) images, and nothing else. */
const PREVIEW_DOC_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; form-action 'none'";
/** As a header it also sandboxes the document (no scripts, an opaque origin) and only the console may frame it. */
export const PREVIEW_CSP = `${PREVIEW_DOC_CSP}; sandbox; frame-ancestors 'self'`;

const SearchQuery = Type.Object({
  sender: Type.Optional(Type.String({ maxLength: 320 })),
  recipient: Type.Optional(Type.String({ maxLength: 320 })),
  subject: Type.Optional(Type.String({ maxLength: 500 })),
  class: Type.Optional(Type.String({ maxLength: 40 })),
  from: Type.Optional(Type.String({ maxLength: 40 })),
  to: Type.Optional(Type.String({ maxLength: 40 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 400, description: 'the `next` of the previous page' })),
});
/** The search fields without paging: what "every message matching" means. */
const MatchQuery = Type.Omit(SearchQuery, ['limit', 'cursor']);
/** Most messages one "act on every match" takes: beyond it the admin narrows the search. */
export const MATCH_MAX = 5000;
const MATCH_PAGE = 500;
const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
const ActionSchema = Type.Union(QUARANTINE_ACTIONS.map((a) => Type.Literal(a)));
const ForwardTo = Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 320 });

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export default async function quarantineRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const provider = (): QuarantineProvider => {
    const q = ctx.providers.quarantine;
    if (!q) throw unavailable('api.unavailable.quarantine');
    return q;
  };
  const any = { roles: 'any' as const };

  async function act(p: Principal, id: string, action: QuarantineAction, forwardTo?: string) {
    if (action === 'forward' && p.role !== 'admin') throw forbidden('api.forbidden.forward');
    if (action === 'forward' && !forwardTo) throw invalid([problem('/forwardTo', 'problem.required')]);
    if (p.role === 'user' && TRAINING_ACTIONS.includes(action) && !feedbackEnabled(ctx.config.current, domainOf(p.address ?? ''))) {
      throw forbidden('api.forbidden.feedback-off', { domain: domainOf(p.address ?? '') });
    }
    try {
      return await provider().act(id, action, { scope: scopeOf(p), forwardTo });
    } catch (err) {
      if (err instanceof ApiError) throw err;
      // The quarantine's refusals say what went wrong in either language; anything else (a
      // forward the smarthost refused) only in the words it came with.
      const text = err instanceof LocalizedError ? err.text : { key: 'api.quarantine-action-failed' as const, params: { detail: (err as Error).message } };
      throw new ApiError(409, 'quarantine-action-failed', text);
    }
  }

  /** One action on each message in turn; a refusal of the whole (role, feedback off, input) ends it. */
  async function actOnEach(p: Principal, ids: string[], action: QuarantineAction, lang: Language, forwardTo?: string) {
    const results: { id: string; ok: boolean; affected?: string[]; undo?: string[]; error?: string }[] = [];
    for (const id of ids) {
      try {
        const r = await act(p, id, action, forwardTo);
        results.push(r ? { id, ok: true, affected: r.affected, ...(r.undo ? { undo: r.undo } : {}) } : { id, ok: false, error: errorText(lang, { key: 'api.not-found.quarantined' }) });
      } catch (err) {
        if (err instanceof ApiError && (err.status === 403 || err.status === 400)) throw err;
        results.push({ id, ok: false, error: err instanceof ApiError ? errorText(lang, err.text) : (err as Error).message });
      }
    }
    return results;
  }

  app.get('/api/quarantine', { config: { access: any }, schema: { querystring: SearchQuery } }, async (req) => {
    const { cursor, ...q } = req.query;
    const after = cursor === undefined ? undefined : decodeCursor('quarantine', cursor);
    const page = await provider().search({ ...q, scope: scopeOf(req.principal!), limit: q.limit ?? 50, after });
    return { items: page.items, ...(page.resume ? { next: encodeCursor('quarantine', page.resume) } : {}) };
  });

  app.get('/api/quarantine/:id', { config: { access: any }, schema: { params: IdParam } }, async (req) => {
    const detail = await provider().get(req.params.id, scopeOf(req.principal!));
    if (!detail) throw notFound('api.not-found.quarantined');
    // Each reason, and why it was held, in the caller's words; one the catalogs do not know keeps its stored sentence.
    const lang = requestLanguage(req);
    const reasons = detail.reasons.map((r) => {
      const description = reasonText(lang, { name: r.name, params: r.params, detail: r.description });
      return { ...r, ...(description ? { description } : {}) };
    });
    return { message: { ...detail, reasons, why: detail.why.map((w) => whyText(lang, w)) }, canForward: req.principal!.role === 'admin' };
  });

  app.get('/api/quarantine/:id/preview', { config: { access: any }, schema: { params: IdParam } }, async (req, reply) => {
    const detail = await provider().get(req.params.id, scopeOf(req.principal!));
    if (!detail) throw notFound('api.not-found.quarantined');
    const meta = `<meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${PREVIEW_DOC_CSP}">`;
    const body = detail.html ?? `<pre style="white-space:pre-wrap;font-family:monospace">${escapeHtml(detail.text ?? '')}</pre>`;
    reply.header('content-security-policy', PREVIEW_CSP).header('x-frame-options', 'SAMEORIGIN').type('text/html; charset=utf-8');
    return `<!doctype html><html><head>${meta}</head><body>${body}</body></html>`;
  });

  app.post('/api/quarantine/:id/:action', {
    config: { access: any },
    schema: { params: Type.Object({ id: IdParam.properties.id, action: ActionSchema }), body: Type.Optional(Type.Object({ forwardTo: Type.Optional(ForwardTo) })) },
  }, async (req) => {
    const { id, action } = req.params;
    const forwardTo = req.body?.forwardTo;
    const result = await act(req.principal!, id, action, forwardTo);
    if (!result) throw notFound('api.not-found.quarantined');
    req.auditDetail = { id, action, affected: result.affected, ...(result.undo ? { copies: result.undo } : {}) };
    // The copies' recipients say whose mail it was (a forward's address does not).
    if (action !== 'forward') req.auditDomains = result.affected.map(domainOf);
    return result;
  });

  app.post('/api/quarantine-bulk', {
    config: { access: any },
    schema: { body: Type.Object({ ids: Type.Array(IdParam.properties.id, { minItems: 1, maxItems: 500 }), action: ActionSchema, forwardTo: Type.Optional(ForwardTo) }) },
  }, async (req) => {
    const { ids, action, forwardTo } = req.body;
    const results = await actOnEach(req.principal!, ids, action, requestLanguage(req), forwardTo);
    req.auditDetail = { action, results: results.map((r) => ({ id: r.id, ok: r.ok })) };
    if (action !== 'forward') req.auditDomains = [...new Set(results.flatMap((r) => r.affected ?? []).map(domainOf))];
    return { results };
  });

  /** The ids of the held messages matching `q` in the caller's scope, received up to `asOf`; at most MATCH_MAX + 1. */
  async function matching(p: Principal, q: Omit<Parameters<QuarantineProvider['search']>[0], 'scope' | 'limit' | 'after'>, asOf: number): Promise<string[]> {
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const page = await provider().search({ ...q, scope: scopeOf(p), limit: MATCH_PAGE, after });
      for (const i of page.items) if (Date.parse(i.receivedAt) <= asOf) ids.push(i.id);
      after = page.resume;
    } while (after !== undefined && ids.length <= MATCH_MAX);
    return ids.slice(0, MATCH_MAX + 1);
  }

  app.get('/api/quarantine-matching', { config: { access: any }, schema: { querystring: MatchQuery } }, async (req) => {
    const asOf = new Date();
    const ids = await matching(req.principal!, req.query, asOf.getTime());
    return { count: Math.min(ids.length, MATCH_MAX), more: ids.length > MATCH_MAX, max: MATCH_MAX, asOf: asOf.toISOString() };
  });

  app.post('/api/quarantine-matching', {
    config: { access: any },
    schema: { body: Type.Object({
      query: MatchQuery, action: ActionSchema, forwardTo: Type.Optional(ForwardTo),
      asOf: Type.String({ format: 'date-time', description: 'the `asOf` of the count the person confirmed' }),
      expected: Type.Integer({ minimum: 1, maximum: MATCH_MAX, description: 'the count the person confirmed' }),
    }) },
  }, async (req) => {
    const { query, action, forwardTo, asOf, expected } = req.body;
    const ids = await matching(req.principal!, query, Date.parse(asOf));
    if (ids.length > MATCH_MAX) throw new ApiError(409, 'quarantine-matching-too-many', { key: 'api.quarantine-matching-too-many', params: { max: MATCH_MAX } });
    // Fewer is fine (someone released some meanwhile); more would act on messages nobody confirmed.
    if (ids.length > expected) throw new ApiError(409, 'quarantine-matching-changed', { key: 'api.quarantine-matching-changed', params: { count: ids.length, expected } });
    const results = await actOnEach(req.principal!, ids, action, requestLanguage(req), forwardTo);
    req.auditDetail = { action, matching: query, count: ids.length, failed: results.filter((r) => !r.ok).length };
    if (action !== 'forward') req.auditDomains = [...new Set(results.flatMap((r) => r.affected ?? []).map(domainOf))];
    return { results };
  });

  app.post('/api/quarantine-undo', {
    config: { access: any },
    schema: { body: Type.Object({ copies: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 5000, description: 'the `undo` copies of releases' }) }) },
  }, async (req) => {
    const p = req.principal!;
    const undo = provider().undo;
    if (!undo) throw unavailable('api.unavailable.quarantine');
    const lang = requestLanguage(req);
    const results: { copy: string; ok: boolean; id?: string; affected?: string[]; error?: string }[] = [];
    let refusal: ApiError | undefined;
    for (const copy of new Set(req.body.copies)) {
      try {
        const r = await undo(copy, { scope: scopeOf(p), by: actorName(p) });
        // No note (any more): a released copy the caller can see in the message log has left the queue.
        if (!r) throw await ctx.providers.log?.get(copy, scopeOf(p)) ? new ApiError(409, 'quarantine-undo-refused', { key: 'quarantine.undo-gone', params: { id: copy } }) : notFound('api.not-found.released');
        results.push({ copy, ok: true, id: r.id, affected: r.affected });
      } catch (err) {
        if (!(err instanceof LocalizedError || err instanceof ApiError)) throw err;
        refusal = err instanceof ApiError ? err : new ApiError(409, 'quarantine-undo-refused', err.text);
        results.push({ copy, ok: false, error: errorText(lang, refusal.text) });
      }
    }
    const done = results.filter((r) => r.ok);
    // The audit says it in words; the domains are the recipients' whose copies came back.
    req.auditDetail = {
      results: results.map((r) => ({ id: r.id ?? r.copy, ok: r.ok })),
      words: done.map((r) => `release undone: message ${r.id} back in quarantine for ${r.affected!.join(', ')}`).join('; ') || 'release not undone',
    };
    req.auditDomains = [...new Set(done.flatMap((r) => r.affected ?? []).map(domainOf))];
    // One copy asked for and not taken back: the request failed, saying why.
    if (results.length === 1 && refusal) throw refusal;
    return { results };
  });
}
