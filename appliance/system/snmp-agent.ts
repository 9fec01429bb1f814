// SNMP for the appliance: the daemon is an AgentX subagent (RFC 2741) of the box's snmpd, which
// owns the network side (communities, v3 users, access control, trap destinations). The subagent
// registers the Mailmoat MIB, refreshes its values from the daemon's counters through
// `getStats()`, and sends notifications (disk thresholds, queue backlog, clamd down) that snmpd
// forwards to the configured trap sinks. If snmpd restarts, the subagent reconnects.
import { EventEmitter } from 'node:events';
import snmp from 'net-snmp';
import { DISK_STATE, SCALARS, SERVICE_STATE, TRAP_MESSAGE_OID, TRAPS, providers, type ScalarName, type TrapName } from './snmp-mib.ts';

export interface MailmoatStats {
  messagesIn: number;
  messagesOut: number;
  spam: number;
  virus: number;
  quarantined: number;
  rejected: number;
  /** Refused SMTP AUTH attempts. Every counter here is a persistent total (appliance/stats/counters.ts). */
  authFailures: number;
  /** Messages delivered with a tagged subject. */
  tagged: number;
  queueLength: number;
  queueOldestAgeSeconds: number;
  quarantineBytes: number;
  diskSystemPercent: number;
  diskDataPercent: number;
  diskState: keyof typeof DISK_STATE;
  services: { name: string; state: string }[];
  /** The newest ClamAV database; absent where it is not known (ageSeconds undefined: none installed). */
  signatures?: { version: number; ageSeconds?: number };
  /** freshclam's checks from its log: failed checks in a row, and the time since the last failed one (undefined: none logged). */
  freshclam?: { failuresInARow: number; lastFailureAgeSeconds?: number };
}

export interface SnmpSubagentOptions {
  getStats: () => MailmoatStats | Promise<MailmoatStats>;
  /** snmpd's AgentX TCP socket on the loopback. */
  masterPort: number;
  master?: string;
  refreshSeconds?: number;
  reconnectSeconds?: number;
}

export interface SnmpSubagentEvents {
  /** Registered with the master agent (again, after a reconnect). */
  ready: [];
  /** Lost the master agent or failed to register; a reconnect follows. */
  disconnected: [reason: string];
}

// Counter32 and Gauge32 are unsigned 32-bit: counters wrap like any SNMP counter, gauges saturate.
const wrap32 = (n: number) => Math.max(0, Math.floor(n)) % 2 ** 32;
const clamp32 = (n: number) => Math.min(2 ** 32 - 1, Math.max(0, Math.floor(n)));

const MAX_HELD_TRAPS = 20;

export class SnmpSubagent extends EventEmitter<SnmpSubagentEvents> {
  #options: Required<SnmpSubagentOptions>;
  // net-snmp's Subagent is untyped.
  #agent: any;
  #ready = false;
  #stopped = false;
  #refreshTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #serviceRows = 0;
  // Traps raised while snmpd is not (yet) connected — a disk warning at boot comes before the
  // AgentX session — are held and sent once registered; bounded, the oldest go first.
  #held: { name: TrapName; message: string; done: (sent: boolean) => void }[] = [];

