// The configuration schema: the one source of truth for the configuration's types, validation
// and defaults. The documentation in docs/config.md is generated from the descriptions here
// (`npm run docs:config`), so describe every field for the admin who reads it.
import os from 'node:os';
import Type, { type Static } from 'typebox';
import { HOST_NAME, HOST_OR_ADDRESS, qualifiedHostname } from './patterns.ts';

const Port = (def: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 65535, default: def, description });
/** A port to listen on; 0 lets the system pick a free one (used by tests). */
const ListenPort = (def: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: def, description: `${description}; 0 = any free port` });

const DomainName = Type.String({
  pattern: '^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\\.)+[a-zA-Z]{2,63}$',
  description: 'a DNS domain name, e.g. example.com',
});

/** The box's default host name: this machine's, qualified when it is not a full name, so a fresh
 * configuration is valid before the wizard names the box. */
export function defaultHostname(): string {
  return qualifiedHostname(os.hostname().toLowerCase());
}

const Address = Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', description: 'an email address' });

/** Which way a message goes: in from the internet (inbound listener) or out from a customer's
 * server (submission). Defined here, where the configuration's rules speak of it, for every module. */
export const MailDirection = Type.Union([Type.Literal('inbound'), Type.Literal('outbound')]);
export type MailDirection = Static<typeof MailDirection>;

export const Listener = Type.Object({
  address: Type.String({ default: '0.0.0.0', description: 'IP address to bind ("0.0.0.0" or "::" for all)' }),
  port: Port(2525, 'TCP port'),
});

export const TlsSettings = Type.Object({
  certFile: Type.Optional(Type.String({ description: 'PEM certificate chain; when unset a self-signed certificate is generated under <data>/tls' })),
  keyFile: Type.Optional(Type.String({ description: 'PEM private key matching certFile' })),
});

export const TlsMode = Type.Union([Type.Literal('opportunistic'), Type.Literal('required'), Type.Literal('none')], {
  default: 'opportunistic',
  description: 'STARTTLS towards the route: opportunistic (use when offered), required (fail otherwise), none',
});

export const Route = Type.Object({
  host: Type.String({ minLength: 1, description: 'host name or IP of the domain\'s own mail server' }),
  port: Port(25, 'SMTP port of that server'),
  priority: Type.Integer({ minimum: 0, maximum: 65535, default: 10, description: 'lower is tried first' }),
  tls: TlsMode,
});
export type Route = Static<typeof Route>;

export const RecipientVerification = Type.Object({
  mode: Type.Union([Type.Literal('accept-all'), Type.Literal('listed'), Type.Literal('callout')], {
    default: 'accept-all',
    description: 'accept-all: any local part; listed: only `addresses`; callout: ask the route (RCPT TO) and cache the answer',
  }),
  addresses: Type.Array(Type.String(), { default: [], description: 'valid recipients (local parts or full addresses) for mode "listed"' }),
  calloutCacheSeconds: Type.Integer({ minimum: 0, default: 3600, description: 'how long a callout answer (valid or unknown) is cached' }),
}, { default: {} });

export const MailboxAlias = Type.Object({
  from: Address,
  to: Address,
});

// Reports, digests and notices (appliance/reports/): what a domain admin sets per domain.
const TIME_OF_DAY = '^([01][0-9]|2[0-3]):[0-5][0-9]$';
const ReportTime = Type.String({ pattern: TIME_OF_DAY, default: '09:00', description: 'time of day (HH:MM, 24 h) in the domain\'s time zone' });
const ReportFrequency = Type.Union([Type.Literal('daily'), Type.Literal('weekly')], { default: 'daily', description: 'daily, or weekly on `weekday`' });
const Weekday = Type.Integer({ minimum: 0, maximum: 6, default: 1, description: 'day of a weekly report: 0 = Sunday … 6 = Saturday' });
const ReportLanguage = Type.Union([Type.Literal('ja'), Type.Literal('en')], { default: 'ja', description: 'language of the report' });
const ReportFormat = Type.Union([Type.Literal('html'), Type.Literal('pdf')], { default: 'html', description: 'an HTML mail, or a PDF attachment (in the appliance\'s Japanese font; sent as HTML, with a logged error, when the font is missing)' });
const ExtraTable = Type.Boolean({ default: false, description: 'include the extra table: mail refused at SMTP or deferred (from the message log) in the period' });
export const ReportAction = Type.Union([
  Type.Literal('release'), Type.Literal('release-train'), Type.Literal('allow-release'), Type.Literal('block-delete'), Type.Literal('delete'),
], { description: 'release; release and train as not spam; allow the sender and release; block the sender and delete; delete' });
export type ReportAction = Static<typeof ReportAction>;

