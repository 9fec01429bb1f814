// The pause before the SMTP greeting. smtp-server always waits 100 ms before "220" to catch
// clients that talk before the greeting (early talkers, typical of spam bots) and has no option for
// it; with one message per connection that pause alone caps a listener at ~10 sessions/s per
// concurrent client. `PausingSMTPServer` takes `greetingPauseMs` (limits.greetingPauseMs): 0 greets
// at once, a longer pause is a cheap spam filter on port 25. Other servers (e.g. test sinks) are
// plain SMTPServers and keep the library's behaviour.
// The same subclass reports the 552 smtp-server answers by itself to a MAIL FROM announcing a SIZE
// over the limit (`onSizeRefused`): our onMailFrom never sees those, and the statistics count them.
//
// A subclass, not a patch of the library: only our listeners' connections greet differently.
// It overrides SMTPServer.connect (creates the connection) and SMTPConnection.init (registers the
// socket listeners, checks maxClients, starts that timer) as they are in smtp-server 3.21.6, which
// package.json pins exactly; the session tests fail if a new version changes them. Upstream-able:
// the same few lines as a `greetingDelay` option of smtp-server would make this file go away.
import type net from 'node:net';
import type tls from 'node:tls';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

export interface PausingOptions extends SMTPServerOptions {
  /** Milliseconds to wait before the greeting (0: at once). */
  greetingPauseMs: number;
  /** Told of every MAIL FROM the library refuses with 552 for its announced SIZE. */
  onSizeRefused?: () => void;
}

type SocketOptions = Parameters<SMTPServer['connect']>[1];

class PausingConnection extends SMTPConnection {
  readonly #pauseMs: number;
  readonly #onSizeRefused: (() => void) | undefined;

  constructor(server: SMTPServer, socket: net.Socket | tls.TLSSocket, socketOptions: SocketOptions, pauseMs: number, onSizeRefused?: () => void) {
    super(server, socket, socketOptions);
    this.#pauseMs = pauseMs;
    this.#onSizeRefused = onSizeRefused;
  }

  override _validateMailParams(parsed: Parameters<SMTPConnection['_validateMailParams']>[0]): ReturnType<SMTPConnection['_validateMailParams']> {
    const problem = super._validateMailParams(parsed);
    if (problem?.code === 552) this.#onSizeRefused?.();
    return problem;
  }

  override init(): void {
    const maxClients = this._server.options.maxClients;
    this._setListeners(() => {
      if (maxClients && this._server.connections.size > maxClients) {
        this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
        return;
      }
      if (this.#pauseMs <= 0) return this.connectionReady();
      setTimeout(() => this.connectionReady(), this.#pauseMs).unref();
    });
  }
}

export class PausingSMTPServer extends SMTPServer {
  readonly #pauseMs: number;
  readonly #onSizeRefused: (() => void) | undefined;

  constructor({ greetingPauseMs, onSizeRefused, ...options }: PausingOptions) {
    super(options);
    this.#pauseMs = greetingPauseMs;
    this.#onSizeRefused = onSizeRefused;
  }

  override connect(socket: net.Socket | tls.TLSSocket, socketOptions?: SocketOptions): void {
    const connection = new PausingConnection(this, socket, socketOptions, this.#pauseMs, this.#onSizeRefused);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) => this._onClientConnect(data));
    connection.init();
  }
}
