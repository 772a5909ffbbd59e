import { INCIDENT_TYPE_IDS, isIncidentType, type IncidentType } from './incident-types';

/** Whose conduct the concern is about; the school keeps one matrix for pupils and one for staff. */
export type MatrixSubject = 'pupil' | 'staff';

/** Actions a matrix may suggest. Ids are stable; labels are what staff read. */
export const RESPONSE_ACTIONS = {
  'refer-class-teacher': 'Refer to the class teacher',
  'refer-phase-leader': 'Refer to the phase leader',
  'refer-line-manager': 'Refer to the line manager',
  'refer-coordinator': 'Refer to the e-safety coordinator',
  'refer-dsl': 'Refer to the Designated Safeguarding Lead',
  'refer-headteacher': 'Refer to the headteacher',
  'refer-local-authority-hr': 'Refer to the local authority or HR',
  'refer-lado': 'Refer to the LADO',
  'refer-police': 'Refer to the police (or CEOP / IWF)',
  'refer-technical-support': 'Refer to technical support for action on filtering or security',
  'refer-data-protection-officer': 'Refer to the data protection officer',
  'inform-parents': 'Inform parents or carers',
  'remove-network-access': 'Remove network or internet access rights',
  'warning': 'Give a warning',
  'further-sanction': 'Further sanction (in line with the behaviour policy)',
  'suspension': 'Suspension',
  'disciplinary-action': 'Disciplinary action',
  'preserve-evidence': 'Preserve the evidence (URL, screenshot where lawful, device)',
} as const;

export type ResponseActionId = keyof typeof RESPONSE_ACTIONS;

/** A school's response matrix: for each subject, the actions suggested for each incident type. */
export type ResponseMatrix = Record<MatrixSubject, Record<IncidentType, ResponseActionId[]>>;

/**
 * Defaults taken from the pupil and staff sanction matrices in the seed policies, mapped onto the
 * proforma's incident types. Types the seed matrices do not cover (exploitation, grooming,
 * misinformation) follow the seeds' safeguarding and escalation sections.
 */
export const DEFAULT_RESPONSE_MATRIX: ResponseMatrix = {
  pupil: {
    'inappropriate-website': ['refer-class-teacher', 'refer-headteacher', 'refer-technical-support', 'inform-parents', 'warning'],
    'filtering-breach': ['refer-headteacher', 'refer-technical-support', 'inform-parents', 'remove-network-access'],
    'illegal-content': ['preserve-evidence', 'refer-dsl', 'refer-headteacher', 'refer-police', 'refer-technical-support', 'inform-parents'],
    'inappropriate-behaviour': ['refer-class-teacher', 'refer-headteacher', 'inform-parents', 'warning'],
    'inappropriate-communication': ['refer-headteacher', 'refer-technical-support', 'inform-parents', 'warning'],
    'network-misuse': ['refer-class-teacher', 'refer-headteacher', 'refer-technical-support', 'remove-network-access', 'warning'],
    'cyberbullying': ['refer-phase-leader', 'refer-headteacher', 'refer-technical-support', 'inform-parents', 'warning', 'further-sanction'],
    'sexual-exploitation': ['preserve-evidence', 'refer-dsl', 'refer-headteacher', 'refer-police', 'inform-parents'],
    'safeguarding-contact': ['preserve-evidence', 'refer-dsl', 'refer-police', 'inform-parents'],
    'misinformation': ['refer-class-teacher', 'refer-coordinator', 'inform-parents'],
    'data-breach': ['refer-headteacher', 'refer-data-protection-officer', 'inform-parents', 'warning'],
    'other': ['refer-class-teacher', 'refer-coordinator'],
  },
  staff: {
    'inappropriate-website': ['refer-headteacher', 'refer-technical-support'],
    'filtering-breach': ['refer-headteacher', 'refer-technical-support', 'warning'],
    'illegal-content': ['preserve-evidence', 'refer-headteacher', 'refer-lado', 'refer-local-authority-hr', 'refer-police'],
    'inappropriate-behaviour': ['refer-line-manager', 'refer-headteacher'],
    'inappropriate-communication': ['refer-headteacher', 'refer-lado', 'refer-local-authority-hr', 'warning'],
    'network-misuse': ['refer-headteacher', 'refer-technical-support', 'warning'],
    'cyberbullying': ['refer-line-manager', 'refer-headteacher'],
    'sexual-exploitation': ['preserve-evidence', 'refer-headteacher', 'refer-lado', 'refer-police', 'suspension'],
    'safeguarding-contact': ['preserve-evidence', 'refer-headteacher', 'refer-lado', 'refer-local-authority-hr'],
    'misinformation': ['refer-line-manager', 'refer-headteacher'],
    'data-breach': ['refer-headteacher', 'refer-data-protection-officer', 'refer-local-authority-hr', 'warning'],
    'other': ['refer-line-manager', 'refer-headteacher'],
  },
};

