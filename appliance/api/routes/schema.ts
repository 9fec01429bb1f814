// The configuration schema as JSON Schema, so the web UI validates forms with exactly the rules
// the server applies (typebox's Value.Errors runs on plain JSON Schema in the browser too).
import type { FastifyInstance } from 'fastify';
import { ConfigSchema } from '../../config/schema.ts';
import type { ConsoleContext } from '../route-context.ts';

export default async function schemaRoutes(app: FastifyInstance, _ctx: ConsoleContext): Promise<void> {
  const json = JSON.parse(JSON.stringify(ConfigSchema)) as unknown;
  app.get('/api/schema/config', { config: { access: { roles: 'public', inSetup: true } } }, async () => json);
}