  constructor(options: SnmpSubagentOptions) {
    super();
    this.#options = { master: '127.0.0.1', refreshSeconds: 10, reconnectSeconds: 5, ...options };
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Connects and registers; resolves once registered, and keeps reconnecting after that. */
  start(): Promise<void> {
    this.#stopped = false;
    const registered = new Promise<void>((resolve) => this.once('ready', resolve));
    this.#connect();
    return registered;
  }

  #connect(): void {
    const agent = snmp.createSubagent({ master: this.#options.master, masterPort: this.#options.masterPort, description: 'Mailmoat daemon' });
    this.#agent = agent;
    this.#serviceRows = 0;
    let lost = false;
    const lose = (reason: string) => {
      if (lost || agent !== this.#agent) return;
      lost = true;
      this.#ready = false;
      clearInterval(this.#refreshTimer);
      this.emit('disconnected', reason);
      agent.socket?.destroy();
      if (!this.#stopped) this.#reconnectTimer = setTimeout(() => this.#connect(), this.#options.reconnectSeconds * 1000).unref();
    };
    agent.on('error', (err: Error) => lose(`AgentX connection to ${this.#options.master}:${this.#options.masterPort}: ${err.message}`));
    agent.on('close', () => lose('snmpd closed the AgentX session'));
    agent.open((err: Error | null) => {
      if (err) return lose(`snmpd refused the AgentX session: ${err.message}`);
      // One at a time: net-snmp reads one AgentX PDU per TCP chunk, so answers to registrations
      // sent together can arrive merged and be lost.
      const list = providers();
      const next = (i: number): void => {
        if (i === list.length) {
          void this.refresh().finally(() => {
            this.#ready = true;
            this.#refreshTimer = setInterval(() => void this.refresh(), this.#options.refreshSeconds * 1000).unref();
            this.emit('ready');
            for (const h of this.#held.splice(0)) void this.trap(h.name, h.message).then(h.done);
          });
          return;
        }
        agent.registerProvider(list[i], (regErr: Error | null) => {
          if (regErr) return lose(`snmpd refused to register ${(list[i] as { name: string }).name}: ${regErr.message}`);
          next(i + 1);
        });
      };
      next(0);
    });
  }

  /** Pulls the daemon's numbers into the MIB now. A failing getStats leaves the old values. */
  async refresh(): Promise<void> {
    const mib = this.#agent?.getMib();
    if (!mib) return;
    let s: MailmoatStats;
    try {
      s = await this.#options.getStats();
    } catch {
      return;
    }
    const values: Record<ScalarName, number> = {
      mmMessagesIn: wrap32(s.messagesIn),
      mmMessagesOut: wrap32(s.messagesOut),
      mmSpam: wrap32(s.spam),
      mmVirus: wrap32(s.virus),
      mmQuarantined: wrap32(s.quarantined),
      mmRejected: wrap32(s.rejected),
      mmAuthFailures: wrap32(s.authFailures),
      mmTagged: wrap32(s.tagged),
      mmQueueLength: clamp32(s.queueLength),
      mmQueueOldestAge: clamp32(s.queueOldestAgeSeconds),
      mmQuarantineSize: clamp32(s.quarantineBytes / 1024),
      mmDiskSystemPercent: clamp32(s.diskSystemPercent),
      mmDiskDataPercent: clamp32(s.diskDataPercent),
      mmDiskState: DISK_STATE[s.diskState],
      mmSignatureVersion: clamp32(s.signatures?.version ?? 0),
      mmSignatureAge: s.signatures?.ageSeconds === undefined ? 2 ** 32 - 1 : clamp32(s.signatures.ageSeconds),
      mmFreshclamFailures: clamp32(s.freshclam?.failuresInARow ?? 0),
      mmFreshclamLastFailureAge: s.freshclam?.lastFailureAgeSeconds === undefined ? 2 ** 32 - 1 : clamp32(s.freshclam.lastFailureAgeSeconds),
    };
    for (const name of Object.keys(SCALARS) as ScalarName[]) mib.setScalarValue(name, values[name]);
    s.services.forEach((svc, i) => {
      const state = SERVICE_STATE[svc.state] ?? SERVICE_STATE.unknown;
      if (i < this.#serviceRows) {
        mib.setTableSingleCell('mmServiceTable', 2, [i + 1], svc.name);
        mib.setTableSingleCell('mmServiceTable', 3, [i + 1], state);
      } else {
        mib.addTableRow('mmServiceTable', [i + 1, svc.name, state]);
      }
    });
    for (let i = this.#serviceRows; i > s.services.length; i--) mib.deleteTableRow('mmServiceTable', [i]);
    this.#serviceRows = s.services.length;
  }

  /**
   * Sends a notification through snmpd. While snmpd is not connected the trap is held and sent
   * once the subagent registers; resolves whether snmpd took it (false when dropped or stopped).
   */
  async trap(name: TrapName, message: string): Promise<boolean> {
    if (!this.#ready) {
      if (this.#stopped) return false;
      return new Promise((done) => {
        this.#held.push({ name, message, done });
        if (this.#held.length > MAX_HELD_TRAPS) this.#held.shift()!.done(false);
      });
    }
    await this.refresh();
    const mib = this.#agent.getMib();
    const related: Record<TrapName, ScalarName[]> = {
      diskThreshold: ['mmDiskState', 'mmDiskDataPercent'],
      queueBacklog: ['mmQueueLength', 'mmQueueOldestAge'],
      clamdDown: [],
      signaturesStale: ['mmSignatureVersion', 'mmSignatureAge'],
    };
    const varbinds = [
      ...related[name].map((n) => ({ oid: `${SCALARS[n].oid}.0`, type: SCALARS[n].type, value: mib.getScalarValue(n) })),
      { oid: TRAP_MESSAGE_OID, type: snmp.ObjectType.OctetString, value: message },
    ];
    return new Promise((resolve) => this.#agent.notify(TRAPS[name], varbinds, (err: Error | null) => resolve(!err)));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#refreshTimer);
    clearTimeout(this.#reconnectTimer);
    const agent = this.#agent;
    this.#agent = undefined;
    this.#ready = false;
    for (const h of this.#held.splice(0)) h.done(false);
    if (!agent) return;
    await new Promise<void>((resolve) => {
      const done = () => { agent.socket?.destroy(); resolve(); };
      if (agent.socket?.readyState !== 'open') return done();
      const timer = setTimeout(done, 2000);
      agent.close(() => { clearTimeout(timer); done(); });
    });
  }
}
