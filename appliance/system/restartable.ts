// The services the admin may restart from the console: the appliance's own and the system daemons
// it relies on. Root's helper (mailmoat-apply-system) keeps its own copy of this list and restarts
// nothing else, whatever the request file says. Free of Node modules: the web UI shows the buttons.
export const RESTARTABLE_SERVICES = ['mailmoat', 'clamav-daemon', 'clamav-freshclam', 'snmpd', 'rsyslog', 'chrony', 'systemd-networkd'] as const;
export type RestartableService = typeof RESTARTABLE_SERVICES[number];

export function isRestartable(name: string): name is RestartableService {
  return (RESTARTABLE_SERVICES as readonly string[]).includes(name);
}

/** The file in <data>/system the daemon writes to ask root for a restart (one service name). */
export const RESTART_REQUEST = 'restart-request';
