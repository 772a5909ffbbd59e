import { createHash } from 'node:crypto';
import { readCsvTable } from './csv-table';

/**
 * Alerts from the filtering or monitoring provider's export (CSV), as the coordinator uploads them each day.
 * A generic column mapping takes the usual names of each field, ignoring case, spaces and underscores.
 */
export const ALERT_COLUMNS = {
  occurredAt: ['occurred_at', 'time', 'timestamp', 'date_time', 'datetime', 'date'],
  user: ['user', 'username', 'upn', 'email', 'user_principal_name', 'login'],
  site: ['url', 'site', 'domain', 'address', 'website'],
  category: ['category', 'rule', 'policy', 'reason'],
  action: ['action', 'result', 'outcome'],
} as const;

/** At most this many alerts in one upload (the roll's limits: 4 MB body; see tab/server/admin-routes.ts). */
export const MAX_ALERT_ROWS = 20_000;

export interface FilteringAlert {
  /** From the alert's content, so uploading the same export twice stores each alert once. */
  id: string;
  occurredAt: string;
  /** The UK day of the alert, YYYY-MM-DD. */
  day: string;
  user: string;
  site: string;
  category: string;
  action: 'blocked' | 'allowed' | 'flagged';
  /** The pupil's register key when the user matched the register. */
  pupilId?: string;
}

const normal = (h: string): string => h.toLowerCase().replace(/[\s_-]/g, '');

function ukDay(iso: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
}

/** Reads the export; every bad row is named by its line (the header is line 1). */
export function parseFilteringAlerts(csv: string): { alerts: Omit<FilteringAlert, 'pupilId'>[]; problems: { row: number; message: string }[] } {
  const table = readCsvTable(csv);
  if ('problem' in table) return { alerts: [], problems: [table.problem] };
  const { header, body } = table;
  if (body.length > MAX_ALERT_ROWS) return { alerts: [], problems: [{ row: 1, message: `the file has ${body.length} alerts; upload at most ${MAX_ALERT_ROWS} at a time` }] };
  const index = Object.fromEntries(
    (Object.keys(ALERT_COLUMNS) as (keyof typeof ALERT_COLUMNS)[]).map((field) => [field, header.findIndex((h) => (ALERT_COLUMNS[field] as readonly string[]).map(normal).includes(normal(h)))]),
  ) as Record<keyof typeof ALERT_COLUMNS, number>;
  const missing = (['occurredAt', 'user', 'site', 'category'] as const).filter((f) => index[f] < 0);
  if (missing.length > 0) return { alerts: [], problems: [{ row: 1, message: `the header row needs columns for ${missing.map((f) => ALERT_COLUMNS[f][0]).join(', ')} (see the README for the names taken)` }] };
  const alerts: Omit<FilteringAlert, 'pupilId'>[] = [];
  const problems: { row: number; message: string }[] = [];
  body.forEach((cells, i) => {
    const row = i + 2;
    const cell = (f: keyof typeof ALERT_COLUMNS): string => (index[f] >= 0 ? (cells[index[f]] ?? '').trim() : '');
    const at = Date.parse(cell('occurredAt'));
    const errors: string[] = [];
    if (Number.isNaN(at)) errors.push('the time is not a date and time');
    if (!cell('user') || cell('user').length > 256) errors.push('the user is missing');
    if (!cell('site') || cell('site').length > 2048) errors.push('the site is missing');
    if (!cell('category') || cell('category').length > 200) errors.push('the category is missing');
    const actionText = cell('action').toLowerCase();
    const action = /block|deny|denied/.test(actionText) ? 'blocked' : /allow|pass/.test(actionText) ? 'allowed' : 'flagged';
    if (errors.length > 0) return void problems.push({ row, message: errors.join('; ') });
    const occurredAt = new Date(at).toISOString();
    const user = cell('user').toLowerCase();
    const id = createHash('sha256').update(JSON.stringify([occurredAt, user, cell('site'), cell('category')]), 'utf8').digest('hex').slice(0, 24);
    alerts.push({ id, occurredAt, day: ukDay(occurredAt), user, site: cell('site'), category: cell('category'), action });
  });
  return { alerts, problems };
}

/** How one alert was triaged: no action (with a reason), or an incident opened from it. */
export interface AlertTriage {
  alertId: string;
  outcome: 'no-action' | 'incident';
  reason: string;
  by: string;
  at: string;
  /** The incident opened from the alert (outcome "incident"), e.g. ES-2026-0042. */
  incidentReference?: string;
}

/** The coordinator's daily digest: counts only, never a user, a site or a pupil. */
export interface AlertDigest {
  day: string;
  total: number;
  blocked: number;
  flagged: number;
  allowed: number;
  untriaged: number;
  byCategory: { category: string; count: number }[];
}

export function digestOf(day: string, alerts: readonly FilteringAlert[], triaged: ReadonlySet<string>): AlertDigest {
  const ofDay = alerts.filter((a) => a.day === day);
  const categories = new Map<string, number>();
  for (const a of ofDay) categories.set(a.category, (categories.get(a.category) ?? 0) + 1);
  return {
    day,
    total: ofDay.length,
    blocked: ofDay.filter((a) => a.action === 'blocked').length,
    flagged: ofDay.filter((a) => a.action === 'flagged').length,
    allowed: ofDay.filter((a) => a.action === 'allowed').length,
    untriaged: alerts.filter((a) => !triaged.has(a.id)).length,
    byCategory: [...categories].map(([category, count]) => ({ category, count })).sort((a, b) => b.count - a.count || a.category.localeCompare(b.category)),
  };
}

/** The digest as the bot's message to the coordinator. */
export function digestText(d: AlertDigest, ukDate: string): string {
  if (d.total === 0 && d.untriaged === 0) return `Filtering and monitoring, ${ukDate}: no alerts.`;
  const categories = d.byCategory.slice(0, 8).map((c) => `${c.category} ${c.count}`).join(', ');
  return `Filtering and monitoring, ${ukDate}: ${d.total} alerts (${d.blocked} blocked, ${d.flagged} flagged, ${d.allowed} allowed)${categories ? `; by category: ${categories}` : ''}. ${d.untriaged} still to triage in the Filtering tab.`;
}
