import type { IncidentStatus, IncidentStore } from '../records/incident-store';
import type { PupilRecord } from '../records/pupil-register-store';
import { mayTriageIncident } from '../school/incident-routing';
import { incidentTypeLabel, type IncidentType } from '../school/incident-types';
import { DEFAULT_REPEAT_THRESHOLD, pupilsAtThreshold, termOf } from '../school/repeat-incidents';
import { repeatEscalation } from '../school/response-matrix';
import { hasAnyRole, type Principal } from '../school/roles';
import { formatUkDate, londonDate } from '../school/uk-dates';
import { audit, type TriageDependencies, type TriageOutcome } from './triage-incidents';

export interface PupilHistoryDependencies extends TriageDependencies {
  incidents: TriageDependencies['incidents'] & Pick<IncidentStore, 'listSanctions'>;
  register: { findPupilByUserPrincipalName(schoolId: string, upn: string): Promise<PupilRecord | undefined> };
}

export interface PupilHistory {
  pupil: { pupilId: string; name: string; yearGroup: string | undefined; className: string | undefined; userPrincipalName: string };
  incidents: {
    reference: string;
    type: IncidentType;
    typeLabel: string;
    occurredOn: string;
    occurredOnText: string;
    status: IncidentStatus;
    outcome: string | undefined;
  }[];
  sanctions: { reference: string; kind: string; until: string; untilText: string; state: string }[];
  /** This term's count against the school's threshold, with the matrix's escalation when it is reached. */
  thisTerm: { term: string; count: number; threshold: number; reached: boolean; escalation: { id: string; label: string }[] };
}

/**
 * One pupil's incidents across the years (DSL and head only, audited), newest first, with how each ended and
 * any sanctions. Incidents the caller may not see (an allegation about them) are left out.
 */
export async function getPupilHistory(deps: PupilHistoryDependencies, principal: Principal, upn: string): Promise<TriageOutcome<PupilHistory>> {
  const target = `pupil:${upn.slice(0, 256)}`;
  if (!hasAnyRole(principal, 'dsl', 'headteacher')) {
    await audit(deps, principal, 'pupil.history', target, 'denied');
    return { kind: 'forbidden' };
  }
  const pupil = await deps.register.findPupilByUserPrincipalName(deps.schoolId, upn.toLowerCase());
  if (!pupil) {
    await audit(deps, principal, 'pupil.history', target, 'denied', { reason: 'not-found' });
    return { kind: 'not-found' };
  }
  const involving = (await deps.incidents.listIncidents(deps.schoolId)).filter((i) => i.involved.some((p) => p.kind === 'pupil' && p.pupilId === pupil.externalId));
  const visible = involving.filter((i) => mayTriageIncident(principal, i)).sort((a, b) => b.occurredOn.localeCompare(a.occurredOn) || b.createdAt.localeCompare(a.createdAt));
  const incidents = await Promise.all(
    visible.map(async (i) => {
      const closed = i.status === 'closed' ? (await deps.incidents.listChronology(deps.schoolId, i.reference)).filter((e) => e.kind === 'closed').pop() : undefined;
      return { reference: i.reference, type: i.type, typeLabel: incidentTypeLabel(i.type), occurredOn: i.occurredOn, occurredOnText: formatUkDate(i.occurredOn), status: i.status, outcome: closed?.what };
    }),
  );
  const seen = new Set(visible.map((i) => i.reference));
  const sanctions = (await deps.incidents.listSanctions(deps.schoolId, { pupilId: pupil.externalId }))
    .filter((s) => seen.has(s.reference))
    .map((s) => ({ reference: s.reference, kind: s.kind, until: s.until, untilText: formatUkDate(s.until), state: s.state }));
  const today = londonDate(deps.clock());
  const threshold = deps.repeatThreshold ?? DEFAULT_REPEAT_THRESHOLD;
  const term = termOf(today);
  // Counted from what the caller may see only, so no figure reveals an allegation kept from them.
  const count = visible.filter((i) => i.occurredOn >= term.from && i.occurredOn <= term.to).length;
  const reached = pupilsAtThreshold(visible, [pupil.externalId], today, threshold).length > 0;
  await audit(deps, principal, 'pupil.history', target, 'succeeded', { count: incidents.length });
  return {
    kind: 'ok',
    value: {
      pupil: { pupilId: pupil.externalId, name: `${pupil.forename} ${pupil.surname}`, yearGroup: pupil.yearGroup, className: pupil.registrationGroup, userPrincipalName: pupil.userPrincipalName },
      incidents,
      sanctions,
      thisTerm: { term: term.label, count, threshold, reached, escalation: reached ? repeatEscalation(visible.some((i) => i.childProtection && i.occurredOn >= term.from)) : [] },
    },
  };
}
