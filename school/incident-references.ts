/** Incident references look like `ES-2026-0042`: the year, then a per-school sequence of 4 or more digits. */
const pattern = /^ES-(\d{4})-(\d{4,})$/;

export function formatIncidentReference(year: number, sequence: number): string {
  if (!Number.isInteger(sequence) || sequence < 1) throw new RangeError(`An incident sequence must be a positive whole number, not ${sequence}.`);
  return `ES-${year}-${String(sequence).padStart(4, '0')}`;
}

export function parseIncidentReference(reference: string): { year: number; sequence: number } | undefined {
  const match = pattern.exec(reference.trim().toUpperCase());
  return match ? { year: Number(match[1]), sequence: Number(match[2]) } : undefined;
}

/** The counter behind a year's references; each school and year has its own. */
export function incidentCounterName(year: number): string {
  return `incident-reference-${year}`;
}
