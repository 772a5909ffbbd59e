import { formatUkTime, parseMeetingRequest, safeClassMeetingOptions } from '../../../usecases/schedule-class-meeting';

// Monday 23 November 2026, 09:00 GMT.
const NOW = new Date('2026-11-23T09:00:00Z');

describe('parseMeetingRequest', () => {
  it.each<[string, string, string, number]>([
    ['Year 4 catch-up tomorrow 14:00', 'Year 4 catch-up', '2026-11-24T14:00:00.000Z', 60],
    ['Year 4 catch-up at 14:00', 'Year 4 catch-up', '2026-11-23T14:00:00.000Z', 60],
    ['Year 4 catch-up at 8:30', 'Year 4 catch-up', '2026-11-24T08:30:00.000Z', 60],
    ['Phonics at 9:30am tomorrow', 'Phonics', '2026-11-24T09:30:00.000Z', 60],
    ['Phonics tomorrow at 2pm for 30 min', 'Phonics', '2026-11-24T14:00:00.000Z', 30],
    ['Reading 2026-11-24T10:00', 'Reading', '2026-11-24T10:00:00.000Z', 60],
    ['Reading on 2026-12-01 10:15 for 1 hour', 'Reading', '2026-12-01T10:15:00.000Z', 60],
    ['Maths Friday 13:15', 'Maths', '2026-11-27T13:15:00.000Z', 60],
    ['Maths Monday 08:00', 'Maths', '2026-11-30T08:00:00.000Z', 60],
    ['Assembly 25/11 9.15', 'Assembly', '2026-11-25T09:15:00.000Z', 60],
    ['Sports day 01/07/2027 14:00', 'Sports day', '2027-07-01T13:00:00.000Z', 60],
  ])('"%s"', (text, title, start, duration) => {
    const parsed = parseMeetingRequest(text, NOW);
    expect(parsed).toEqual({ ok: true, request: { title, start: new Date(start), durationMinutes: duration } });
  });

  it.each<[string, string]>([
    ['Year 4', 'I could not find a time'],
    ['tomorrow 14:00', 'Give the meeting a title'],
    ['Catch-up 2026-11-20 10:00', 'already passed'],
    ['Catch-up 31/02 10:00', 'does not exist'],
    ['Catch-up at 25:00', 'not a time of day'],
    ['Catch-up at 14:00 for 2 min', 'between 5 minutes and 8 hours'],
  ])('"%s" is refused with a sentence that says what to fix', (text, problem) => {
    const parsed = parseMeetingRequest(text, NOW);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.problem).toContain(problem);
  });
});

describe('safeClassMeetingOptions', () => {
  it('lets only the organiser present and keeps everyone else in the lobby, without recording, transcription, chat or renaming', () => {
    expect(safeClassMeetingOptions({ title: 'Class 4B', start: new Date('2026-11-24T14:00:00Z'), durationMinutes: 45 })).toMatchObject({
      subject: 'Class 4B',
      startDateTime: '2026-11-24T14:00:00.000Z',
      endDateTime: '2026-11-24T14:45:00.000Z',
      allowedPresenters: 'organizer',
      lobbyBypassSettings: { scope: 'organizer', isDialInBypassEnabled: false },
      allowMeetingChat: 'disabled',
      allowAttendeeToEnableCamera: true,
      allowRecording: false,
      allowTranscription: false,
      allowParticipantsToChangeName: false,
    });
  });

  it('formats UK time in summer as BST', () => {
    expect(formatUkTime(new Date('2026-07-01T13:00:00Z'))).toBe('Wed 1 Jul 2026, 14:00');
  });
});
