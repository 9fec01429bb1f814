// The console's settings forms, grouped as an admin thinks of the box (spam, authentication,
// antivirus, …) rather than by configuration section: each group lists the settings it shows, by
// JSON pointer into the configuration. The web UI draws a group's fields from these pointers and
// the configuration schema; the API (routes/settings.ts) accepts a change only to the settings of
// the group named, so a form cannot reach anything it does not show. Labels and help are in
// i18n/settings-texts.ts under the same pointers. Free of Node modules: the web UI bundles it.

export const SETTINGS_GROUPS = {
  spam: [
    '/filtering/spamThreshold', '/filtering/unsureThreshold', '/filtering/quarantineResponse', '/filtering/stampHeaders',
    '/filtering/greylisting/enabled', '/filtering/greylisting/delaySeconds', '/filtering/greylisting/retryWindowHours',
    '/filtering/greylisting/passedDays', '/filtering/greylisting/autoWhitelistAfter', '/filtering/greylisting/skipSpfPass',
    '/filtering/dnsLists/zones', '/filtering/dnsLists/rejectScore', '/filtering/dnsLists/timeoutMs',
    '/filtering/clientChecks/enabled', '/filtering/clientChecks/noPtr', '/filtering/clientChecks/ptrMismatch',
    '/filtering/clientChecks/heloForeignIp', '/filtering/clientChecks/heloOurName',
  ],
  // The class → action rules, edited with their own ordered editor on the Filtering page.
  rules: ['/filtering/rules', '/filtering/outboundRules'],
  authentication: [
    '/filtering/spf/ngResults', '/filtering/spf/action', '/filtering/spf/tag',
    '/filtering/dmarc/honourReject', '/filtering/dmarc/honourQuarantine',
    '/limits/auth/failuresPerConnection', '/limits/auth/failuresPerClient', '/limits/auth/failuresPerUser',
    '/limits/auth/windowMinutes', '/limits/auth/delayMs', '/limits/auth/maxDelayMs',
    '/console/sessionIdleMinutes', '/console/lockoutAttempts', '/console/lockoutMinutes', '/console/language',
  ],
  antivirus: [
    '/filtering/antivirus/enabled', '/filtering/antivirus/clamd', '/filtering/antivirus/timeoutSeconds', '/filtering/antivirus/onFailure',
    '/filtering/oversize/maxBytes', '/filtering/oversize/action',
  ],
  lists: ['/filtering/listPriority/default'],
  quarantine: [
    '/filtering/quarantine/retentionDays', '/policy/quota/mailbox/maxBytes', '/policy/quota/mailbox/maxMessages',
    '/policy/quota/domain/maxBytes', '/policy/quota/domain/maxMessages', '/policy/quota/warnPercent', '/policy/quota/whenFull',
    '/policy/quota/fullTag', '/log/retentionDays', '/log/maxMegabytes', '/log/relayDenied',
  ],
  network: [
    '/hostname', '/postmaster', '/relay/resolver', '/relay/networks', '/limits/trustedNetworks',
    '/limits/maxMessageBytes', '/limits/maxRecipients', '/limits/maxConnections', '/limits/maxConnectionsPerClient',
    '/limits/maxConnectionsPerNetwork', '/limits/reservedConnectionsPercent', '/limits/maxMessagesPerMinutePerClient',
    '/limits/idleTimeoutSeconds', '/limits/greetingTimeoutSeconds', '/limits/greetingPauseMs',
    '/delivery/queueLifetimeHours', '/delivery/retryMinutes', '/delivery/concurrency', '/delivery/connectTimeoutSeconds',
  ],
  time: ['/time/timezone', '/time/ntpServers'],
  monitoring: [
    '/system/snmp/communities', '/system/snmp/users', '/system/snmp/trapSinks', '/system/snmp/queueBacklogTrap',
    '/system/syslog/remote',
    '/system/disk/warnPercent', '/system/disk/hardLimitPercent', '/system/disk/quarantineWarnPercent',
  ],
} as const satisfies Record<string, readonly string[]>;

/**
 * Settings of one served domain, shown on a page of their own (Reports) rather than with the
 * appliance's: pointers into any domain (`/domains/*`), saved with the domain (PUT
 * /api/domains/:name, where a domain admin may save their own). Texts as for the groups above.
 */
export const DOMAIN_SETTINGS_GROUPS = {
  reports: [
    '/domains/*/reports/digest/enabled', '/domains/*/reports/digest/frequency', '/domains/*/reports/digest/time',
    '/domains/*/reports/digest/weekday', '/domains/*/reports/digest/extraTimes', '/domains/*/reports/digest/language',
    '/domains/*/reports/digest/format', '/domains/*/reports/digest/skipEmpty', '/domains/*/reports/digest/horizonDays',
    '/domains/*/reports/digest/welcome', '/domains/*/reports/digest/extraTable', '/domains/*/reports/actions',
    '/domains/*/reports/domain/enabled', '/domains/*/reports/domain/recipients', '/domains/*/reports/domain/frequency',
    '/domains/*/reports/domain/time', '/domains/*/reports/domain/weekday', '/domains/*/reports/domain/language',
    '/domains/*/reports/domain/format', '/domains/*/reports/domain/withoutMessages', '/domains/*/reports/domain/extraTable',
  ],
} as const satisfies Record<string, readonly string[]>;

export type SettingsGroup = keyof typeof SETTINGS_GROUPS;
export type SettingPointer = typeof SETTINGS_GROUPS[SettingsGroup][number];
export const GROUP_NAMES = Object.keys(SETTINGS_GROUPS) as SettingsGroup[];

export function isSettingsGroup(name: string): name is SettingsGroup {
  return name in SETTINGS_GROUPS;
}

/** Settings whose values are secrets: never echoed into the audit log. */
export const SECRET_SETTINGS: readonly string[] = ['/system/snmp/users'];

/** The pointer's steps ("/a/b" → ["a", "b"]). */
export function steps(pointer: string): string[] {
  return pointer.split('/').slice(1);
}

/** The value at a pointer of a configuration document (undefined when absent). */
export function valueAt(doc: unknown, pointer: string): unknown {
  let v: unknown = doc;
  for (const s of steps(pointer)) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[s] : undefined;
  return v;
}

/** Sets the value at a pointer, making the objects on the way; undefined removes the key (an optional setting left unset). */
export function setValueAt(doc: Record<string, unknown>, pointer: string, value: unknown): void {
  const path = steps(pointer);
  let o = doc;
  for (const s of path.slice(0, -1)) {
    if (o[s] === null || typeof o[s] !== 'object') o[s] = {};
    o = o[s] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (value === undefined) delete o[last];
  else o[last] = value;
}