export const DomainReports = Type.Object({
  digest: Type.Object({
    enabled: Type.Boolean({ default: false, description: 'mail each mailbox a list of its mail held since the last digest (the quarantine digest / mailbox protection report)' }),
    frequency: ReportFrequency,
    time: ReportTime,
    weekday: Weekday,
    language: ReportLanguage,
    skipEmpty: Type.Boolean({ default: true, description: 'send nothing to a mailbox with nothing held' }),
    horizonDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 14, description: 'list everything still held from the last this many days instead of only what is new since the last digest (the quarantine list notification)' })),
    extraTimes: Type.Array(Type.String({ pattern: TIME_OF_DAY }), { default: [], maxItems: 2, description: 'up to two more times of day (HH:MM) to send the digest, for 2 or 3 a day (the scout report)' }),
    welcome: Type.Boolean({ default: false, description: 'before a mailbox\'s first digest, mail it a short explanation with links to stop the reports and to subscribe again (the scout report\'s welcome mail)' }),
    format: ReportFormat,
    extraTable: ExtraTable,
  }, { default: {} }),
  actions: Type.Array(ReportAction, { default: ['release', 'release-train', 'delete'], uniqueItems: true, description: 'the actions offered for each message in digests and domain reports' }),
  domain: Type.Object({
    enabled: Type.Boolean({ default: false, description: 'mail a report of all the domain\'s held mail with totals' }),
    recipients: Type.Array(Address, { default: [], description: 'who receives the domain report' }),
    frequency: ReportFrequency,
    time: ReportTime,
    weekday: Weekday,
    language: ReportLanguage,
    withoutMessages: Type.Boolean({ default: false, description: 'send the totals only, without the list of held messages' }),
    format: ReportFormat,
    extraTable: ExtraTable,
  }, { default: {} }),
}, { default: {}, description: 'quarantine digests and the domain report for this domain (its notices go to its policy contact)' });
export type DomainReports = Static<typeof DomainReports>;

export const ReportSettings = Type.Object({
  linkDays: Type.Integer({ minimum: 1, maximum: 60, default: 14, description: 'days the action links in a report stay valid' }),
  sessionMinutes: Type.Integer({ minimum: 5, maximum: 1440, default: 60, description: 'how long a "my quarantine" session opened from a report lasts' }),
  consoleUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', description: 'the console\'s address as recipients reach it, for links in reports; default https://<hostname>/ (with the console port unless 443)' })),
  sender: Type.Optional(Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', description: 'From address of reports and of every notice (outbound mail quarantined, quarantine quota, disk, stale virus signatures); default mailer-daemon@<hostname>' })),
  noticeMinutes: Type.Integer({ minimum: 1, maximum: 10080, default: 60, description: 'at most one notice of a kind per domain in this many minutes (an incident sends one mail, not thousands)' }),
}, { default: {} });
export type ReportSettings = Static<typeof ReportSettings>;

export const Domain = Type.Object({
  name: DomainName,
  routes: Type.Array(Route, { minItems: 1, description: 'where clean mail for this domain is relayed, tried by priority' }),
  recipients: RecipientVerification,
  aliases: Type.Array(DomainName, { default: [], description: 'domain aliases: mail for these domains is handled as mail for `name`' }),
  mailboxAliases: Type.Array(MailboxAlias, { default: [], description: 'mailbox aliases: mail for `from` is delivered to `to`' }),
  timezone: Type.Optional(Type.String({ minLength: 1, description: 'IANA time zone for this domain\'s dates in the console and reports; default: the appliance\'s time zone' })),
  logInvalidRecipients: Type.Boolean({ default: false, description: 'log recipients refused at RCPT (unknown user, blocked recipient) in the message log, status "rejected at RCPT" with the reply given' }),
  reports: DomainReports,
});
export type Domain = Static<typeof Domain>;

export const RelayUser = Type.Object({
  username: Type.String({ minLength: 1 }),
  passwordHash: Type.String({ pattern: '^scrypt\\$', description: 'scrypt hash made by `mailmoat hash-password`' }),
});

export const Smarthost = Type.Object({
  host: Type.String({ minLength: 1 }),
  port: Port(25, 'smarthost SMTP port'),
  tls: TlsMode,
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
});

export const Relay = Type.Object({
  networks: Type.Array(Type.String(), {
    default: ['127.0.0.0/8', '::1/128'],
    description: 'client networks (CIDR) allowed to relay outbound mail through the submission listener',
  }),
  users: Type.Array(RelayUser, { default: [], description: 'SMTP AUTH users allowed to relay (AUTH only after STARTTLS)' }),
  smarthost: Type.Optional(Smarthost),
  resolver: Type.Array(Type.String(), {
    default: [],
    description: 'DNS servers (ip or ip:port) for MX lookups and SPF/DKIM/DMARC; empty = the system resolver',
  }),
  mxPort: Port(25, 'port used when relaying to a domain\'s MX hosts (25; other values only for testing)'),
}, { default: {} });

export const AuthLimitSettings = Type.Object({
  failuresPerConnection: Type.Integer({ minimum: 1, maximum: 100, default: 3, description: 'failed SMTP AUTH attempts on one connection after which it is closed with 421' }),
  failuresPerClient: Type.Integer({
    minimum: 1, maximum: 10_000, default: 10,
    description: 'failed SMTP AUTH attempts from one client (an IPv4 address or an IPv6 /64) within windowMinutes; after that its AUTH is answered 454 until the window has passed',
  }),
  failuresPerUser: Type.Integer({
    minimum: 1, maximum: 10_000, default: 30,
    description: 'failed SMTP AUTH attempts for one user name, from anywhere, within windowMinutes; after that AUTH as that user is answered 454, except from clients it logged in from successfully in the last 7 days',
  }),
  windowMinutes: Type.Integer({ minimum: 1, maximum: 1440, default: 15, description: 'the sliding window the failures above are counted in' }),
  delayMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 500, description: 'a failed SMTP AUTH is answered after this long, doubled for each earlier failure of the client or user in the window' }),
  maxDelayMs: Type.Integer({ minimum: 0, maximum: 300_000, default: 8_000, description: 'the longest such delay' }),
}, { default: {}, description: 'brute-force limits for SMTP AUTH on the submission listener; failures are logged and counted (SNMP mmAuthFailures)' });
export type AuthLimitSettings = Static<typeof AuthLimitSettings>;

