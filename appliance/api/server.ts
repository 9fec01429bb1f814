// The web console's HTTP server: a fastify app serving the JSON API under /api and the Lit
// single-page app from web-ui/dist. `createConsoleServer` builds it from injected parts (tests
// drive it with inject()); `startConsole` adds HTTPS with the appliance's certificate, listens
// on `listeners.console`, and in setup mode makes sure a setup code exists and prints it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { ConfigService } from '../config/config-service.ts';
import type { Store } from '../store/store.ts';
import { loadTlsIdentity } from '../smtp/tls.ts';
import { AuditLog } from './audit.ts';
import { describeTrial, NetworkTrials } from '../system/network-trial.ts';
import type { ConsoleContext } from './route-context.ts';
import { schemaProblems } from '../config/problems.ts';
import { ApiError, invalid, requestLanguage } from './errors.ts';
import { installGuard } from './guard.ts';
import type { Providers } from './providers/interfaces.ts';
import { AttemptLimiter } from '../limits/attempt-limiter.ts';
import auditRoutes from './routes/audit.ts';
import backupRoutes from './routes/backup.ts';
import signatureRoutes from './routes/signatures.ts';
import supportRoutes from './routes/support.ts';
import updateRoutes, { type UpdateDeps } from './routes/updates.ts';
import dashboardRoutes from './routes/dashboard.ts';
import domainRoutes from './routes/domains.ts';
import filteringRoutes from './routes/filtering.ts';
import feedbackRoutes from './routes/feedback.ts';
import policyRoutes from './routes/policy.ts';
import listRoutes from './routes/lists.ts';
import messageRoutes from './routes/messages.ts';
import quarantineRoutes from './routes/quarantine.ts';
import reportRoutes from './routes/reports.ts';
import savedSearchRoutes from './routes/saved-searches.ts';
import schemaRoutes from './routes/schema.ts';
import sessionRoutes from './routes/session.ts';
import statsRoutes from './routes/stats.ts';
import setupRoutes from './routes/setup.ts';
import settingsRoutes from './routes/settings.ts';
import dnsRoutes from './routes/dns.ts';
import networkRoutes from './routes/network.ts';
import serviceRoutes from './routes/services.ts';
import queueRoutes from './routes/queue.ts';
import systemRoutes from './routes/system.ts';
import tokenRoutes from './routes/tokens.ts';
import trainingRoutes from './routes/training.ts';
import userRoutes from './routes/users.ts';
import { installSecurityHeaders } from './security-headers.ts';
import { SessionStore } from './sessions.ts';
import { SetupState } from './setup-state.ts';
import { UserStore } from './users.ts';
import { consoleUrls } from '../system/console-urls.ts';
import { RemoteBackup } from '../system/remote-backup.ts';

export const WEB_ROOT = path.resolve(import.meta.dirname, '../../web-ui/dist');

export interface ConsoleDeps {
  store: Store;
  config: ConfigService;
  dataDir: string;
  providers?: Providers;
  /** The audit log, when the mail path writes to it too (reports by mail); made here otherwise. */
  audit?: AuditLog;
  /** HTTPS key and certificate; omitted in tests that use inject(). */
  https?: { key: Buffer; cert: Buffer };
  /** Where the built web UI is (default web-ui/dist). */
  webRoot?: string;
  /** Where setup codes and start-up notes are printed (default: stdout). */
  log?: (line: string) => void;
  /** Called once a restore is staged: the daemon restarts to swap it in (absent: at the next start). */
  onRestoreStaged?: () => void;
  /** ClamAV's database folder and clamd (default /var/lib/clamav and the configured clamd). */
  clamav?: { databaseDir?: string; clamd?: string };
  /** The daemon's remote backup (its schedule runs there); made here when absent (tests). */
  remoteBackup?: RemoteBackup;
  /** System updates: the rauc command and the kernel command line, where they are not the box's (tests). */
  updates?: UpdateDeps;
}

export interface ConsoleServer {
  app: FastifyInstance;
  context: ConsoleContext;
  close(): Promise<void>;
}

