// When a scheduled report is due, in the domain's own time zone. A schedule is a time of day
// (and a weekday for weekly ones); its *slots* are the instants where the zone's wall clock
// shows that time. The scheduler runs a report when its latest slot at or before now is newer
// than the slot it last ran for (stored), so a restart between slots sends nothing twice and a
// report missed while the appliance was down is sent once, not once per missed slot.
// Wall-clock times a DST change skips (02:30 on a spring-forward night) run at the shifted
// instant (03:30); times it repeats run once, at the later of the two.

export interface Schedule {
  frequency: 'daily' | 'weekly';
  /** HH:MM, 24 h. */
  time: string;
  /** 0 = Sunday; used by weekly schedules. */
  weekday: number;
  /** More times of day on the same days (a digest sent 2 or 3 times a day). */
  extraTimes?: string[];
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's wall clock at an instant. */
export function wallClock(ms: number, zone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(ms)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute, second: parts.second };
}

/** The zone's offset from UTC at an instant, in ms (Tokyo: +9 h). */
function offsetAt(ms: number, zone: string): number {
  const w = wallClock(ms, zone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
}

/** The instant the zone's wall clock shows this date and time (see the file's note on DST). */
export function zonedInstant(year: number, month: number, day: number, hour: number, minute: number, zone: string): number {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  const first = asUtc - offsetAt(asUtc, zone);
  const second = offsetAt(first, zone);
  return asUtc - second === first ? first : asUtc - second;
}

/** The latest slot of the schedule at or before `now`. */
export function latestSlot(s: Schedule, zone: string, now: number): number {
  return Math.max(...[s.time, ...(s.extraTimes ?? [])].map((time) => latestSlotAt(time, s, zone, now)));
}

function latestSlotAt(time: string, s: Schedule, zone: string, now: number): number {
  const today = wallClock(now, zone);
  const [hour, minute] = time.split(':').map(Number);
  for (let back = 0; back <= 8; back++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day - back));
    if (s.frequency === 'weekly' && date.getUTCDay() !== s.weekday) continue;
    const slot = zonedInstant(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), hour, minute, zone);
    if (slot <= now) return slot;
  }
  throw new Error(`no slot of ${JSON.stringify(s)} in ${zone} within 8 days before ${new Date(now).toISOString()}`);
}

/** The length of one period of the schedule (what a first report covers). */
export function periodMs(s: Schedule): number {
  return (s.frequency === 'weekly' ? 7 : 1) * 86_400_000;
}

/**
 * Calls `tick` at the start of every minute, one call at a time: a tick still running when the
 * next minute starts makes that minute's call wait for the next one. (A timer to the next whole
 * minute: all a report schedule needs, and it says nothing on the console when the box is busy.)
 */
export function startTicker(tick: () => Promise<void>, onError: (err: Error) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    if (!stopped) timer = setTimeout(run, 60_000 - (Date.now() % 60_000));
  };
  const run = async () => {
    await tick().catch(onError);
    schedule();
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
