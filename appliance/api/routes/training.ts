// Training the spam classifier from uploaded messages: one file per request (the browser sends
// each file on its own, so it can show progress and a result per file), the raw bytes as
// application/octet-stream, the file name and the label in the query. The result is a text in the
// caller's language (`message`) with its key and parameters. GET says how many messages were learnt
// and what the score's thresholds mean on them.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { ConsoleContext } from '../route-context.ts';
import { problem } from '../../config/problems.ts';
import { invalid, render, requestLanguage, unavailable } from '../errors.ts';
import { calibrationText } from '../../i18n/reasons.ts';

export default async function trainingRoutes(fastify: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  // Messages learnt and what the thresholds mean on them, in the caller's language.
  app.get('/api/training', { config: { access: { roles: ['admin', 'domain-admin'] } } }, async (req) => {
    const status = ctx.providers.training?.status?.();
    if (!status) throw unavailable('api.unavailable.training');
    return { spam: status.spam, ham: status.ham, calibration: calibrationText(requestLanguage(req), status.calibration) };
  });
  app.post('/api/training', {
    config: { access: { roles: ['admin', 'domain-admin'] } },
    bodyLimit: 64 * 1024 * 1024,
    schema: { querystring: Type.Object({ as: Type.Union([Type.Literal('spam'), Type.Literal('ham')]), filename: Type.String({ minLength: 1, maxLength: 255 }) }) },
  }, async (req) => {
    const training = ctx.providers.training;
    if (!training) throw unavailable('api.unavailable.training');
    const { as, filename } = req.query;
    if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
      throw invalid([problem('/file', 'problem.file-as-body')]);
    }
    const result = await training.train({ filename, data: req.body }, as);
    req.auditDetail = { filename, as, ok: result.ok };
    return { ok: result.ok, ...render(requestLanguage(req), result.text) };
  });
}
