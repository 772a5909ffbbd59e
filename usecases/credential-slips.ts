/** One pupil's sign-in details, as printed on their slip. The password exists only here and on paper. */
export interface CredentialSlip {
  forename: string;
  surname: string;
  userPrincipalName: string;
  password: string;
  registrationGroup?: string;
  yearGroup?: string;
}

export interface CredentialSlipOptions {
  schoolName: string;
}

const YEAR_LABELS: Readonly<Record<string, string>> = { N: 'Nursery', R: 'Reception' };

/**
 * A printable HTML page of credential slips: one card per pupil, grouped by class, each class starting on a
 * new A4 page, and no card split across pages. Every value is HTML-escaped; the page loads nothing else.
 */
export function renderCredentialSlips(pupils: readonly CredentialSlip[], options: CredentialSlipOptions): string {
  const school = escapeHtml(options.schoolName);
  const sections = groupByClass(pupils).map(
    ({ label, pupils: members }) => `
  <section class="class">
    <h2>${escapeHtml(label)} <span class="count">${members.length} ${members.length === 1 ? 'pupil' : 'pupils'}</span></h2>
    <div class="cards">${members.map((pupil) => renderCard(pupil, school, label)).join('')}
    </div>
  </section>`,
  );
  return `<!doctype html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Microsoft Teams sign-in slips – ${school}</title>
  <style>
    @page { size: A4 portrait; margin: 12mm; }
    * { box-sizing: border-box; }
    body { margin: 0; font-family: "Segoe UI", system-ui, Arial, sans-serif; color: #000; background: #fff; font-size: 11pt; }
    .notice { margin: 12mm; padding: 4mm 6mm; border: 2px solid #b00020; border-radius: 2mm; }
    section.class { padding: 0 12mm 12mm; break-before: page; page-break-before: always; }
    section.class:first-of-type { break-before: auto; page-break-before: auto; }
    h2 { font-size: 14pt; margin: 6mm 0 4mm; }
    h2 .count { font-weight: normal; font-size: 10pt; color: #444; }
    .cards { font-size: 0; }
    .card { display: inline-block; vertical-align: top; width: calc(50% - 3mm); margin: 0 6mm 6mm 0; padding: 4mm 5mm;
            border: 1px dashed #555; border-radius: 3mm; font-size: 11pt; break-inside: avoid; page-break-inside: avoid; }
    .card:nth-child(2n) { margin-right: 0; }
    .school { font-size: 9pt; color: #444; margin: 0 0 1mm; }
    .pupil { font-size: 15pt; font-weight: bold; margin: 0; }
    .class-name { font-size: 9pt; color: #444; margin: 0 0 3mm; }
    dl { margin: 0 0 3mm; display: grid; grid-template-columns: auto 1fr; gap: 1mm 3mm; }
    dt { font-weight: bold; }
    dd { margin: 0; font-family: Consolas, "Courier New", monospace; font-size: 13pt; word-break: break-all; }
    .how { margin: 0; padding-left: 5mm; font-size: 9.5pt; }
    .how li { margin-bottom: 0.5mm; }
    .keep { font-size: 9pt; margin: 2mm 0 0; font-style: italic; }
    @media print {
      .notice { display: none; }
      section.class { padding: 0; }
    }
  </style>
</head>
<body>
  <div class="notice">
    <p><strong>This page holds pupils' passwords.</strong> Print it, cut out the cards and give each pupil their own; then delete this file. The passwords are stored nowhere else.</p>
    <p>${pupils.length} ${pupils.length === 1 ? 'slip' : 'slips'} for ${school}.</p>
  </div>${sections.join('')}
</body>
</html>
`;
}

function renderCard(pupil: CredentialSlip, school: string, classLabel: string): string {
  return `
      <article class="card">
        <p class="school">${school}</p>
        <p class="pupil">${escapeHtml(`${pupil.forename} ${pupil.surname}`.trim())}</p>
        <p class="class-name">${escapeHtml(classLabel)}</p>
        <dl>
          <dt>Username</dt><dd>${escapeHtml(pupil.userPrincipalName)}</dd>
          <dt>Password</dt><dd>${escapeHtml(pupil.password)}</dd>
        </dl>
        <ol class="how">
          <li>Go to <strong>teams.microsoft.com</strong>, or open the <strong>Microsoft Teams</strong> app.</li>
          <li>Choose <strong>Sign in</strong>.</li>
          <li>Type your username, then your password.</li>
        </ol>
        <p class="keep">Keep your password secret. Only share it with your teacher or your grown-up at home.</p>
      </article>`;
}

/** Classes in natural order (2B before 10A), pupils by surname then forename. */
function groupByClass(pupils: readonly CredentialSlip[]): { label: string; pupils: CredentialSlip[] }[] {
  const groups = new Map<string, CredentialSlip[]>();
  for (const pupil of pupils) {
    const label = classLabelOf(pupil);
    groups.set(label, [...(groups.get(label) ?? []), pupil]);
  }
  const compare = (a: string, b: string): number => a.localeCompare(b, 'en-GB', { numeric: true, sensitivity: 'base' });
  return [...groups.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([label, members]) => ({ label, pupils: members.sort((a, b) => compare(a.surname, b.surname) || compare(a.forename, b.forename)) }));
}

function classLabelOf(pupil: CredentialSlip): string {
  const group = pupil.registrationGroup?.trim();
  if (group) return /^class\b/i.test(group) ? group : `Class ${group}`;
  if (pupil.yearGroup) return YEAR_LABELS[pupil.yearGroup] ?? `Year ${pupil.yearGroup}`;
  return 'No class given';
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