export const Limits = Type.Object({
  maxMessageBytes: Type.Integer({ minimum: 1024, maximum: 2048 * 1024 * 1024, default: 50 * 1024 * 1024, description: 'largest message accepted (bytes, up to 2048 MB); advertised with SIZE' }),
  maxRecipients: Type.Integer({ minimum: 1, maximum: 10000, default: 100, description: 'recipients per message' }),
  maxConnectionsPerClient: Type.Integer({ minimum: 1, default: 20, description: 'simultaneous connections from one client IP' }),
  maxConnectionsPerNetwork: Type.Integer({
    minimum: 1, default: 50,
    description: 'simultaneous connections from one network, an IPv4 /24 or an IPv6 /64, so a few neighbouring addresses cannot take every slot; relay.networks and trustedNetworks are exempt',
  }),
  reservedConnectionsPercent: Type.Integer({
    minimum: 0, maximum: 90, default: 10,
    description: 'share of maxConnections (per listener) kept free for relay.networks and trustedNetworks: other clients get 421 once only the reserve is left',
  }),
  trustedNetworks: Type.Array(Type.String(), {
    default: [],
    description: 'client networks (CIDR) that may use the reserved connection slots and are exempt from maxConnectionsPerNetwork, like relay.networks (e.g. your backup MX); it does not let them relay',
  }),
  maxMessagesPerMinutePerClient: Type.Integer({ minimum: 1, default: 600, description: 'messages accepted per minute from one client IP (then 421/451)' }),
  maxConnections: Type.Integer({ minimum: 1, default: 500, description: 'simultaneous SMTP connections in all' }),
  idleTimeoutSeconds: Type.Integer({ minimum: 5, default: 60, description: 'a session idle this long is closed' }),
  maxDataSeconds: Type.Integer({
    minimum: 1, maximum: 3600, default: 600,
    description: 'a message still arriving after this long is cut off with 421 and the connection closed: a client trickling bytes never looks idle, so the idle timeout alone would let it hold a session for ever',
  }),
  minDataBytesPerSecond: Type.Integer({
    minimum: 0, default: 500,
    description: 'a message arriving slower than this on average (bytes/s since DATA began) is cut off with 421 at the next check, every slowDataSeconds, rather than holding its slot up to maxDataSeconds; 0 turns the check off',
  }),
  slowDataSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 30, description: 'how often the DATA rate is checked against minDataBytesPerSecond, first this long after DATA began' }),
  greetingTimeoutSeconds: Type.Integer({
    minimum: 1, maximum: 3600, default: 20,
    description: 'a client that has not sent EHLO or HELO this long after the greeting is disconnected with 421 (a silent connection only holds a slot)',
  }),
  greetingPauseMs: Type.Integer({ minimum: 0, maximum: 30_000, default: 0, description: 'inbound only: wait this long before the SMTP greeting and refuse clients that talk first (early talkers, typical of spam bots); 0 greets at once' }),
  maxHeaderBytes: Type.Integer({ minimum: 1024, default: 1024 * 1024, description: 'largest header section accepted' }),
  auth: AuthLimitSettings,
}, { default: {} });

export const Delivery = Type.Object({
  queueLifetimeHours: Type.Number({ exclusiveMinimum: 0, default: 120, description: 'a message undeliverable this long is bounced' }),
  retryMinutes: Type.Array(Type.Number({ exclusiveMinimum: 0 }), {
    default: [1, 5, 15, 30, 60],
    description: 'waits between attempts after a temporary failure; the last repeats',
  }),
  concurrency: Type.Integer({ minimum: 1, default: 32, description: 'deliveries in flight at once' }),
  connectTimeoutSeconds: Type.Integer({ minimum: 1, default: 30 }),
}, { default: {} });

export const TimeSettings = Type.Object({
  timezone: Type.String({ minLength: 1, default: 'Asia/Tokyo', description: 'IANA time zone of the appliance, e.g. Asia/Tokyo; dates are shown in it unless a domain sets its own' }),
  ntpServers: Type.Array(Type.String({ minLength: 1, maxLength: 253, pattern: HOST_OR_ADDRESS, description: 'a host name or an IP address' }), { default: [], description: 'NTP servers (host names or IPs); empty = the distribution default pool' }),
}, { default: {} });
export type TimeSettings = Static<typeof TimeSettings>;

export const ConsoleSettings = Type.Object({
  sessionIdleMinutes: Type.Integer({ minimum: 1, maximum: 1440, default: 30, description: 'a console session unused this long ends and the user must log in again' }),
  lockoutAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 5, description: 'consecutive wrong passwords after which an account is locked' }),
  lockoutMinutes: Type.Integer({ minimum: 1, maximum: 1440, default: 15, description: 'how long a locked account stays locked' }),
  language: Type.Union([Type.Literal('ja'), Type.Literal('en')], { default: 'ja', description: 'language of the login page and of new users (each user can choose their own)' }),
}, { default: {} });
export type ConsoleSettings = Static<typeof ConsoleSettings>;

