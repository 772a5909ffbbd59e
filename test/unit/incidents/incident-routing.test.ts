import { CHILD_PROTECTION_TYPES, INCIDENT_TYPE_IDS, type IncidentType } from '../../../school/incident-types';
import {
  alertRecipients,
  audienceChange,
  audienceOf,
  dslExcluded,
  mayTriageIncident,
  maySignOff,
  isChildProtection,
  matrixSubjectOf,
  mayViewIncident,
  rolesThatMayView,
  rolesToAlert,
  type IncidentAudience,
  type InvolvedParty,
  type RoutingInput,
} from '../../../school/incident-routing';
import { ROLES, type Principal, type Role } from '../../../school/roles';

const pupil: InvolvedParty = { kind: 'pupil', pupilId: 'p-001' };
const unlisted: InvolvedParty = { kind: 'pupil-unlisted' };
const staff: InvolvedParty = { kind: 'staff' };
const headteacher: InvolvedParty = { kind: 'headteacher' };
const visitor: InvolvedParty = { kind: 'visitor' };
const unknown: InvolvedParty = { kind: 'unknown' };

const childProtectionTypes: IncidentType[] = ['illegal-content', 'sexual-exploitation', 'safeguarding-contact'];
const standardTypes = INCIDENT_TYPE_IDS.filter((type) => !childProtectionTypes.includes(type));
const AUDIENCES: IncidentAudience[] = ['standard', 'child-protection', 'staff-concern', 'headteacher-concern'];

function input(type: IncidentType, involved: InvolvedParty[], childProtection = false): RoutingInput {
  return { type, involved, childProtection };
}

function principal(id: string, ...roles: Role[]): Principal {
  return { aadObjectId: id, roles: new Set(roles) };
}

describe('isChildProtection', () => {
  it('treats exactly illegal content, sexual exploitation and other safeguarding (contact, grooming) as child protection by type', () => {
    expect([...CHILD_PROTECTION_TYPES].sort()).toEqual([...childProtectionTypes].sort());
  });

  it.each(childProtectionTypes)('when the type is %s, is child protection even with the toggle off', (type) => {
    expect(isChildProtection({ type, childProtection: false })).toBe(true);
  });

  it.each(standardTypes)('when the type is %s, is child protection only if the reporter says so', (type) => {
    expect(isChildProtection({ type, childProtection: false })).toBe(false);
    expect(isChildProtection({ type, childProtection: true })).toBe(true);
  });
});

