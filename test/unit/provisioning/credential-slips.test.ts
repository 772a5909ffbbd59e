import { escapeHtml, renderCredentialSlips, type CredentialSlip } from '../../../usecases/credential-slips';

function slip(forename: string, surname: string, registrationGroup: string | undefined, password = 'Penguin42'): CredentialSlip {
  return { forename, surname, userPrincipalName: `23${forename.toLowerCase()}@oakfield.example`, password, ...(registrationGroup ? { registrationGroup } : {}) };
}

/** The class headings in page order. */
function headings(html: string): string[] {
  return [...html.matchAll(/<h2>([^<]*) <span/g)].map((m) => m[1] as string);
}

/** The pupil names in each class section, in order. */
function namesBySection(html: string): string[][] {
  return html.split('<section class="class">').slice(1).map((section) => [...section.matchAll(/<p class="pupil">([^<]*)<\/p>/g)].map((m) => m[1] as string));
}

describe('renderCredentialSlips', () => {
  it('escapes every value: names, username, password, class and school name', () => {
    const html = renderCredentialSlips(
      [{ forename: '<script>alert(1)</script>', surname: "O'Brien & \"Co\"", userPrincipalName: '23x<y>@oakfield.example', password: 'Kiwi&Lime<1>', registrationGroup: '4 "Oak", <Upper>' }],
      { schoolName: 'St Mary & St John <CE> Primary' },
    );

    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; O&#39;Brien &amp; &quot;Co&quot;');
    expect(html).toContain('23x&lt;y&gt;@oakfield.example');
    expect(html).toContain('Kiwi&amp;Lime&lt;1&gt;');
    expect(html).toContain('Class 4 &quot;Oak&quot;, &lt;Upper&gt;');
    expect(html).toContain('St Mary &amp; St John &lt;CE&gt; Primary');
    expect(html).not.toMatch(/<(?!\/?(html|head|meta|title|style|body|div|p|strong|section|h2|span|article|dl|dt|dd|ol|li)\b|!doctype)/i);
  });

  it('groups cards by class in natural order, each class on a new page, pupils by surname', () => {
    const html = renderCredentialSlips(
      [slip('Zara', 'Young', '10A'), slip('Adam', 'Zeal', '2B'), slip('Bea', 'Able', '2B'), slip('Cy', 'Moss', undefined), slip('Dot', 'Lamb', 'Class R, Robins')],
      { schoolName: 'Oakfield Primary' },
    );

    expect(headings(html)).toEqual(['Class 2B', 'Class 10A', 'Class R, Robins', 'No class given']);
    expect(namesBySection(html)).toEqual([['Bea Able', 'Adam Zeal'], ['Zara Young'], ['Dot Lamb'], ['Cy Moss']]);
    expect(html).toMatch(/section\.class \{[^}]*break-before: page; page-break-before: always;/);
    expect(html).toMatch(/section\.class:first-of-type \{ break-before: auto;/);
  });

  it('prints on A4, keeps each card whole and hides the on-screen warning when printed', () => {
    const html = renderCredentialSlips([slip('Bea', 'Able', '2B')], { schoolName: 'Oakfield Primary' });

    expect(html).toContain('@page { size: A4 portrait;');
    expect(html).toMatch(/\.card \{[^}]*break-inside: avoid; page-break-inside: avoid;/);
    expect(html).toMatch(/@media print \{\s*\.notice \{ display: none; \}/);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).not.toMatch(/<(link|script|img)\b|src=|href=/i);
  });

  it('each card has the school, the pupil, the username, the password and how to sign in to Teams', () => {
    const html = renderCredentialSlips([slip('Bea', 'Able', '2B', 'Hedgehog77')], { schoolName: 'Oakfield Primary' });
    const card = html.slice(html.indexOf('<article class="card">'), html.indexOf('</article>'));

    expect(card).toContain('<p class="school">Oakfield Primary</p>');
    expect(card).toContain('<p class="pupil">Bea Able</p>');
    expect(card).toContain('<dt>Username</dt><dd>23bea@oakfield.example</dd>');
    expect(card).toContain('<dt>Password</dt><dd>Hedgehog77</dd>');
    expect(card).toContain('teams.microsoft.com');
    expect(card).toContain('Microsoft Teams</strong> app');
    expect(card).toContain('Choose <strong>Sign in</strong>');
  });

  it('escapeHtml leaves plain text alone', () => {
    expect(escapeHtml('Zoë Ng 23zoen@oakfield.example')).toBe('Zoë Ng 23zoen@oakfield.example');
  });
});