const MainClassName = Type.Union([
  Type.Literal('Not Spam'), Type.Literal('Whitelisted'), Type.Literal('Blacklisted'), Type.Literal('Spam'), Type.Literal('Phish'),
  Type.Literal('Virus'), Type.Literal('Unsure'), Type.Literal('Unknown'), Type.Literal('Error'),
], { description: 'a main class a message gets from the filtering pipeline' });
const ClassAction = Type.Union([
  Type.Literal('accept'), Type.Literal('tag'), Type.Literal('quarantine'), Type.Literal('reject'), Type.Literal('delete'),
], { description: 'accept; tag (accept with the subject tag); quarantine; reject (5xx); delete (accept and drop, logged)' });

export const ClassRule = Type.Object({
  class: MainClassName,
  action: ClassAction,
  tag: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'subject tag for action "tag", e.g. SPAM!! or MEIWAKU!!' })),
});

// Connection-time defences, answered at RCPT before any data (appliance/smtp/screening.ts).
export const GreylistSettings = Type.Object({
  enabled: Type.Boolean({ default: false, description: 'greylist inbound mail: the first attempt of a (client network, envelope sender, recipient) triplet is answered 451 4.7.1 and a retry after delaySeconds passes; a domain or mailbox may set its own (policy `greylisting`)' }),
  delaySeconds: Type.Integer({ minimum: 0, maximum: 86_400, default: 300, description: 'a retry earlier than this after the first attempt is answered 451 again' }),
  retryWindowHours: Type.Integer({ minimum: 1, maximum: 720, default: 24, description: 'a retry must come within this long of the first attempt; later, the triplet starts over' }),
  passedDays: Type.Integer({ minimum: 1, maximum: 365, default: 36, description: 'a triplet that passed (and a client network on the automatic whitelist) is remembered this long after its last message' }),
  autoWhitelistAfter: Type.Integer({ minimum: 0, maximum: 10_000, default: 5, description: 'a client network (IPv4 /24, IPv6 /64) that retried successfully this many times (distinct triplets) is no longer greylisted; 0 = never' }),
  skipSpfPass: Type.Boolean({ default: false, description: 'do not greylist a sender whose domain\'s SPF passes for the client (checked at RCPT)' }),
  sweepMinutes: Type.Integer({ minimum: 1, maximum: 1440, default: 60, description: 'how often expired greylisting records are deleted' }),
}, { default: {}, description: 'never greylisted: allow-listed senders, authenticated clients, relay.networks and limits.trustedNetworks, clients on a DNS allowlist' });
export type GreylistSettings = Static<typeof GreylistSettings>;

export const DnsListZone = Type.Object({
  zone: DomainName,
  weight: Type.Number({ minimum: -100, maximum: 100, description: 'spam score points (%) a listing adds; negative for an allowlist (DNSWL), which also skips greylisting' }),
  answers: Type.Array(Type.String({ pattern: '^127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}$' }), { default: [], description: 'only these answers count as a listing (e.g. 127.0.0.2); empty = any 127.x.x.x answer' }),
});

export const DnsListSettings = Type.Object({
  zones: Type.Array(DnsListZone, { default: [], description: 'DNS blocklists and allowlists asked about each inbound client address (e.g. zone: bl.example.org, weight: 40)' }),
  rejectScore: Type.Number({ minimum: 0, maximum: 1000, default: 0, description: 'a client whose listings add up to this many points or more is refused at RCPT (554 5.7.1); 0 = never refuse, only add to the spam score' }),
  timeoutMs: Type.Integer({ minimum: 100, maximum: 10_000, default: 1500, description: 'a zone not answering within this long is left out (the lists are asked in parallel)' }),
}, { default: {} });
export type DnsListSettings = Static<typeof DnsListSettings>;

export const ClientCheckSettings = Type.Object({
  enabled: Type.Boolean({ default: true, description: 'check the client\'s reverse DNS and HELO/EHLO name (inbound; not for relay.networks, trusted networks or authenticated clients)' }),
  noPtr: Type.Number({ minimum: -100, maximum: 100, default: 5, description: 'points added to the spam score when the client address has no PTR record' }),
  ptrMismatch: Type.Number({ minimum: -100, maximum: 100, default: 3, description: 'points when no PTR name resolves back to the client address' }),
  heloForeignIp: Type.Number({ minimum: -100, maximum: 100, default: 10, description: 'points when the HELO/EHLO is an address literal that is not the client\'s' }),
  heloOurName: Type.Number({ minimum: -100, maximum: 100, default: 20, description: 'points when the HELO/EHLO claims our host name or a served domain' }),
}, { default: {} });
export type ClientCheckSettings = Static<typeof ClientCheckSettings>;

