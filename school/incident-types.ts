/** The four Cs of online risk (KCSIE), used to group incidents for governors. */
export type FourC = 'content' | 'contact' | 'conduct' | 'commerce';

/** The concern proforma's incident types; the ids are stable because cards and integrations use them. */
export const INCIDENT_TYPES = [
  { id: 'inappropriate-website', label: 'Inappropriate website accessed', fourC: 'content' },
  { id: 'filtering-breach', label: 'Filtering breach (a site that should have been blocked)', fourC: 'content' },
  { id: 'illegal-content', label: 'Illegal content accessed', fourC: 'content' },
  { id: 'inappropriate-behaviour', label: 'Inappropriate behaviour using ICT', fourC: 'conduct' },
  { id: 'inappropriate-communication', label: 'Inappropriate use of email or other technologies', fourC: 'conduct' },
  { id: 'network-misuse', label: 'Deliberate misuse of the school network', fourC: 'conduct' },
  { id: 'cyberbullying', label: 'Cyberbullying', fourC: 'conduct' },
  { id: 'sexual-exploitation', label: 'Sexual exploitation using technology (incl. nude or semi-nude images)', fourC: 'contact' },
  { id: 'safeguarding-contact', label: 'Other safeguarding concern (contact, grooming)', fourC: 'contact' },
  { id: 'misinformation', label: 'Misinformation or disinformation', fourC: 'content' },
  { id: 'data-breach', label: 'Data-protection breach', fourC: 'conduct' },
  { id: 'other', label: 'Other', fourC: 'conduct' },
] as const satisfies readonly { id: string; label: string; fourC: FourC }[];

export type IncidentType = (typeof INCIDENT_TYPES)[number]['id'];

export const INCIDENT_TYPE_IDS: readonly IncidentType[] = INCIDENT_TYPES.map((t) => t.id);

export function isIncidentType(value: string): value is IncidentType {
  return (INCIDENT_TYPE_IDS as readonly string[]).includes(value);
}

export function incidentTypeLabel(type: IncidentType): string {
  return INCIDENT_TYPES.find((t) => t.id === type)!.label;
}

export function fourCOf(type: IncidentType): FourC {
  return INCIDENT_TYPES.find((t) => t.id === type)!.fourC;
}

/** Types that are child protection whatever the reporter's toggle says. */
export const CHILD_PROTECTION_TYPES: ReadonlySet<IncidentType> = new Set<IncidentType>([
  'illegal-content',
  'sexual-exploitation',
  'safeguarding-contact',
]);