export async function createConsoleServer(deps: ConsoleDeps): Promise<ConsoleServer> {
  const app = Fastify({
    logger: false,
    trustProxy: false,
    bodyLimit: 1024 * 1024,
    ...(deps.https ? { https: deps.https } : {}),
  }) as unknown as FastifyInstance;
  const setup = await SetupState.open(deps.store, deps.dataDir);
  const users = new UserStore(deps.store);
  const audit = deps.audit ?? new AuditLog(deps.store);
  // A trial the daemon's own timer reverts has no request to record it: recorded here.
  const network = await NetworkTrials.open(path.join(deps.dataDir, 'system'), {
    onEnd: (t) => {
      if (t.reason === 'expired') void audit.record({ actor: 'appliance', ip: '', action: 'network change reverted', detail: { words: `not confirmed by ${t.revertAt}: ${describeTrial(t)} reverted` } });
    },
  });
  const context: ConsoleContext = {
    store: deps.store,
    config: deps.config,
    dataDir: deps.dataDir,
    users,
    sessions: new SessionStore(deps.store, () => deps.config.current.console.sessionIdleMinutes),
    tokens: users.tokens,
    audit,
    network,
    setup,
    providers: deps.providers ?? {},
    loginLimiter: new AttemptLimiter(10, 5 * 60_000),
    setupLimiter: new AttemptLimiter(10, 15 * 60_000),
    onRestoreStaged: deps.onRestoreStaged,
    clamav: deps.clamav,
    remoteBackup: deps.remoteBackup ?? new RemoteBackup({
      store: deps.store, dataDir: deps.dataDir, settings: () => deps.config.current.system.remoteBackup,
      hostname: () => deps.config.current.hostname, timezone: () => deps.config.current.time.timezone, say: deps.log ?? ((line) => console.log(line)),
    }),
    updates: deps.updates,
    onTlsChange: async () => {
      if (!deps.https) return;
      const c = deps.config.current;
      const identity = await loadTlsIdentity({ dataDir: deps.dataDir, hostname: c.hostname, ...c.tls });
      (app.server as unknown as { setSecureContext(o: { key: Buffer; cert: Buffer }): void }).setSecureContext({ key: identity.key, cert: identity.cert });
    },
  };

  await app.register(fastifyCookie);
  installSecurityHeaders(app);
  installGuard(app, context);
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: 64 * 1024 * 1024 }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    const lang = requestLanguage(req);
    if (err instanceof ApiError) {
      if (err.headers) reply.headers(err.headers);
      return reply.code(err.status).send(err.body(lang));
    }
    if ('validation' in err && err.validation) {
      return reply.code(400).send(invalid(schemaProblems(err.validation.map((v) => ({ ...v, params: v.params as Record<string, unknown> })))).body(lang));
    }
    const status = (err as FastifyError).statusCode ?? 500;
    if (status < 500) {
      // Fastify's own refusals (unreadable JSON, a body too large, a content type no route takes).
      const key = status === 413 ? 'api.too-large' : status === 415 ? 'api.media-type' : 'api.bad-request';
      return reply.code(status).send(new ApiError(status, (err as FastifyError).code ?? 'bad-request', { key, params: { detail: err.message } }).body(lang));
    }
    req.log.error(err);
    (deps.log ?? console.error)(`console: ${req.method} ${req.url} failed: ${err.stack ?? err.message}`);
    return reply.code(500).send(new ApiError(500, 'internal', 'api.internal').body(lang));
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(new ApiError(404, 'not-found', { key: 'api.not-found.route', params: { method: req.method, path: req.url.split('?')[0] } }).body(requestLanguage(req)));
  });

  for (const routes of [sessionRoutes, setupRoutes, userRoutes, tokenRoutes, auditRoutes, schemaRoutes, domainRoutes, systemRoutes, dashboardRoutes,
    quarantineRoutes, listRoutes, trainingRoutes, messageRoutes, filteringRoutes, statsRoutes, reportRoutes, policyRoutes, feedbackRoutes,
    backupRoutes, signatureRoutes, savedSearchRoutes, settingsRoutes, dnsRoutes, networkRoutes, serviceRoutes, supportRoutes, queueRoutes, updateRoutes]) {
    await app.register(async (child) => routes(child, context));
  }

  const webRoot = deps.webRoot ?? WEB_ROOT;
  if (existsSync(webRoot)) {
    await app.register(fastifyStatic, { root: webRoot, index: 'index.html', wildcard: true });
  } else {
    app.get('/', async (_req, reply) => reply.type('text/plain; charset=utf-8')
      .send('The web console has not been built: run `npm run build:web`. The API is available under /api.'));
  }

  const sweeper = setInterval(() => void context.sessions.sweep().catch(() => undefined), 5 * 60_000);
  sweeper.unref();
  await app.ready();
  return {
    app,
    context,
    async close() {
      clearInterval(sweeper);
      network.close();
      // A browser keeps its connection open after a response (keep-alive, 72 s in Fastify): one
      // still answering when the close starts (the wizard's restore, which restarts the daemon)
      // turns idle only afterwards, and would hold the close, and the restart, that long.
      const idle = setInterval(() => app.server.closeIdleConnections(), 100);
      try {
        await app.close();
      } finally {
        clearInterval(idle);
      }
    },
  };
}

/** Starts the console over HTTPS on the configured listener; returns the server and its URL. */
export async function startConsole(deps: Omit<ConsoleDeps, 'https'> & { address?: string; port?: number }): Promise<ConsoleServer & { url: string }> {
  const c = deps.config.current;
  const identity = await loadTlsIdentity({ dataDir: deps.dataDir, hostname: c.hostname, ...c.tls });
  const server = await createConsoleServer({ ...deps, https: { key: identity.key, cert: identity.cert } });
  const log = deps.log ?? ((line: string) => console.log(line));
  deps.config.on('change', (next, previous) => {
    if (next.tls.certFile !== previous.tls.certFile || next.tls.keyFile !== previous.tls.keyFile || next.hostname !== previous.hostname) {
      server.context.onTlsChange().catch((err: Error) => log(`console: keeping the old TLS certificate: ${err.message}`));
    }
  });
  const host = deps.address ?? c.listeners.console.address;
  const port = deps.port ?? c.listeners.console.port;
  await server.app.listen({ host, port });
  const address = server.app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${actualPort}/`;
  const reachable = consoleUrls(host, actualPort).join(' or ');
  if (server.context.setup.inSetup) {
    const fresh = await server.context.setup.ensureCode();
    const code = fresh ?? '(see the file setup-code in the data directory)';
    log(`console: setup mode — open ${reachable} and enter the setup code ${code}`);
  } else {
    log(`console: listening on ${reachable}`);
  }
  return { ...server, url };
}