/** Filtering: how the pipeline judges a message and what it does with each class. */
export const Filtering = Type.Object({
  spamThreshold: Type.Number({ minimum: 0, maximum: 100, default: 90, description: 'a spam score (%) at or above this makes the class Spam (or Phish when the classifier says so)' }),
  unsureThreshold: Type.Number({ minimum: 0, maximum: 100, default: 60, description: 'a score at or above this (and below spamThreshold) makes the class Unsure' }),
  rules: Type.Array(ClassRule, {
    default: [
      { class: 'Virus', action: 'reject' },
      { class: 'Blacklisted', action: 'reject' },
      { class: 'Phish', action: 'quarantine' },
      { class: 'Spam', action: 'quarantine' },
      { class: 'Unsure', action: 'tag', tag: 'UNSURE!!' },
      { class: 'Error', action: 'quarantine' },
    ],
    description: 'per-class actions for inbound mail, and for outbound mail unless outboundRules is set; first rule for the class wins; a class without a rule is accepted',
  }),
  outboundRules: Type.Optional(Type.Array(ClassRule, {
    description: 'per-class actions for outbound mail (from the submission listener) only, in the form of rules; absent = outbound mail uses rules, [] = every outbound class is accepted. E.g. reject outbound Spam (5xx) so a customer\'s server notices a compromised account',
  })),
  quarantineResponse: Type.Union([Type.Literal('reject'), Type.Literal('accept')], {
    default: 'reject',
    description: 'SMTP answer when every recipient\'s copy is quarantined: reject (550, recommended: the sender learns it was not delivered) or accept (250)',
  }),
  spf: Type.Object({
    ngResults: Type.Array(Type.Union([Type.Literal('fail'), Type.Literal('softfail')]), { default: ['fail'], description: 'SPF results that count as NG' }),
    action: Type.Union([Type.Literal('none'), Type.Literal('tag'), Type.Literal('quarantine')], { default: 'none', description: 'what an SPF NG result does: nothing more, tag the subject, or quarantine' }),
    tag: Type.String({ minLength: 1, maxLength: 64, default: 'SPF-NG!!', description: 'subject tag for action "tag"' }),
  }, { default: {} }),
  dmarc: Type.Object({
    honourReject: Type.Boolean({ default: true, description: 'a DMARC failure under a p=reject policy makes the class Phish and rejects the message' }),
    honourQuarantine: Type.Boolean({ default: true, description: 'a DMARC failure under p=quarantine makes the class Phish and quarantines it' }),
  }, { default: {} }),
  antivirus: Type.Object({
    enabled: Type.Boolean({ default: true, description: 'scan every message with clamd' }),
    clamd: Type.String({ minLength: 1, default: '/run/clamav/clamd.ctl', description: 'clamd unix socket path, or host:port of its TCP socket' }),
    timeoutSeconds: Type.Integer({ minimum: 1, maximum: 600, default: 60, description: 'a scan taking longer counts as a clamd failure' }),
    onFailure: Type.Union([Type.Literal('tempfail'), Type.Literal('pass')], {
      default: 'tempfail',
      description: 'clamd down or timing out: tempfail (451, the sender retries; recommended) or pass (class Error, then its rule)',
    }),
  }, { default: {} }),
  listPriority: Type.Object({
    default: Type.Union([Type.Literal('address-first'), Type.Literal('domain-first')], { default: 'address-first', description: 'which list level decides first when both match' }),
    domains: Type.Record(Type.String(), Type.Union([Type.Literal('address-first'), Type.Literal('domain-first')]), { default: {}, description: 'per-domain override, keyed by domain name' }),
  }, { default: {} }),
  oversize: Type.Object({
    maxBytes: Type.Integer({
      minimum: 1024, maximum: 2048 * 1024 * 1024, default: 25 * 1024 * 1024,
      description: 'messages larger than this are not scanned, and get the oversize action; clamd\'s StreamMaxLength must be at least this (Debian\'s default is 25M)',
    }),
    action: Type.Union([Type.Literal('quarantine'), Type.Literal('reject')], {
      default: 'quarantine',
      description: 'what happens to an unscanned oversize message: quarantine (an admin can release it) or reject (552); allow and block lists still apply first',
    }),
  }, { default: {} }),
  analysisThreads: Type.Integer({
    minimum: 0, maximum: 32, default: 0,
    description: 'threads that parse, authenticate and score messages beside the SMTP thread; 0 = automatic (one fewer than the CPUs, 1 to 4)',
  }),
  dnsCacheMaxSeconds: Type.Integer({ minimum: 0, maximum: 86400, default: 3600, description: 'upper bound on how long a DNS answer is cached (answers are cached for their TTL up to this)' }),
  stampHeaders: Type.Boolean({ default: true, description: 'add X-Mailmoat-Spam-Score, -Class and -Reasons headers' }),
  greylisting: GreylistSettings,
  dnsLists: DnsListSettings,
  clientChecks: ClientCheckSettings,
  quarantine: Type.Object({
    retentionDays: Type.Integer({ minimum: 1, maximum: 30, default: 30, description: 'quarantined messages older than this are deleted' }),
  }, { default: {} }),
}, { default: {} });
export type Filtering = Static<typeof Filtering>;

// The appliance side (appliance/system/): disk thresholds, SNMP access and traps, remote syslog.
export const DiskThresholds = Type.Object({
  warnPercent: Type.Integer({ minimum: 1, maximum: 99, default: 80, description: 'use of the system or data filesystem (%) at which the admin is warned: log, syslog, SNMP trap, mail' }),
  hardLimitPercent: Type.Integer({ minimum: 1, maximum: 100, default: 95, description: 'use of the data filesystem (%) at which the SMTP listeners answer 452 instead of accepting mail' }),
  quarantineWarnPercent: Type.Integer({ minimum: 1, maximum: 100, default: 50, description: 'share of the data filesystem (%) taken by the quarantine at which the admin is warned' }),
  checkSeconds: Type.Integer({ minimum: 5, default: 60, description: 'how often the filesystems are measured (at least every 5 s while a data filesystem is past its warning level)' }),
}, { default: {} });
export type DiskThresholds = Static<typeof DiskThresholds>;

