import { createHash } from 'node:crypto';
import type { Response, Server } from 'restify';
import type { Logger } from '../../infra/logger';
import { privacyNoticeProblems, publicPage, PUBLIC_PAGE_STYLE, renderPrivacyNotice, type PrivacyNoticeFacts } from '../../school/privacy-notice';
import { renderTermsOfUse } from '../../school/terms-of-use';
import { londonDate } from '../../school/uk-dates';

export interface PublicPageDependencies {
  /** The notice's facts, apart from today's date. */
  facts: Omit<PrivacyNoticeFacts, 'today'>;
  logger: Logger;
  clock: () => Date;
}

/**
 * The pages load nothing and run no script; the only style allowed is the page's own, by its hash
 * (https://www.w3.org/TR/CSP3/#grammardef-hash-source).
 */
const CONTENT_SECURITY_POLICY = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(PUBLIC_PAGE_STYLE).digest('base64')}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/**
 * `/privacy` and `/terms`, which the Teams manifest links as `developer.privacyUrl` and `developer.termsOfUseUrl`
 * (https://learn.microsoft.com/microsoftteams/platform/resources/schema/manifest-schema#developer). Public: anyone
 * may read them before installing the app. Without the DPO's contact details the privacy notice is not published
 * (503), rather than published incomplete.
 */
export function registerPublicPages(server: Server, deps: PublicPageDependencies): void {
  server.get('/privacy', async (req, res) => {
    const problems = privacyNoticeProblems(deps.facts.settings);
    if (problems.length > 0) {
      deps.logger.warn('privacy.notice-unavailable', { correlationId: req.id(), reason: 'dpo-contact-missing' });
      const body = `
  <h1>Privacy notice not yet published</h1>
  <p>The school has not finished setting up its privacy notice for E-Safety for Teams. Please ask the school office for a copy, or for the Data Protection Officer's contact details.</p>`;
      return void sendPage(res, 503, publicPage('Privacy notice not yet published', body));
    }
    sendPage(res, 200, renderPrivacyNotice({ ...deps.facts, today: londonDate(deps.clock()) }));
  });
  server.get('/terms', async (_req, res) => {
    sendPage(res, 200, renderTermsOfUse({ schoolName: deps.facts.schoolName, settings: deps.facts.settings, today: londonDate(deps.clock()) }));
  });
}

function sendPage(res: Response, status: number, html: string): void {
  const body = Buffer.from(html, 'utf8');
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(body.length),
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    // The notice carries the day it was generated; an hour's caching keeps that honest.
    'cache-control': status === 200 ? 'public, max-age=3600' : 'no-store',
  });
  res.end(body);
}
