import type { ChronologyEvent, StoredIncident } from '../records/incident-store';
import { incidentTypeLabel } from '../school/incident-types';
import { mayTriageIncident } from '../school/incident-routing';
import { DEFAULT_REPEAT_THRESHOLD, pupilsAtThreshold } from '../school/repeat-incidents';
import { GRAVEST_TYPES, guidanceFor, repeatEscalation, suggestActionsForIncident } from '../school/response-matrix';
import type { Principal } from '../school/roles';
import { formatUkDate, formatUkDateTime } from '../school/uk-dates';
import type { AttachmentSummary, TriageDependencies } from './triage-incidents';

/*
 * The case view: everything a DSL needs to run one incident, read with the incident (usecases/triage-incidents.ts
 * checks who may see it and audits the read). Names, the register, attachments and repeat warnings are
 * enrichment: if one cannot be read, the case still opens without it.
 */

/** The gravest cases and every allegation against staff need a second senior person to close (seeds 001 and 004). */
export function needsSecondSignOff(incident: Pick<StoredIncident, 'type' | 'audience'>): boolean {
  return GRAVEST_TYPES.has(incident.type) || incident.audience === 'staff-concern' || incident.audience === 'headteacher-concern';
}

export interface CasePupil {
  pupilId: string;
  name: string | undefined;
  yearGroup: string | undefined;
  className: string | undefined;
  userPrincipalName: string | undefined;
  onRegister: boolean;
}

export interface CaseChronologyLine extends ChronologyEvent {
  atText: string;
  actorName: string | undefined;
}

export interface RepeatWarning {
  pupilId: string;
  name: string | undefined;
  count: number;
  term: string;
  threshold: number;
  escalation: { id: string; label: string }[];
}

export interface IncidentDetail {
  incident: Omit<StoredIncident, 'submissionId' | 'schoolId'> & {
    typeLabel: string;
    occurredOnText: string;
    createdAtText: string;
    closedAtText: string | undefined;
  };
  reporter: { id: string; name: string | undefined };
  subjectName: string | undefined;
  pupils: CasePupil[];
  chronology: CaseChronologyLine[];
  referrals: (NonNullable<StoredIncident['referrals']>[number] & { onText: string; outcomeAtText: string | undefined })[];
  attachments: AttachmentSummary[];
  suggestedActions: { id: string; label: string }[];
  /** Stop, preserve, isolate, refer: for illegal content and sexual exploitation. */
  guidance: readonly string[];
  secondSignOff: { required: boolean; pending: { byId: string; byName: string | undefined; at: string; atText: string; decision: string } | undefined };
  repeatWarnings: RepeatWarning[];
  etag: string;
  /** Set when the change was saved but something after it (a count, an alert) could not be done at once. */
  warnings?: string[];
}

export async function caseView(deps: TriageDependencies, principal: Principal, incident: StoredIncident, chronology: ChronologyEvent[]): Promise<IncidentDetail> {
  const { submissionId: _s, schoolId: _p, ...visible } = incident;
  const referrals = incident.referrals ?? [];
  const peopleIds = [
    incident.reporterId,
    ...(incident.subjectId ? [incident.subjectId] : []),
    ...chronology.map((e) => e.actorId),
    ...(incident.pendingClose ? [incident.pendingClose.byId] : []),
  ];
  const names = await optional(() => deps.people?.displayNames([...new Set(peopleIds)]) ?? Promise.resolve(new Map<string, string>()), new Map<string, string>());
  const pupils = await Promise.all(
    incident.involved.flatMap((p) => (p.kind === 'pupil' ? [p.pupilId] : [])).map(async (pupilId): Promise<CasePupil> => {
      const record = await optional(() => deps.pupils?.getPupil(deps.schoolId, pupilId) ?? Promise.resolve(undefined), undefined);
      return {
        pupilId,
        name: record ? `${record.forename} ${record.surname}` : undefined,
        yearGroup: record?.yearGroup,
        className: record?.registrationGroup,
        userPrincipalName: record?.userPrincipalName || undefined,
        onRegister: record !== undefined,
      };
    }),
  );
  const attachments = await optional(() => deps.attachments?.listAttachments(deps.schoolId, incident.reference) ?? Promise.resolve([]), []);
  const repeatWarnings = await optional(() => repeatWarningsFor(deps, principal, incident, pupils), []);
  return {
    incident: {
      ...visible,
      typeLabel: incidentTypeLabel(incident.type),
      occurredOnText: formatUkDate(incident.occurredOn),
      createdAtText: formatUkDateTime(incident.createdAt),
      closedAtText: incident.closedAt ? formatUkDateTime(incident.closedAt) : undefined,
    },
    reporter: { id: incident.reporterId, name: names.get(incident.reporterId) },
    subjectName: incident.subjectId ? names.get(incident.subjectId) : undefined,
    pupils,
    chronology: chronology.map((e) => ({ ...e, atText: formatUkDateTime(e.at), actorName: names.get(e.actorId) })),
    referrals: referrals.map((r) => ({ ...r, onText: formatUkDate(r.on), outcomeAtText: r.outcomeAt ? formatUkDateTime(r.outcomeAt) : undefined })),
    attachments,
    suggestedActions: suggestActionsForIncident(deps.matrix, incident),
    guidance: guidanceFor(incident.type),
    secondSignOff: {
      required: needsSecondSignOff(incident),
      pending: incident.pendingClose
        ? { byId: incident.pendingClose.byId, byName: names.get(incident.pendingClose.byId), at: incident.pendingClose.at, atText: formatUkDateTime(incident.pendingClose.at), decision: incident.pendingClose.decision }
        : undefined,
    },
    repeatWarnings,
    etag: incident.etag,
  };
}

/** Repeated incidents in this incident's term for each pupil involved, with the matrix's escalation. */
async function repeatWarningsFor(deps: TriageDependencies, principal: Principal, incident: StoredIncident, pupils: CasePupil[]): Promise<RepeatWarning[]> {
  const ids = pupils.map((p) => p.pupilId);
  if (ids.length === 0) return [];
  const threshold = deps.repeatThreshold ?? DEFAULT_REPEAT_THRESHOLD;
  // Only incidents the viewer may see count, so the figure never reveals an allegation kept from them.
  const all = (await deps.incidents.listIncidents(deps.schoolId)).filter((i) => mayTriageIncident(principal, i));
  return pupilsAtThreshold(all, ids, incident.occurredOn, threshold).map((hit) => ({
    pupilId: hit.pupilId,
    name: pupils.find((p) => p.pupilId === hit.pupilId)?.name,
    count: hit.count,
    term: hit.term.label,
    threshold,
    escalation: repeatEscalation(incident.childProtection),
  }));
}

/** Enrichment (names, register, attachments) never stops a case from opening: it shows without what is missing. */
async function optional<T>(read: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await read();
  } catch {
    return fallback;
  }
}
