import type { GraphGateway } from '../graph/graph-gateway';
import type { OnlineMeetingOptions } from '../graph/graph-types';
import type { AuditStore } from '../records/audit-store';

/** What a teacher asked for, with the time already in UTC. */
export interface ClassMeetingRequest {
  title: string;
  start: Date;
  durationMinutes: number;
}

export type ParsedMeetingRequest = { ok: true; request: ClassMeetingRequest } | { ok: false; problem: string };

/** How to write a /meeting command, for replies and /help. */
export const MEETING_USAGE =
  'Write /meeting TITLE [today|tomorrow|Monday…Sunday|YYYY-MM-DD|DD/MM] [at] HH:MM [for N min]. Times are UK time. ' +
  'For example: "/meeting Year 4 catch-up tomorrow 14:00", "/meeting Phonics at 9:30am for 30 min" or "/meeting Reading 2026-11-24T10:00".';

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const DEFAULT_DURATION_MINUTES = 60;
const DAY_PATTERN = /(?:\s+on)?\s+(today|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday|(\d{4})-(\d{2})-(\d{2})|(\d{1,2})\/(\d{1,2})(?:\/(\d{4}))?)$/i;
const WEEKDAY_LABELS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH_LABELS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TIME_ZONE = 'Europe/London';

/**
 * Reads "TITLE [day] [at] TIME [for N min]" in UK time. With no day, the next time that hour comes round
 * (today, else tomorrow); a weekday is its next occurrence; an explicit date in the past is refused.
 */
