// End-user feedback: a mailbox user (or an admin) tells the filter it was wrong — "this is spam",
// "this is not spam" — from the message log, or by uploading the message. The quarantine page's
// own buttons are quarantine actions (report-spam, release-train). Each report trains the
// classifier through its order-free lessons (Classifier.train) and, being a change, is audited
// by the guard. A domain admin can turn reports off for their domain (`policy.domains.<d>.feedback`);
// mailbox users of that domain are then refused with a message saying so.
//   - From the message log: the message is learnt from its quarantined copy, the only copy the
//     appliance keeps (a delivered message's file is gone once delivered). "Spam" deletes the
//     caller's held copies, "not spam" releases them. A message no longer stored is answered 409
//     with where to send it instead.
//   - Upload: the raw .eml or .msg as the body, as the admin's training upload takes it.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { ConsoleContext } from '../route-context.ts';
import { problem } from '../../config/problems.ts';
import { feedbackEnabled } from '../../policy/policy.ts';
import { ApiError, forbidden, invalid, notFound, render, requestLanguage, unavailable } from '../errors.ts';
import { scopeOf } from '../providers/interfaces.ts';
import { domainOf, type Principal } from '../roles.ts';

const As = Type.Union([Type.Literal('spam'), Type.Literal('ham')]);

export default async function feedbackRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  const allowed = (p: Principal) => {
    if (p.role !== 'user') return;
    const domain = domainOf(p.address ?? '');
    if (!feedbackEnabled(ctx.config.current, domain)) throw forbidden('api.forbidden.feedback-off', { domain });
  };

  app.post('/api/feedback/messages/:id', {
    config: { access: { roles: 'any' } },
    schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }), body: Type.Object({ as: As }) },
  }, async (req) => {
    const p = req.principal!;
    allowed(p);
    const scope = scopeOf(p);
    const { log, quarantine } = ctx.providers;
    if (!log || !quarantine) throw unavailable('api.unavailable.feedback');
    const { id } = req.params;
    const { as } = req.body;
    if (!await log.get(id, scope)) throw notFound('api.not-found.message');
    const result = await quarantine.act(id, as === 'spam' ? 'report-spam' : 'release-train', { scope }).catch((err: Error) => {
      throw new ApiError(409, 'quarantine-action-failed', { key: 'api.quarantine-action-failed', params: { detail: err.message } });
    });
    if (!result) {
      throw new ApiError(409, 'feedback-gone', { key: 'api.feedback-gone', params: { address: `${as}@${ctx.config.current.hostname}` } });
    }
    req.auditDetail = { id, as, affected: result.affected };
    req.auditDomains = [...new Set(result.affected.map(domainOf))];
    return { ok: true, as, affected: result.affected };
  });

  app.post('/api/feedback/upload', {
    config: { access: { roles: 'any' } },
    bodyLimit: 64 * 1024 * 1024,
    schema: { querystring: Type.Object({ as: As, filename: Type.String({ minLength: 1, maxLength: 255 }) }) },
  }, async (req) => {
    const p = req.principal!;
    allowed(p);
    const training = ctx.providers.training;
    if (!training) throw unavailable('api.unavailable.feedback');
    const { as, filename } = req.query;
    if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw invalid([problem('/file', 'problem.file-as-body')]);
    const result = await training.train({ filename, data: req.body }, as);
    req.auditDetail = { filename, as, ok: result.ok, feedback: true };
    return { ok: result.ok, ...render(requestLanguage(req), result.text) };
  });
}