export const SnmpSettings = Type.Object({
  communities: Type.Array(Type.Object({
    name: Type.String({ minLength: 1, pattern: '^\\S+$', description: 'SNMPv2c community (read-only)' }),
    source: Type.String({ default: 'default', description: 'hosts or network allowed to use it (CIDR), or "default" for any' }),
  }), { default: [], description: 'read-only SNMPv2c communities; none means v2c is off' }),
  users: Type.Array(Type.Object({
    name: Type.String({ minLength: 1, pattern: '^\\S+$', description: 'SNMPv3 user name' }),
    authPassword: Type.String({ minLength: 8, description: 'SHA authentication passphrase (8 characters or more)' }),
    privPassword: Type.String({ minLength: 8, description: 'AES privacy passphrase (8 characters or more)' }),
  }), { default: [], description: 'read-only SNMPv3 users (authPriv, SHA + AES)' }),
  trapSinks: Type.Array(Type.Object({
    host: Type.String({ minLength: 1, description: 'manager receiving traps' }),
    port: Port(162, 'UDP port of the trap receiver'),
    community: Type.String({ minLength: 1, default: 'public', description: 'community sent with SNMPv2c traps' }),
  }), { default: [], description: 'where traps (disk thresholds, queue backlog, clamd down) are sent' }),
  agentxPort: Port(705, 'loopback TCP port of snmpd\'s AgentX master socket, where the daemon registers the Mailmoat MIB'),
  queueBacklogTrap: Type.Integer({ minimum: 1, default: 1000, description: 'queue length above which a backlog trap is sent' }),
}, { default: {} });
export type SnmpSettings = Static<typeof SnmpSettings>;

export const SyslogSettings = Type.Object({
  remote: Type.Array(Type.Object({
    host: Type.String({ minLength: 1, description: 'remote syslog server' }),
    port: Port(514, 'its port'),
    protocol: Type.Union([Type.Literal('udp'), Type.Literal('tcp')], { default: 'udp', description: 'transport; messages are RFC 5424' }),
  }), { default: [], description: 'remote syslog servers every log line is forwarded to' }),
}, { default: {} });
export type SyslogSettings = Static<typeof SyslogSettings>;

// freshclam (the virus signature updater), rendered into its freshclam.conf by the daemon and
// applied by root (mailmoat-apply-system). No value may hold white space: freshclam.conf is
// line- and word-based, and the apply script refuses anything else.
const NoSpace = (description: string) => Type.String({ pattern: '^\\S*$', maxLength: 1000, default: '', description });
const HttpUrl = (description: string) => Type.String({ pattern: '^https?://\\S+$', maxLength: 1000, description });
export const FreshclamSettings = Type.Object({
  source: Type.Union([Type.Literal('official'), Type.Literal('private'), Type.Literal('offline')], {
    default: 'official',
    description: 'where main, daily and bytecode come from: official (the ClamAV mirrors), private (your mirror at mirrorUrl) or offline (no download: upload .cvd files in the console)',
  }),
  mirrorUrl: Type.Union([Type.Literal(''), HttpUrl('a private mirror serving daily.cvd and the others, e.g. http://192.0.2.5/clamav (source: private)')], { default: '', description: 'the private mirror\'s URL (source: private)' }),
  customUrls: Type.Array(HttpUrl('URL of an extra signature database (.ndb, .hdb, .ldb, …), e.g. a third-party set on your mirror'), { default: [], description: 'extra signature databases freshclam fetches besides the official ones' }),
  proxy: Type.Object({
    host: NoSpace('HTTP proxy freshclam goes through; empty: none'),
    port: Port(3128, 'its port'),
    username: NoSpace('user name for the proxy; empty: none'),
    password: NoSpace('its password'),
  }, { default: {} }),
  checksPerDay: Type.Integer({ minimum: 1, maximum: 50, default: 12, description: 'how many times a day freshclam looks for new signatures' }),
}, { default: {} });
export type FreshclamSettings = Static<typeof FreshclamSettings>;

// Scheduled backups to an SFTP server (appliance/system/remote-backup.ts): the encrypted archive of
// everything, streamed as it is written, and the oldest ones removed past `keep`.
export const RemoteBackupSettings = Type.Object({
  enabled: Type.Boolean({ default: false, description: 'send a backup to the SFTP server on the schedule' }),
  host: Type.String({ default: '', maxLength: 253, description: 'SFTP server (host name or IP address)' }),
  port: Port(22, 'its SSH port'),
  username: Type.String({ default: '', maxLength: 100, description: 'user name on the SFTP server' }),
  password: Type.String({ default: '', maxLength: 1000, description: 'its password (or use privateKey)' }),
  privateKey: Type.String({ default: '', maxLength: 20000, description: 'an unencrypted private key in OpenSSH or PEM format whose public key the server accepts (or use password)' }),
  hostKey: Type.String({ default: '', pattern: '^(SHA256:[A-Za-z0-9+/]{43})?$', description: 'the server\'s host key fingerprint as `ssh-keygen -lf` shows it (SHA256:…); a server showing another key is refused. Empty: any key is taken (the one seen is shown in the backup status)' }),
  path: Type.String({ default: '.', minLength: 1, maxLength: 1000, description: 'folder on the server for the archives (relative to the login folder, or absolute)' }),
  passphrase: Type.String({ default: '', maxLength: 1024, description: 'passphrase the archives are encrypted with (8 characters or more; a restore needs it)' }),
  frequency: Type.Union([Type.Literal('daily'), Type.Literal('weekly')], { default: 'daily', description: 'how often a backup is sent' }),
  time: Type.String({ default: '02:30', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'time of day (HH:MM, the appliance\'s time zone)' }),
  weekday: Type.Integer({ minimum: 0, maximum: 6, default: 0, description: 'day of a weekly backup (0 = Sunday)' }),
  keep: Type.Integer({ minimum: 1, maximum: 1000, default: 7, description: 'archives kept on the server: older ones of this appliance are removed after each backup' }),
}, { default: {} });
export type RemoteBackupSettings = Static<typeof RemoteBackupSettings>;

