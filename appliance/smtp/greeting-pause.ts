// The pause before the SMTP greeting. smtp-server always waits 100 ms before "220" to catch
// clients that talk before the greeting (early talkers, typical of spam bots) and has no option for
// it; with one message per connection that pause alone caps a listener at ~10 sessions/s per
// concurrent client. Our listeners set `greetingPauseMs` (limits.greetingPauseMs): 0 greets at
// once, a longer pause is a cheap spam filter on port 25. Servers without the option (e.g. test
// sinks) keep the library's behaviour.
// This replaces SMTPConnection.init, which only registers the socket listeners, checks maxClients
// and starts that timer (smtp-server 3.21); the session tests fail if a new version changes it.
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

type WithPause = { greetingPauseMs?: number; maxClients?: number };

const libraryInit = SMTPConnection.prototype.init;

SMTPConnection.prototype.init = function init(this: SMTPConnection): void {
  const options = this._server.options as WithPause;
  if (options.greetingPauseMs === undefined) return libraryInit.call(this);
  const pause = options.greetingPauseMs;
  this._setListeners(() => {
    if (options.maxClients && this._server.connections.size > options.maxClients) {
      this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
      return;
    }
    if (pause <= 0) return this.connectionReady();
    setTimeout(() => this.connectionReady(), pause).unref();
  });
};

export {};