export function parseMeetingRequest(text: string, now: Date): ParsedMeetingRequest {
  // A leading space lets every part be matched as " word", even when the title is missing.
  let rest = ` ${text.trim().replace(/\s+/g, ' ')}`;
  let durationMinutes = DEFAULT_DURATION_MINUTES;
  const duration = /\s+for\s+(\d{1,3})\s*(m|min|mins|minutes|h|hr|hrs|hour|hours)$/i.exec(rest);
  if (duration) {
    const amount = Number(duration[1]);
    durationMinutes = /^h/i.test(duration[2] as string) ? amount * 60 : amount;
    rest = rest.slice(0, duration.index);
  }
  if (durationMinutes < 5 || durationMinutes > 8 * 60) return { ok: false, problem: 'A class meeting lasts between 5 minutes and 8 hours.' };

  let date: { y: number; m: number; d: number } | undefined;
  let hour: number;
  let minute: number;
  const iso = /\s+(\d{4})-(\d{2})-(\d{2})[T ](\d{1,2}):(\d{2})$/i.exec(rest);
  if (iso) {
    date = { y: Number(iso[1]), m: Number(iso[2]), d: Number(iso[3]) };
    hour = Number(iso[4]);
    minute = Number(iso[5]);
    rest = rest.slice(0, iso.index);
  } else {
    const dayFirst = DAY_PATTERN.exec(rest);
    if (dayFirst) rest = rest.slice(0, dayFirst.index);
    const time = /(?:\s+at)?\s+(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$/i.exec(rest);
    if (!time || (time[2] === undefined && time[3] === undefined)) return { ok: false, problem: `I could not find a time. ${MEETING_USAGE}` };
    hour = Number(time[1]);
    minute = Number(time[2] ?? 0);
    const meridiem = time[3]?.toLowerCase();
    if (meridiem) {
      if (hour < 1 || hour > 12) return { ok: false, problem: `"${time[1]}${meridiem}" is not a time.` };
      hour = (hour % 12) + (meridiem === 'pm' ? 12 : 0);
    }
    rest = rest.slice(0, time.index);
    if (dayFirst) rest = `${rest}${dayFirst[0]}`;
  }
  if (hour > 23 || minute > 59) return { ok: false, problem: `That is not a time of day. ${MEETING_USAGE}` };

  const today = londonDate(now);
  if (!date) {
    const day = DAY_PATTERN.exec(rest);
    if (day) {
      const word = (day[1] as string).toLowerCase();
      if (word === 'today') date = today;
      else if (word === 'tomorrow') date = addDays(today, 1);
      else if (WEEKDAYS.includes(word)) {
        const current = new Date(Date.UTC(today.y, today.m - 1, today.d)).getUTCDay();
        let ahead = (WEEKDAYS.indexOf(word) - current + 7) % 7;
        if (ahead === 0 && londonToUtc(today, hour, minute) <= now) ahead = 7;
        date = addDays(today, ahead);
      } else if (day[2]) date = { y: Number(day[2]), m: Number(day[3]), d: Number(day[4]) };
      else date = { y: day[7] ? Number(day[7]) : today.y, m: Number(day[6]), d: Number(day[5]) };
      rest = rest.slice(0, day.index);
    } else {
      date = londonToUtc(today, hour, minute) > now ? today : addDays(today, 1);
    }
  }
  const check = new Date(Date.UTC(date.y, date.m - 1, date.d));
  if (check.getUTCFullYear() !== date.y || check.getUTCMonth() !== date.m - 1 || check.getUTCDate() !== date.d) {
    return { ok: false, problem: `That date does not exist. ${MEETING_USAGE}` };
  }
  const start = londonToUtc(date, hour, minute);
  if (start <= now) return { ok: false, problem: 'That time has already passed. Choose a time in the future.' };
  const title = rest.replace(/\s+(at|on)$/i, '').trim();
  if (!title) return { ok: false, problem: `Give the meeting a title. ${MEETING_USAGE}` };
  if (title.length > 200) return { ok: false, problem: 'The title is too long (200 characters at most).' };
  return { ok: true, request: { title, start, durationMinutes } };
}

/** The safe class-meeting settings (product.md §3): https://learn.microsoft.com/graph/api/resources/onlinemeeting */
export function safeClassMeetingOptions(request: ClassMeetingRequest): OnlineMeetingOptions {
  return {
    subject: request.title,
    startDateTime: request.start.toISOString(),
    endDateTime: new Date(request.start.getTime() + request.durationMinutes * 60_000).toISOString(),
    allowedPresenters: 'organizer',
    lobbyBypassSettings: { scope: 'organizer', isDialInBypassEnabled: false },
    allowMeetingChat: 'disabled',
    allowAttendeeToEnableCamera: true,
    allowAttendeeToEnableMic: true,
    // Graph has no per-role switch: off for the meeting means attendees cannot record or transcribe.
    allowRecording: false,
    allowTranscription: false,
    recordAutomatically: false,
    allowParticipantsToChangeName: false,
  };
}

/** What scheduling a class meeting needs. */
export interface ScheduleClassMeetingDependencies {
  schoolId: string;
  /** Undefined in plan mode. */
  graph: Pick<GraphGateway, 'createOnlineMeetings'> | undefined;
  audit: Pick<AuditStore, 'appendAudit'>;
}

export type ScheduleClassMeetingResult =
  | { outcome: 'created'; joinWebUrl: string; meetingId: string; request: ClassMeetingRequest }
  | { outcome: 'no-tenant' }
  | { outcome: 'failed'; status: number; code: string };

/** Creates a safe class meeting with the teacher (by Entra object id) as organiser. */
export async function scheduleClassMeeting(deps: ScheduleClassMeetingDependencies, organizerId: string, request: ClassMeetingRequest): Promise<ScheduleClassMeetingResult> {
  if (!deps.graph) return { outcome: 'no-tenant' };
  const [result] = await deps.graph.createOnlineMeetings([{ organizerId, meeting: safeClassMeetingOptions(request) }]);
  if (!result?.ok) {
    const error = result && !result.ok ? result.error : undefined;
    await deps.audit.appendAudit(deps.schoolId, { actorId: organizerId, action: 'meeting.create', target: 'onlineMeeting', outcome: 'failed', details: { status: error?.status ?? 0, code: error?.code ?? 'NoResult' } });
    return { outcome: 'failed', status: error?.status ?? 0, code: error?.code ?? 'NoResult' };
  }
  await deps.audit.appendAudit(deps.schoolId, { actorId: organizerId, action: 'meeting.create', target: result.value.id, outcome: 'succeeded', details: { durationMinutes: request.durationMinutes } });
  return { outcome: 'created', joinWebUrl: result.value.joinWebUrl, meetingId: result.value.id, request };
}

/** A UK-time label such as "Tue 24 Nov 2026, 14:00". */
export function formatUkTime(date: Date): string {
  // Built by hand: Intl's en-GB punctuation differs between ICU versions (Node 20 and 22).
  const t = londonDateTime(date);
  const weekday = WEEKDAY_LABELS[new Date(Date.UTC(t.y, t.m - 1, t.d)).getUTCDay()] as string;
  return `${weekday} ${t.d} ${MONTH_LABELS[t.m - 1] as string} ${t.y}, ${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`;
}

/** The calendar date and wall-clock time in the UK at an instant. */
export function londonDateTime(at: Date): { y: number; m: number; d: number; hour: number; minute: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { y: Number(parts.year), m: Number(parts.month), d: Number(parts.day), hour: Number(parts.hour), minute: Number(parts.minute) };
}

function londonDate(at: Date): { y: number; m: number; d: number } {
  const { y, m, d } = londonDateTime(at);
  return { y, m, d };
}

/** The instant a UK wall-clock time happens (GMT or BST). */
export function londonToUtc(date: { y: number; m: number; d: number }, hour: number, minute: number): Date {
  const wall = Date.UTC(date.y, date.m - 1, date.d, hour, minute);
  let guess = wall;
  for (let i = 0; i < 2; i++) {
    const seen = londonDateTime(new Date(guess));
    const seenWall = Date.UTC(seen.y, seen.m - 1, seen.d, seen.hour, seen.minute);
    guess += wall - seenWall;
  }
  return new Date(guess);
}

function addDays(date: { y: number; m: number; d: number }, days: number): { y: number; m: number; d: number } {
  const next = new Date(Date.UTC(date.y, date.m - 1, date.d + days));
  return { y: next.getUTCFullYear(), m: next.getUTCMonth() + 1, d: next.getUTCDate() };
}
