/** Tags whose end starts a new line in the plain text. */
const LINE_BREAK_TAG = /^<(?:br\s*\/?|\/(?:p|div|li))>$/i;
const ENTITIES: Readonly<Record<string, string>> = { nbsp: ' ', lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' };

/**
 * Plain text from a Teams message body (HTML): tags dropped, `<br>` and the ends of paragraphs, divs and list
 * items as line breaks, and the common entities decoded once.
 *
 * One pass over the input, so its cost is linear whatever the message holds. A regex such as `/<[^>]*>/g`
 * rescans the rest of the input from every `<` that has no `>` after it, which is quadratic: 200 KB of `<` in a
 * message sent to "Report this message" held the event loop for seconds.
 */
export function htmlToText(html: string): string {
  let text = '';
  // Where the next '>' is, found once and reused until the scan passes it: no position is searched twice.
  let nextClose = -1;
  let i = 0;
  while (i < html.length) {
    const open = html.indexOf('<', i);
    if (open < 0) {
      text += html.slice(i);
      break;
    }
    text += html.slice(i, open);
    if (nextClose < open) nextClose = html.indexOf('>', open);
    if (nextClose < 0) {
      // No '>' anywhere after here: the rest is text, as the regex left an unclosed '<'.
      text += html.slice(open);
      break;
    }
    // The regex's match from this '<' ran to the first '>' after it, even across other '<'.
    const tag = html.slice(open, nextClose + 1);
    if (LINE_BREAK_TAG.test(tag)) text += '\n';
    i = nextClose + 1;
  }
  return text
    .replace(/&(nbsp|lt|gt|quot|#39|amp);/g, (_entity, name: string) => ENTITIES[name]!)
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