export const SystemSettings = Type.Object({
  disk: DiskThresholds,
  snmp: SnmpSettings,
  syslog: SyslogSettings,
  freshclam: FreshclamSettings,
  remoteBackup: RemoteBackupSettings,
}, { default: {} });
export type SystemSettings = Static<typeof SystemSettings>;

export const LogSettings = Type.Object({
  retentionDays: Type.Integer({ minimum: 1, maximum: 3650, default: 90, description: 'message log records (and their search indexes) older than this are deleted' }),
  maxMegabytes: Type.Integer({ minimum: 0, default: 0, description: 'size cap of the message log with its search indexes on disk, in MB (about 1 100 per million messages); past it the oldest records are deleted at the hourly retention sweep, which says so in the daemon\'s log; 0: no cap besides retentionDays' }),
  relayDenied: Type.Boolean({ default: false, description: 'log RCPT refusals for domains we do not serve ("Relay access denied"), status "rejected at RCPT"' }),
}, { default: {} });
export type LogSettings = Static<typeof LogSettings>;

// Layered filtering policy (appliance/policy/): the `filtering` section holds the appliance's
// defaults; a served domain, and a mailbox in it, may set their own value of each setting below.
// A setting a level leaves out is inherited from the level above. Kept flat, one key per setting,
// so the "domains may override" switch and the console's "where this value comes from" name it.
export const POLICY_SETTINGS = [
  'spamThreshold', 'unsureThreshold', 'actions', 'spfNgResults', 'spfAction', 'spfTag', 'dmarcHonourReject',
  'dmarcHonourQuarantine', 'oversizeMaxBytes', 'oversizeAction', 'quarantineResponse', 'retentionDays', 'stampHeaders',
  'greylisting',
] as const;
export type PolicySetting = typeof POLICY_SETTINGS[number];
// The union built from the list, typed as the list's names (a mapped array loses the literal types).
export const PolicySettingName = Type.Unsafe<PolicySetting>(Type.Union(POLICY_SETTINGS.map((s) => Type.Literal(s)), { description: 'a filtering setting a domain or mailbox may set' }));

export const PolicyOverrides = Type.Object({
  spamThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'as filtering.spamThreshold' })),
  unsureThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'as filtering.unsureThreshold' })),
  actions: Type.Optional(Type.Array(ClassRule, { description: 'per-class actions and subject tags (e.g. Spam: tag MEIWAKU!!); a class listed here replaces that class\'s rule of the level above, the other classes are inherited' })),
  spfNgResults: Type.Optional(Type.Array(Type.Union([Type.Literal('fail'), Type.Literal('softfail')]), { description: 'as filtering.spf.ngResults' })),
  spfAction: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('tag'), Type.Literal('quarantine')], { description: 'as filtering.spf.action' })),
  spfTag: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'as filtering.spf.tag' })),
  dmarcHonourReject: Type.Optional(Type.Boolean({ description: 'as filtering.dmarc.honourReject' })),
  dmarcHonourQuarantine: Type.Optional(Type.Boolean({ description: 'as filtering.dmarc.honourQuarantine' })),
  oversizeMaxBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 2048 * 1024 * 1024, description: 'as filtering.oversize.maxBytes' })),
  oversizeAction: Type.Optional(Type.Union([Type.Literal('quarantine'), Type.Literal('reject')], { description: 'as filtering.oversize.action' })),
  quarantineResponse: Type.Optional(Type.Union([Type.Literal('reject'), Type.Literal('accept')], { description: 'as filtering.quarantineResponse; with several recipients the message is refused (550) only when every recipient\'s copy is refused under its own policy' })),
  retentionDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 30, description: 'as filtering.quarantine.retentionDays, for this level\'s held copies' })),
  stampHeaders: Type.Optional(Type.Boolean({ description: 'as filtering.stampHeaders' })),
  greylisting: Type.Optional(Type.Boolean({ description: 'as filtering.greylisting.enabled: greylist this level\'s recipients (true) or not (false)' })),
});
export type PolicyOverrides = Static<typeof PolicyOverrides>;

export const QuotaLimits = Type.Object({
  maxBytes: Type.Optional(Type.Integer({ minimum: 0, description: 'bytes of held messages; 0 = no limit' })),
  maxMessages: Type.Optional(Type.Integer({ minimum: 0, description: 'held messages; 0 = no limit' })),
});
export type QuotaLimits = Static<typeof QuotaLimits>;

