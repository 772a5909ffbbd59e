import { randomUUID } from 'node:crypto';
import type { IncidentRecord } from '../../records/incident-store';

let sequence = 0;

/** A plausible stored incident with a fresh reference and submission id; tests override what they look at. */
export function incidentRecord(schoolId: string, createdAt: string, overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  sequence++;
  return {
    schoolId,
    reference: `ES-2026-${String(sequence).padStart(4, '0')}`,
    type: 'cyberbullying',
    fourC: 'conduct',
    audience: 'standard',
    childProtection: false,
    subject: 'pupil',
    occurredOn: '2026-03-01',
    occurredAt: undefined,
    involved: [{ kind: 'pupil', pupilId: 'pupil-a' }],
    yearGroups: ['4'],
    location: 'ICT suite',
    description: 'Unkind messages were posted in the class team.',
    actionTaken: '',
    status: 'open',
    reporterId: 'reporter-1',
    submissionId: randomUUID(),
    createdAt,
    updatedAt: createdAt,
    eventCount: 1,
    ...overrides,
  };
}