/** Actions the school's matrix suggests for one incident type and subject, in the matrix's order. */
export function suggestActions(matrix: ResponseMatrix, type: IncidentType, subject: MatrixSubject): { id: ResponseActionId; label: string }[] {
  return matrix[subject][type].map((id) => ({ id, label: RESPONSE_ACTIONS[id] }));
}

/**
 * Checks a school's matrix (parsed JSON) and returns it typed, or every problem found.
 * Types or subjects the school leaves out keep the defaults, so a school edits only what differs.
 */
export function parseResponseMatrix(input: unknown): { ok: true; matrix: ResponseMatrix } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problems: ['The response matrix must be a JSON object with "pupil" and/or "staff" keys.'] };
  }
  const matrix: ResponseMatrix = {
    pupil: { ...DEFAULT_RESPONSE_MATRIX.pupil },
    staff: { ...DEFAULT_RESPONSE_MATRIX.staff },
  };
  for (const [subject, rows] of Object.entries(input)) {
    if (subject !== 'pupil' && subject !== 'staff') {
      problems.push(`"${subject}" is not a matrix subject; use "pupil" or "staff".`);
      continue;
    }
    if (typeof rows !== 'object' || rows === null || Array.isArray(rows)) {
      problems.push(`"${subject}" must map incident types to lists of actions.`);
      continue;
    }
    for (const [type, actions] of Object.entries(rows)) {
      if (!isIncidentType(type)) {
        problems.push(`${subject}: "${type}" is not an incident type; use one of ${INCIDENT_TYPE_IDS.join(', ')}.`);
        continue;
      }
      if (!Array.isArray(actions) || actions.some((a) => typeof a !== 'string' || !Object.hasOwn(RESPONSE_ACTIONS, a))) {
        problems.push(`${subject}.${type} must be a list of actions from: ${Object.keys(RESPONSE_ACTIONS).join(', ')}.`);
        continue;
      }
      matrix[subject][type] = actions as ResponseActionId[];
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, matrix };
}


/** Actions that are sanctions: never suggested for a child-protection concern, where the child is the one to protect. */
export const SANCTION_ACTIONS: ReadonlySet<ResponseActionId> = new Set<ResponseActionId>(['warning', 'further-sanction', 'suspension', 'disciplinary-action', 'remove-network-access']);

/**
 * What an incident's matrix row suggests, adjusted for who it is about:
 * - a child-protection concern about a pupil never suggests a sanction;
 * - a concern about the headteacher suggests the LADO first, at once (seed 003: the chair and the LADO).
 */
export function suggestActionsForIncident(
  matrix: ResponseMatrix,
  incident: { type: IncidentType; subject: MatrixSubject; childProtection: boolean; audience: string },
): { id: ResponseActionId; label: string }[] {
  let ids = [...matrix[incident.subject][incident.type]];
  if (incident.childProtection && incident.subject === 'pupil') ids = ids.filter((id) => !SANCTION_ACTIONS.has(id));
  if (incident.audience === 'headteacher-concern' || incident.audience === 'staff-concern') ids = ['refer-lado', ...ids.filter((id) => id !== 'refer-lado')];
  return ids.map((id) => ({ id, label: RESPONSE_ACTIONS[id] }));
}

/**
 * The seed matrices' row "continued infringements, following previous warnings or sanctions": what to
 * suggest when a pupil reaches the school's threshold of incidents in a term. Sanctions are dropped for a
 * child-protection concern.
 */
export function repeatEscalation(childProtection: boolean): { id: ResponseActionId; label: string }[] {
  const ids: ResponseActionId[] = ['refer-headteacher', 'inform-parents', 'remove-network-access', 'further-sanction'];
  return ids.filter((id) => !(childProtection && SANCTION_ACTIONS.has(id))).map((id) => ({ id, label: RESPONSE_ACTIONS[id] }));
}

/** The two types where the material itself may be illegal: stop, preserve, isolate and refer; no attachments; second sign-off to close. */
export const GRAVEST_TYPES: ReadonlySet<IncidentType> = new Set<IncidentType>(['illegal-content', 'sexual-exploitation']);

/**
 * First steps for illegal content and for nude or semi-nude images (the seeds' flow chart, and the UKCIS
 * advice the seeds follow): never view, copy or send the image on, and leave the evidence for the police.
 */
export const GRAVEST_CASE_GUIDANCE: readonly string[] = [
  'Stop: switch off or cover the monitor; do not copy, forward or screenshot the image, and do not investigate further.',
  'Preserve: leave the device and the material as they are and note the time and any web address; delete nothing.',
  'Isolate: keep the device away from everyone else (do not log out), and keep it safe until the DSL or the police take it.',
  'Refer: tell the DSL now; the DSL refers to the police, CEOP or the IWF. Do not attach the material to this record.',
];

/** Guidance for a type: the gravest cases' steps, or none. */
export function guidanceFor(type: IncidentType): readonly string[] {
  return GRAVEST_TYPES.has(type) ? GRAVEST_CASE_GUIDANCE : [];
}

/** The same steps under their first name; the report card shows them for both gravest types. */
export const ILLEGAL_CONTENT_GUIDANCE: readonly string[] = GRAVEST_CASE_GUIDANCE;
