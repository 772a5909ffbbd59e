import { digestOf, digestText, MAX_ALERT_ROWS, parseFilteringAlerts } from '../../../school/filtering-alerts';
import { alertSubmissionId, prefillFromAlert } from '../../../usecases/filtering-alerts';

const CSV = [
  'Timestamp,User Principal Name,URL,Category,Action',
  '2026-11-22T10:15:00Z,2021AlexS@school.example,games.example/play,Games,Blocked',
  '2026-11-22T23:30:00Z,2021alexs@school.example,chat.example,Social networking,Allowed',
  'yesterday,someone,,Adult,Blocked',
].join('\n');

describe('filtering alerts from the provider’s export', () => {
  it('maps the generic column names, reads the action, dates alerts by the UK day, and names each bad row', () => {
    const { alerts, problems } = parseFilteringAlerts(CSV);
    expect(alerts).toHaveLength(2);
    expect(alerts[0]).toMatchObject({ user: '2021alexs@school.example', site: 'games.example/play', category: 'Games', action: 'blocked', day: '2026-11-22' });
    // 23:30 UTC in November is 23:30 in London; in summer it would be the next day.
    expect(alerts[1]).toMatchObject({ action: 'allowed', day: '2026-11-22' });
    expect(parseFilteringAlerts(CSV.replace('2026-11-22T23:30:00Z', '2026-07-22T23:30:00Z')).alerts[1]!.day).toBe('2026-07-23');
    expect(problems).toEqual([{ row: 4, message: expect.stringContaining('not a date') }]);
    expect(problems[0]!.message).toContain('site is missing');
  });

  it('gives the same alert the same id, so a re-uploaded export stores nothing new', () => {
    expect(parseFilteringAlerts(CSV).alerts.map((a) => a.id)).toEqual(parseFilteringAlerts(CSV).alerts.map((a) => a.id));
  });

  it('names the columns it needs, and refuses an oversized export', () => {
    expect(parseFilteringAlerts('when,who\n1,2').problems[0]!.message).toMatch(/occurred_at, user, url, category/);
    const big = ['time,user,url,category', ...Array.from({ length: MAX_ALERT_ROWS + 1 }, () => '2026-11-22T10:00:00Z,a,b.example,c')].join('\n');
    expect(parseFilteringAlerts(big).problems[0]!.message).toContain(`at most ${MAX_ALERT_ROWS}`);
  });

  it('digests counts only: never a user, a site or a pupil', () => {
    const { alerts } = parseFilteringAlerts(CSV);
    const digest = digestOf('2026-11-22', alerts, new Set([alerts[0]!.id]));
    expect(digest).toEqual({ day: '2026-11-22', total: 2, blocked: 1, flagged: 0, allowed: 1, untriaged: 1, byCategory: [{ category: 'Games', count: 1 }, { category: 'Social networking', count: 1 }] });
    const text = digestText(digest, '22 November 2026');
    expect(text).toBe('Filtering and monitoring, 22 November 2026: 2 alerts (1 blocked, 0 flagged, 1 allowed); by category: Games 1, Social networking 1. 1 still to triage in the Filtering tab.');
    expect(text).not.toMatch(/alexs|example/);
  });
});

describe('the incident prefilled from an alert', () => {
  const alert = { id: 'a1b2c3d4e5f6a1b2c3d4e5f6', occurredAt: '2026-06-10T23:30:00Z', day: '2026-06-11', user: '2021alexs@school.example', site: 'chat.example', category: 'Social networking', action: 'allowed' as const, pupilId: 'P301' };

  it('gives the UK time (BST here), the matched pupil, the source alert, and no username', () => {
    const prefill = prefillFromAlert(alert);
    expect(prefill).toMatchObject({ type: 'filtering-breach', occurredOn: '2026-06-11', occurredAt: '00:30', involved: [{ kind: 'pupil', pupilId: 'P301' }] });
    expect(prefill.description).toBe('Filtering alert: chat.example (Social networking, allowed) at 00:30. Source: filtering alert a1b2c3d4e5f6a1b2c3d4e5f6.');
    expect(prefill.description).not.toContain('alexs');
  });

  it('defaults a blocked alert to an inappropriate website, keeps a picked type, and marks an unmatched user as a pupil not on the list', () => {
    const { pupilId: _unused, ...unmatched } = { ...alert, action: 'blocked' as const };
    expect(prefillFromAlert(unmatched)).toMatchObject({ type: 'inappropriate-website', involved: [{ kind: 'pupil-unlisted' }] });
    expect(prefillFromAlert(alert, 'cyberbullying').type).toBe('cyberbullying');
    expect(alertSubmissionId(alert.id)).toMatch(/^[A-Za-z0-9-]{8,64}$/);
  });
});
