import type { Server } from 'restify';

/**
 * The hosts that may frame the tab: exactly those the Teams docs list for tabs (Teams, Microsoft 365 and
 * Outlook, and the *.cloud.microsoft domain they are moving to), plus the app itself.
 * https://learn.microsoft.com/microsoftteams/platform/tabs/how-to/tab-requirements
 */
export const TAB_FRAME_ANCESTORS: readonly string[] = [
  "'self'",
  'https://*.cloud.microsoft',
  'https://teams.microsoft.com',
  'https://*.teams.microsoft.com',
  'https://*.microsoft365.com',
  'https://*.office.com',
  'https://outlook.office.com',
  'https://outlook.office365.com',
  'https://outlook-sdf.office.com',
  'https://outlook-sdf.office365.com',
];

/**
 * The tab pages: scripts only from this origin (there are no inline scripts), inline styles allowed (the
 * incident view and the printable slips use them), and API calls only to this origin, plus the CDN list of
 * host origins the Teams SDK fetches (it falls back to its built-in list when that is refused).
 */
export const TAB_PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self' https://res.cdn.office.net",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  `frame-ancestors ${TAB_FRAME_ANCESTORS.join(' ')}`,
].join('; ');

/** Everything else (JSON, NDJSON, the bot endpoint) is never a page and never framed. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/** One year, as browsers and the HSTS preload guidance expect; sent only when deployed (served over https). */
export const HSTS = 'max-age=31536000; includeSubDomains';

/** The security headers for a response to `path`. */
export function securityHeadersFor(path: string, options: { deployed: boolean }): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'content-security-policy': path === '/tab' || path.startsWith('/tab/') ? TAB_PAGE_CSP : API_CSP,
    'referrer-policy': 'strict-origin-when-cross-origin',
    ...(options.deployed ? { 'strict-transport-security': HSTS } : {}),
  };
}

/** Sets the security headers before any route runs, so 404s, refusals and streamed answers carry them too. */
export function installSecurityHeaders(server: Server, options: { deployed: boolean }): void {
  server.pre((req, res, next) => {
    const path = (req.url ?? '/').split('?')[0]!;
    for (const [name, value] of Object.entries(securityHeadersFor(path, options))) res.setHeader(name, value);
    return next();
  });
}
