import fc from 'fast-check';
import { htmlToText } from '../../../bot/message-text';

/** The regex version this replaced: right for ordinary messages, quadratic on a run of unclosed '<'. */
function regexHtmlToText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li)>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

describe('htmlToText', () => {
  const cases: Array<[string, string, string]> = [
    ['drops tags and keeps the text', '<p>Someone sent <b>this</b> to Year 5</p>', 'Someone sent this to Year 5'],
    ['turns <br> and the ends of paragraphs, divs and list items into line breaks', 'one<br>two<BR/>three<br />four</p>five</div>six</li>seven', 'one\ntwo\nthree\nfour\nfive\nsix\nseven'],
    ['decodes the common entities once', '&lt;script&gt; &quot;hi&quot; &#39;x&#39; a&nbsp;b &amp;lt;', '<script> "hi" \'x\' a b &lt;'],
    ['keeps a < that no > follows, as text', 'if a < b then', 'if a < b then'],
    ['keeps at most one blank line', '<p>a</p><p></p><p></p><p>b</p>', 'a\n\nb'],
    ['trims the ends', '  <div> hello </div>  ', 'hello'],
    ['keeps an attribute-laden tag out of the text', '<a href="https://example.test/x?a=1&b=2" title="t">link</a>', 'link'],
  ];
  it.each(cases)('%s', (_name, html, text) => {
    expect(htmlToText(html)).toBe(text);
  });

  it('on well-formed message HTML, gives exactly what the regex version gave', () => {
    const tag = fc.constantFrom('<p>', '</p>', '<div>', '</div>', '<li>', '</li>', '<br>', '<br/>', '<BR />', '<b>', '</b>', '<a href="x">', '</a>', '<span class="c">');
    const text = fc.stringMatching(/^[a-zA-Z0-9 &;#\n.,>]{0,12}$/);
    const entity = fc.constantFrom('&nbsp;', '&lt;', '&gt;', '&quot;', '&#39;', '&amp;', '&amp;lt;');
    fc.assert(
      fc.property(fc.array(fc.oneof(tag, text, entity), { maxLength: 30 }), (parts) => {
        const html = parts.join('');
        expect(htmlToText(html)).toBe(regexHtmlToText(html));
      }),
      { numRuns: 500 },
    );
  });

  it('reads 200 KB of "<" (the "Report this message" attack) in one pass', () => {
    const calls = { indexOf: 0 };
    const original = String.prototype.indexOf;
    const spy = jest.spyOn(String.prototype, 'indexOf').mockImplementation(function (this: string, ...args: Parameters<string['indexOf']>) {
      calls.indexOf += 1;
      return original.apply(this, args);
    });
    try {
      expect(htmlToText('<'.repeat(200 * 1024))).toBe('<'.repeat(200 * 1024));
    } finally {
      spy.mockRestore();
    }
    // One search for '<' and one for '>', not one per character.
    expect(calls.indexOf).toBeLessThanOrEqual(2);
  });

  it('reads 200 KB of "<a" followed by one ">" in one pass, dropping it as a single tag', () => {
    expect(htmlToText(`${'<a'.repeat(100 * 1024)}>after`)).toBe('after');
  });
});