describe('audienceOf and rolesToAlert', () => {
  const cases: Array<[string, RoutingInput, IncidentAudience, Role[]]> = [
    ...standardTypes.map((type): [string, RoutingInput, IncidentAudience, Role[]] => [`${type} about a pupil`, input(type, [pupil]), 'standard', ['coordinator']]),
    ...standardTypes.map((type): [string, RoutingInput, IncidentAudience, Role[]] => [
      `${type} about a pupil, with the child-protection toggle on`,
      input(type, [pupil], true),
      'child-protection',
      ['coordinator', 'dsl'],
    ]),
    ...childProtectionTypes.map((type): [string, RoutingInput, IncidentAudience, Role[]] => [
      `${type} about a pupil, toggle off`,
      input(type, [pupil]),
      'child-protection',
      ['coordinator', 'dsl'],
    ]),
    ['cyberbullying by an unlisted pupil and a visitor', input('cyberbullying', [unlisted, visitor]), 'standard', ['coordinator']],
    ['a filtering breach by someone unknown', input('filtering-breach', [unknown]), 'standard', ['coordinator']],
    ['grooming by someone unknown', input('safeguarding-contact', [unknown]), 'child-protection', ['coordinator', 'dsl']],
    ['a staff member sending inappropriate messages', input('inappropriate-communication', [staff]), 'staff-concern', ['headteacher', 'dsl']],
    ['a staff member and a pupil', input('cyberbullying', [pupil, staff]), 'staff-concern', ['headteacher', 'dsl']],
    ['a staff member accessing illegal content', input('illegal-content', [staff]), 'staff-concern', ['headteacher', 'dsl']],
    ['a staff member, toggle on', input('other', [staff], true), 'staff-concern', ['headteacher', 'dsl']],
    ['the headteacher', input('inappropriate-behaviour', [headteacher]), 'headteacher-concern', ['chair']],
    ['the headteacher accessing illegal content', input('illegal-content', [headteacher]), 'headteacher-concern', ['chair']],
    ['the headteacher, toggle on', input('other', [headteacher], true), 'headteacher-concern', ['chair']],
    ['the headteacher and a member of staff', input('sexual-exploitation', [staff, headteacher, pupil]), 'headteacher-concern', ['chair']],
  ];

  it.each(cases)('when the concern is %s, the audience is %s and %j are alerted', (_label, routing, audience, alerted) => {
    expect(audienceOf(routing)).toBe(audience);
    expect([...rolesToAlert(routing)].sort()).toEqual([...alerted].sort());
  });

  it.each(INCIDENT_TYPE_IDS)('when a %s concern does not involve staff or the head, the coordinator is always alerted', (type) => {
    for (const childProtection of [false, true]) {
      expect(rolesToAlert(input(type, [pupil], childProtection))).toContain('coordinator');
    }
  });

  it.each(INCIDENT_TYPE_IDS)('when a %s concern is about the headteacher, only the chair is alerted, never the head', (type) => {
    for (const childProtection of [false, true]) {
      expect(rolesToAlert(input(type, [headteacher, pupil], childProtection))).toEqual(['chair']);
    }
  });

  it.each(INCIDENT_TYPE_IDS)('when a %s concern is about a member of staff, the coordinator is not alerted', (type) => {
    for (const childProtection of [false, true]) {
      expect(rolesToAlert(input(type, [staff], childProtection))).not.toContain('coordinator');
    }
  });

  it('never alerts governors, admins, staff or pupils', () => {
    for (const type of INCIDENT_TYPE_IDS) {
      for (const involved of [[pupil], [staff], [headteacher], [unknown]]) {
        for (const childProtection of [false, true]) {
          const roles = rolesToAlert(input(type, involved, childProtection));
          for (const role of ['governor', 'admin', 'staff', 'pupil'] as Role[]) expect(roles).not.toContain(role);
        }
      }
    }
  });
});

describe('rolesThatMayView', () => {
  const cases: Array<[IncidentAudience, Role[]]> = [
    ['standard', ['coordinator', 'dsl', 'headteacher']],
    ['child-protection', ['dsl', 'headteacher']],
    ['staff-concern', ['headteacher', 'dsl']],
    ['headteacher-concern', ['chair']],
  ];
  it.each(cases)('when the audience is %s, only %j may view', (audience, roles) => {
    expect([...rolesThatMayView(audience)].sort()).toEqual([...roles].sort());
  });

  it.each(['standard', 'staff-concern', 'headteacher-concern'] as IncidentAudience[])('when the audience is %s, everyone alerted about it may also open it', (audience) => {
    const example: Record<string, RoutingInput> = {
      standard: input('other', [pupil]),
      'staff-concern': input('other', [staff]),
      'headteacher-concern': input('other', [headteacher]),
    };
    expect(audienceOf(example[audience]!)).toBe(audience);
    for (const role of rolesToAlert(example[audience]!)) expect(rolesThatMayView(audience)).toContain(role);
  });

  it('when a child-protection concern is recorded, the coordinator is alerted (reference and category only) but may not open it', () => {
    const routing = input('sexual-exploitation', [pupil]);
    expect(rolesToAlert(routing)).toContain('coordinator');
    expect(rolesThatMayView(audienceOf(routing))).not.toContain('coordinator');
  });
});

