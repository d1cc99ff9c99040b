/**
 * Timestamps in fixture log lines, found and shifted by one offset so that a recorded scenario replays as
 * if it were happening now (or at a chosen time), keeping every gap between lines. Recognised, anywhere in
 * the line: ISO 8601 / RFC 5424 (`2026-11-26T02:00:00.123Z`, `...+07:00`), RFC 3164 (`Jun 15 18:59:01`, no
 * year or zone: wall-clock time in the replay's zone), and access logs (`[15/Jun/2024:20:00:01 +0700]`).
 * Each is written back in its own format and zone.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const ISO = /\b(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})/g;
// RFC 3164 right after the PRI (or at the start of a file line without one).
const RFC3164 = /^(<\d{1,3}>)?([A-Z][a-z]{2}) ( ?\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?= )/;
const ACCESS = /\[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]/g;

export interface ShiftContext {
  /** Offset in ms added to every timestamp. */
  offsetMs: number;
  /** Minutes east of UTC of the zone RFC 3164 times are read in (e.g. 420 for Asia/Ho_Chi_Minh). */
  zoneOffsetMinutes: number;
  /** Year assumed for RFC 3164 times. */
  year: number;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function offsetText(minutes: number, colon: boolean): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}${colon ? ':' : ''}${pad(abs % 60)}`;
}

function parseOffset(text: string): number {
  if (text === 'Z') return 0;
  const sign = text.startsWith('-') ? -1 : 1;
  const digits = text.replace(':', '').slice(1);
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
}

/** Wall-clock fields of `epochMs` in a zone `minutes` east of UTC. */
function fieldsAt(epochMs: number, minutes: number) {
  const d = new Date(epochMs + minutes * 60_000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth(),
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    ms: d.getUTCMilliseconds(),
  };
}

/** The first timestamp of a line, as epoch ms, if it has one. */
export function firstTimestamp(line: string, context: Omit<ShiftContext, 'offsetMs'>): number | undefined {
  const rfc3164 = RFC3164.exec(line);
  if (rfc3164) {
    const month = MONTHS.indexOf(rfc3164[2]!);
    if (month >= 0) {
      const wall = Date.UTC(
        context.year,
        month,
        Number(rfc3164[3]),
        Number(rfc3164[4]),
        Number(rfc3164[5]),
        Number(rfc3164[6]),
      );
      return wall - context.zoneOffsetMinutes * 60_000;
    }
  }
  ISO.lastIndex = 0;
  const iso = ISO.exec(line);
  if (iso) return Date.parse(iso[0]);
  ACCESS.lastIndex = 0;
  const access = ACCESS.exec(line);
  if (access) {
    const month = MONTHS.indexOf(access[2]!);
    const wall = Date.UTC(
      Number(access[3]),
      month,
      Number(access[1]),
      Number(access[4]),
      Number(access[5]),
      Number(access[6]),
    );
    return wall - parseOffset(access[7]!) * 60_000;
  }
  return undefined;
}

/** The line with every recognised timestamp moved by `offsetMs`, each in its own format and zone. */
export function shiftLine(line: string, context: ShiftContext): string {
  let out = line.replace(RFC3164, (whole, pri: string | undefined, mon: string, day: string) => {
    const month = MONTHS.indexOf(mon);
    if (month < 0) return whole;
    const time = whole.slice(whole.length - 8);
    const wall = Date.UTC(
      context.year,
      month,
      Number(day),
      Number(time.slice(0, 2)),
      Number(time.slice(3, 5)),
      Number(time.slice(6, 8)),
    );
    const f = fieldsAt(wall + context.offsetMs, 0);
    // RFC 3164 pads the day with a space ("Jun  5").
    return `${pri ?? ''}${MONTHS[f.month]} ${String(f.day).padStart(2, ' ')} ${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}`;
  });
  out = out.replace(ISO, (whole, _y, _m, _d, _h, _mi, _s, fraction: string | undefined, zone: string) => {
    const minutes = parseOffset(zone);
    const f = fieldsAt(Date.parse(whole) + context.offsetMs, minutes);
    const digits = fraction ? fraction.length - 1 : 0;
    const frac = digits > 0 ? `.${pad(f.ms, 3).padEnd(digits, '0').slice(0, digits)}` : '';
    return `${f.year}-${pad(f.month + 1)}-${pad(f.day)}T${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}${frac}${zone === 'Z' ? 'Z' : offsetText(minutes, true)}`;
  });
  out = out.replace(
    ACCESS,
    (whole, day: string, mon: string, year: string, h: string, mi: string, s: string, zone: string) => {
      const month = MONTHS.indexOf(mon);
      if (month < 0) return whole;
      const minutes = parseOffset(zone);
      const epoch =
        Date.UTC(Number(year), month, Number(day), Number(h), Number(mi), Number(s)) - minutes * 60_000;
      const f = fieldsAt(epoch + context.offsetMs, minutes);
      return `[${pad(f.day)}/${MONTHS[f.month]}/${f.year}:${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)} ${zone}]`;
    },
  );
  return out;
}
