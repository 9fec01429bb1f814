// The Mailmoat MIB (mibs/MAILMOAT-MIB.txt) as net-snmp provider definitions: one place that maps
// the MIB's object names to OIDs and SNMP types, used by the subagent and its tests.
import snmp from 'net-snmp';

/** Enterprise subtree; 99999 is a placeholder until IANA assigns the project a number. */
export const MAILMOAT_OID = '1.3.6.1.4.1.99999';
const OBJECTS = `${MAILMOAT_OID}.1`;
export const NOTIFICATIONS = `${MAILMOAT_OID}.2`;

export const SCALARS = {
  mmMessagesIn: { oid: `${OBJECTS}.1.1`, type: snmp.ObjectType.Counter32 },
  mmMessagesOut: { oid: `${OBJECTS}.1.2`, type: snmp.ObjectType.Counter32 },
  mmSpam: { oid: `${OBJECTS}.1.3`, type: snmp.ObjectType.Counter32 },
  mmVirus: { oid: `${OBJECTS}.1.4`, type: snmp.ObjectType.Counter32 },
  mmQuarantined: { oid: `${OBJECTS}.1.5`, type: snmp.ObjectType.Counter32 },
  mmRejected: { oid: `${OBJECTS}.1.6`, type: snmp.ObjectType.Counter32 },
  mmAuthFailures: { oid: `${OBJECTS}.1.7`, type: snmp.ObjectType.Counter32 },
  mmTagged: { oid: `${OBJECTS}.1.8`, type: snmp.ObjectType.Counter32 },
  mmQueueLength: { oid: `${OBJECTS}.2.1`, type: snmp.ObjectType.Gauge32 },
  mmQueueOldestAge: { oid: `${OBJECTS}.2.2`, type: snmp.ObjectType.Gauge32 },
  mmQuarantineSize: { oid: `${OBJECTS}.3.1`, type: snmp.ObjectType.Gauge32 },
  mmDiskSystemPercent: { oid: `${OBJECTS}.3.2`, type: snmp.ObjectType.Gauge32 },
  mmDiskDataPercent: { oid: `${OBJECTS}.3.3`, type: snmp.ObjectType.Gauge32 },
  mmDiskState: { oid: `${OBJECTS}.3.4`, type: snmp.ObjectType.Integer },
  mmSignatureVersion: { oid: `${OBJECTS}.6.1`, type: snmp.ObjectType.Gauge32 },
  mmSignatureAge: { oid: `${OBJECTS}.6.2`, type: snmp.ObjectType.Gauge32 },
  mmFreshclamFailures: { oid: `${OBJECTS}.6.3`, type: snmp.ObjectType.Gauge32 },
  mmFreshclamLastFailureAge: { oid: `${OBJECTS}.6.4`, type: snmp.ObjectType.Gauge32 },
} as const;
export type ScalarName = keyof typeof SCALARS;

export const SERVICE_TABLE_OID = `${OBJECTS}.4`;
export const TRAP_MESSAGE_OID = `${OBJECTS}.5.0`;

export const TRAPS = {
  diskThreshold: `${NOTIFICATIONS}.1`,
  queueBacklog: `${NOTIFICATIONS}.2`,
  clamdDown: `${NOTIFICATIONS}.3`,
  signaturesStale: `${NOTIFICATIONS}.4`,
} as const;
export type TrapName = keyof typeof TRAPS;

export const DISK_STATE = { ok: 1, warning: 2, full: 3 } as const;
export const SERVICE_STATE: Record<string, number> = { active: 1, inactive: 2, failed: 3, activating: 4, unknown: 5 };

export function providers(): object[] {
  const scalars = Object.entries(SCALARS).map(([name, s]) => ({
    name, type: snmp.MibProviderType.Scalar, oid: s.oid, scalarType: s.type, maxAccess: snmp.MaxAccess['read-only'],
  }));
  const serviceTable = {
    name: 'mmServiceTable',
    type: snmp.MibProviderType.Table,
    // net-snmp puts the columns straight under the provider's OID: give it the entry's (table.1).
    oid: `${SERVICE_TABLE_OID}.1`,
    maxAccess: snmp.MaxAccess['not-accessible'],
    tableColumns: [
      { number: 1, name: 'mmServiceIndex', type: snmp.ObjectType.Integer, maxAccess: snmp.MaxAccess['not-accessible'] },
      { number: 2, name: 'mmServiceName', type: snmp.ObjectType.OctetString, maxAccess: snmp.MaxAccess['read-only'] },
      { number: 3, name: 'mmServiceState', type: snmp.ObjectType.Integer, maxAccess: snmp.MaxAccess['read-only'] },
    ],
    tableIndex: [{ columnName: 'mmServiceIndex' }],
  };
  return [...scalars, serviceTable];
}