describe('mayViewIncident', () => {
  const reporterId = 'reporter-1';
  // Role x audience, from product.md "People and roles" and the routing rules.
  const may: Record<Role, Record<IncidentAudience, boolean>> = {
    staff: { standard: false, 'child-protection': false, 'staff-concern': false, 'headteacher-concern': false },
    coordinator: { standard: true, 'child-protection': false, 'staff-concern': false, 'headteacher-concern': false },
    dsl: { standard: true, 'child-protection': true, 'staff-concern': true, 'headteacher-concern': false },
    headteacher: { standard: true, 'child-protection': true, 'staff-concern': true, 'headteacher-concern': false },
    chair: { standard: false, 'child-protection': false, 'staff-concern': false, 'headteacher-concern': true },
    governor: { standard: false, 'child-protection': false, 'staff-concern': false, 'headteacher-concern': false },
    admin: { standard: false, 'child-protection': false, 'staff-concern': false, 'headteacher-concern': false },
    pupil: { standard: false, 'child-protection': false, 'staff-concern': false, 'headteacher-concern': false },
  };
  const expectations: Array<[Role, IncidentAudience, boolean]> = ROLES.flatMap((role) =>
    AUDIENCES.map((audience): [Role, IncidentAudience, boolean] => [role, audience, may[role][audience]]),
  );
  it.each(expectations)('when someone holding only %s opens a %s incident they did not report, may view is %s', (role, audience, allowed) => {
    expect(mayViewIncident(principal('someone-else', role), { audience, reporterId })).toBe(allowed);
  });

  it.each(AUDIENCES)('when the reporter opens their own %s incident, may view it whatever their roles', (audience) => {
    expect(mayViewIncident(principal(reporterId, 'staff'), { audience, reporterId })).toBe(true);
    expect(mayViewIncident(principal(reporterId), { audience, reporterId })).toBe(true);
  });

  it.each(AUDIENCES)('when a governor or admin opens a %s incident, may never view it, even holding both roles', (audience) => {
    expect(mayViewIncident(principal('gov-admin', 'governor', 'admin', 'staff'), { audience, reporterId })).toBe(false);
  });

  it('when someone holds several roles, any one that may view is enough', () => {
    expect(mayViewIncident(principal('x', 'staff', 'governor', 'dsl'), { audience: 'child-protection', reporterId })).toBe(true);
  });
});

describe('matrixSubjectOf', () => {
  const cases: Array<[string, InvolvedParty[], 'pupil' | 'staff']> = [
    ['a listed pupil', [pupil], 'pupil'],
    ['an unlisted pupil', [unlisted], 'pupil'],
    ['a visitor', [visitor], 'pupil'],
    ['someone unknown', [unknown], 'pupil'],
    ['nobody', [], 'pupil'],
    ['a member of staff', [staff], 'staff'],
    ['the headteacher', [headteacher], 'staff'],
    ['a pupil and a member of staff', [pupil, staff], 'staff'],
    ['a visitor and the headteacher', [visitor, headteacher], 'staff'],
  ];
  it.each(cases)('when the concern involves %s, uses the %s matrix', (_label, involved, subject) => {
    expect(matrixSubjectOf({ involved })).toBe(subject);
  });
});