export const DomainPolicy = Type.Object({
  ...PolicyOverrides.properties,
  feedback: Type.Optional(Type.Boolean({ description: 'mailbox users of the domain may report spam / not spam (console buttons, uploads, spam@ and ham@ the appliance\'s host name); default true' })),
  contact: Type.Optional(Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', description: 'the domain\'s contact: its notices go here (outbound mail held, quarantine quota warnings besides the mailbox user); default: postmaster' })),
  mailboxQuota: Type.Optional(Type.Object(QuotaLimits.properties, { description: 'quarantine quota of each of its mailboxes, replacing policy.quota.mailbox (appliance admin only)' })),
  domainQuota: Type.Optional(Type.Object(QuotaLimits.properties, { description: 'quarantine quota of the whole domain, replacing policy.quota.domain (appliance admin only)' })),
}, { additionalProperties: false, description: 'a served domain\'s own settings; `contact` receives its notices (default: postmaster); quotas are set by the appliance admin only' });
export type DomainPolicy = Static<typeof DomainPolicy>;

export const MailboxPolicy = Type.Object({
  ...PolicyOverrides.properties,
  quota: Type.Optional(Type.Object(QuotaLimits.properties, { description: 'this mailbox\'s quarantine quota, replacing its domain\'s mailboxQuota (appliance admin only)' })),
}, { additionalProperties: false, description: 'one mailbox\'s own settings (set by the appliance admin or its domain\'s admin); `quota` by the appliance admin only' });
export type MailboxPolicy = Static<typeof MailboxPolicy>;

export const PolicySettings = Type.Object({
  domainsMayOverride: Type.Array(PolicySettingName, {
    default: ['spamThreshold', 'unsureThreshold', 'actions', 'spfNgResults', 'spfAction', 'spfTag', 'retentionDays'],
    description: 'the settings a domain admin may set for their domain and its mailboxes (the appliance admin may set any)',
  }),
  domains: Type.Record(Type.String(), DomainPolicy, { default: {}, description: 'per served domain, keyed by its name' }),
  mailboxes: Type.Record(Type.String(), MailboxPolicy, { default: {}, description: 'per mailbox, keyed by its address in a served domain' }),
  quota: Type.Object({
    mailbox: Type.Object({
      maxBytes: Type.Integer({ minimum: 0, default: 0, description: 'held bytes per mailbox; 0 = no limit' }),
      maxMessages: Type.Integer({ minimum: 0, default: 0, description: 'held messages per mailbox; 0 = no limit' }),
    }, { default: {} }),
    domain: Type.Object({
      maxBytes: Type.Integer({ minimum: 0, default: 0, description: 'held bytes per domain; 0 = no limit' }),
      maxMessages: Type.Integer({ minimum: 0, default: 0, description: 'held messages per domain; 0 = no limit' }),
    }, { default: {} }),
    warnPercent: Type.Integer({ minimum: 1, maximum: 100, default: 80, description: 'use of a quota (%) at which the mailbox user and the domain contact are mailed a warning, once per crossing' }),
    whenFull: Type.Union([Type.Literal('deliver-tagged'), Type.Literal('tempfail')], {
      default: 'deliver-tagged',
      description: 'a copy that would be quarantined into a full quarantine: deliver-tagged (delivered with `fullTag` added to the subject) or tempfail (the message is answered 452, the sender retries); viruses are held whatever the quota',
    }),
    fullTag: Type.String({ minLength: 1, maxLength: 64, default: 'QUARANTINE-FULL!!', description: 'subject tag of a copy delivered because its quarantine was full' }),
  }, { default: {}, description: 'quarantine quotas: defaults for every mailbox and domain (a domain\'s mailboxQuota/domainQuota and a mailbox\'s quota replace them)' }),
}, { default: {} });
export type PolicySettings = Static<typeof PolicySettings>;

export const ConfigSchema = Type.Object({
  hostname: Type.String({ minLength: 1, pattern: HOST_NAME, default: defaultHostname(), description: 'the appliance\'s fully qualified host name (e.g. mx.example.com): name in the SMTP greeting, Received headers and bounces, and the MX target published for served domains' }),
  listeners: Type.Object({
    inbound: Type.Object({ address: Listener.properties.address, port: ListenPort(2525, 'inbound SMTP port (25 in the image)') }, { default: {} }),
    submission: Type.Object({ address: Listener.properties.address, port: ListenPort(2587, 'submission port for outbound relaying (587 in the image)') }, { default: {} }),
    console: Type.Object({ address: Listener.properties.address, port: ListenPort(8443, 'HTTPS port of the web console (443 in the image)') }, { default: {} }),
  }, { default: {} }),
  tls: Type.Object(TlsSettings.properties, { default: {} }),
  domains: Type.Array(Domain, { default: [], description: 'served domains' }),
  relay: Relay,
  limits: Limits,
  delivery: Delivery,
  postmaster: Type.Optional(Type.String({ description: 'admin contact address, used as the sender of notices' })),
  time: TimeSettings,
  console: ConsoleSettings,
  filtering: Filtering,
  log: LogSettings,
  system: SystemSettings,
  reports: ReportSettings,
  policy: PolicySettings,
}, { additionalProperties: false });
export type Config = Static<typeof ConfigSchema>;
