import type { TurnContext } from 'botbuilder';
import type { BotCommand } from './bot-feature';
import type { Logger } from '../infra/logger';
import { hasAnyRole, type Principal } from '../school/roles';
import {
  formatUkTime,
  MEETING_USAGE,
  parseMeetingRequest,
  scheduleClassMeeting,
  type ScheduleClassMeetingDependencies,
} from '../usecases/schedule-class-meeting';

/** `/meeting TITLE [day] TIME [for N min]`: a staff member creates a safe class meeting and gets its join link. */
export function createMeetingCommand(deps: ScheduleClassMeetingDependencies & { clock: () => Date; logger: Logger }): BotCommand {
  return {
    name: 'meeting',
    help: '/meeting Year 4 catch-up tomorrow 14:00 — a class meeting where only you present and pupils wait in the lobby',
    async handle(context: TurnContext, principal: Principal, args: string): Promise<void> {
      if (!hasAnyRole(principal, 'staff', 'coordinator', 'dsl', 'headteacher')) {
        await context.sendActivity('Only members of staff can create class meetings here.');
        return;
      }
      if (!deps.graph) {
        await context.sendActivity('Class meetings need a Microsoft 365 tenant. This app is running in plan mode (GRAPH_MODE=plan), so no meeting was created. Ask your IT lead to connect the app to the school tenant.');
        return;
      }
      const parsed = parseMeetingRequest(args, deps.clock());
      if (!parsed.ok) {
        await context.sendActivity(parsed.problem);
        return;
      }
      const result = await scheduleClassMeeting(deps, principal.aadObjectId, parsed.request);
      if (result.outcome === 'created') {
        await context.sendActivity(
          `Your class meeting "${parsed.request.title}" is set for ${formatUkTime(parsed.request.start)} (${parsed.request.durationMinutes} min).\n\n` +
            `Join link: ${result.joinWebUrl}\n\n` +
            'Only you can present; everyone else waits in the lobby until you let them in; recording and transcription are off; ' +
            'meeting chat is off; cameras are allowed; participants cannot change their names.',
        );
        return;
      }
      if (result.outcome === 'no-tenant') {
        await context.sendActivity('Class meetings need a Microsoft 365 tenant; no meeting was created.');
        return;
      }
      deps.logger.warn('meeting.create-failed', { status: result.status, code: result.code, organizerId: principal.aadObjectId });
      await context.sendActivity(
        result.status === 403
          ? 'The meeting was NOT created: Microsoft 365 refused to create meetings on your behalf. Your IT lead needs to grant the app an application access policy (see "Enforcing the pupil safety settings" in the README).'
          : `The meeting was NOT created (Microsoft 365 answered ${result.status}). Please try again in a minute. ${MEETING_USAGE}`,
      );
    },
  };
}