describe('allegations with a named subject', () => {
  const DSL = principal('dsl-1', 'staff', 'dsl');
  const HEAD = principal('head-1', 'staff', 'headteacher');
  const COORDINATOR = principal('coord-1', 'staff', 'coordinator');
  const CHAIR = principal('chair-1', 'chair', 'governor');
  const TEACHER = principal('teacher-1', 'staff');
  const members: Record<Role, string[]> = {
    staff: ['dsl-1', 'head-1', 'coord-1', 'teacher-1', 'reporter-1'],
    coordinator: ['coord-1'],
    dsl: ['dsl-1'],
    headteacher: ['head-1'],
    chair: ['chair-1'],
    governor: ['chair-1'],
    admin: [],
    pupil: [],
  };
  const everyone = [DSL, HEAD, COORDINATOR, CHAIR, TEACHER];

  /** Every role a member of staff may hold, as the subject of a concern "about a member of staff". */
  const cases: Array<[string, Principal, IncidentAudience, string[]]> = [
    ['a teacher', TEACHER, 'staff-concern', ['head-1', 'dsl-1']],
    ['the coordinator', COORDINATOR, 'staff-concern', ['head-1', 'dsl-1']],
    ['the DSL', DSL, 'staff-concern', ['head-1']],
    ['the headteacher (named as staff)', HEAD, 'headteacher-concern', ['chair-1']],
    ['the chair', CHAIR, 'staff-concern', ['head-1', 'dsl-1']],
  ];

  it.each(cases)('about %s: routed to the right people, never the subject, who gets no access whatever their role', (_label, subject, audience, alerted) => {
    const routing: RoutingInput = { type: 'inappropriate-communication', childProtection: false, involved: [staff], subject: { roles: subject.roles } };
    expect(audienceOf(routing)).toBe(audience);
    const facts = { audience, reporterId: 'reporter-1', subjectId: subject.aadObjectId, dslExcluded: dslExcluded(routing) };
    const recipients = alertRecipients(rolesToAlert(routing), (role) => members[role], { reporterId: 'reporter-1', subjectId: subject.aadObjectId });
    expect(recipients.map((r) => r.recipientId).sort()).toEqual([...alerted].sort());
    expect(recipients.map((r) => r.recipientId)).not.toContain(subject.aadObjectId);
    expect(mayViewIncident(subject, facts)).toBe(false);
    expect(mayTriageIncident(subject, facts)).toBe(false);
    expect(maySignOff(subject, facts)).toBe(false);
    for (const person of everyone.filter((p) => p !== subject)) {
      expect(mayTriageIncident(person, facts)).toBe(alerted.includes(person.aadObjectId));
    }
  });

  it('keeps the subject out even when they reported it themselves', () => {
    expect(mayViewIncident(TEACHER, { audience: 'staff-concern', reporterId: 'teacher-1', subjectId: 'teacher-1' })).toBe(false);
  });

  it('routes a concern about a member of staff who cannot be resolved as if it were about the DSL: the head only', () => {
    const routing: RoutingInput = { type: 'other', childProtection: false, involved: [staff], subject: 'unresolved' };
    expect(audienceOf(routing)).toBe('staff-concern');
    expect(rolesToAlert(routing)).toEqual(['headteacher']);
    expect(mayTriageIncident(DSL, { audience: 'staff-concern', reporterId: 'reporter-1', dslExcluded: dslExcluded(routing) })).toBe(false);
    expect(mayTriageIncident(HEAD, { audience: 'staff-concern', reporterId: 'reporter-1', dslExcluded: dslExcluded(routing) })).toBe(true);
  });

  it('routes a concern about the headteacher to the chair only, whoever is named', () => {
    const routing: RoutingInput = { type: 'other', childProtection: false, involved: [headteacher], subject: 'unresolved' };
    expect(audienceOf(routing)).toBe('headteacher-concern');
    expect(rolesToAlert(routing)).toEqual(['chair']);
  });

  it('gives a person access by referral, but never the subject', () => {
    const facts = { audience: 'headteacher-concern' as const, reporterId: 'reporter-1', subjectId: 'head-1', grantedViewerIds: ['dsl-1', 'head-1'] };
    expect(mayTriageIncident(DSL, facts)).toBe(true);
    expect(mayTriageIncident(HEAD, facts)).toBe(false);
    expect(maySignOff(DSL, facts)).toBe(true);
    expect(maySignOff(CHAIR, facts)).toBe(true);
    expect(maySignOff(COORDINATOR, { audience: 'standard', reporterId: 'x' })).toBe(false);
  });
});

describe('audienceChange (reclassification)', () => {
  it.each<[IncidentAudience, IncidentAudience, Role[], Role[]]>([
    ['standard', 'child-protection', ['coordinator'], []],
    ['child-protection', 'standard', [], ['coordinator']],
    ['standard', 'standard', [], []],
    ['child-protection', 'child-protection', [], []],
    ['staff-concern', 'headteacher-concern', ['headteacher', 'dsl'], ['chair']],
  ])('from %s to %s: %j lose access, %j gain it', (before, after, losing, gaining) => {
    expect(audienceChange({ audience: before }, { audience: after })).toEqual({ losing, gaining });
  });

  it('never gives the DSL an allegation the DSL is kept out of', () => {
    expect(audienceChange({ audience: 'standard' }, { audience: 'staff-concern', dslExcluded: true })).toEqual({ losing: ['coordinator', 'dsl'], gaining: [] });
  });
});
