import { YEARS_AFTER_BIRTH, type RetentionRule } from './retention';
import { formatUkDate } from './uk-dates';

/** Who the privacy notice names as controller and Data Protection Officer, from the school's settings. */
export interface PrivacySettings {
  /** The controller's name; the school's own name when not set (a trust names itself here). */
  controllerName: string | undefined;
  address: string | undefined;
  contactEmail: string | undefined;
  /** The controller's entry in the ICO's register of fee payers, e.g. Z1234567. */
  icoRegistrationNumber: string | undefined;
  /** Undefined when deployed without DPO_EMAIL: the notice is then not published (see `privacyNoticeProblems`). */
  dpo: { name: string; email: string; phone: string | undefined } | undefined;
  /** Whose LADO and children's social care the school refers to. */
  localAuthority: string | undefined;
}

/** Everything the notice is generated from. */
export interface PrivacyNoticeFacts {
  schoolName: string;
  /** The schools of a trust served by this deployment, when there are several. */
  trustSchools: readonly string[];
  settings: PrivacySettings;
  retention: RetentionRule;
  /** Days a leaver's pupil account stays disabled before it is deleted. */
  leaverGraceDays: number;
  /** The day the notice is generated (YYYY-MM-DD, UK). */
  today: string;
}

/** The sections of the notice, by the UK GDPR provision each answers; a test checks every one is present. */
export const PRIVACY_NOTICE_SECTIONS = [
  { id: 'controller', heading: 'Who is responsible for your information', articles: ['13(1)(a)', '14(1)(a)'] },
  { id: 'dpo', heading: 'Our Data Protection Officer', articles: ['13(1)(b)', '14(1)(b)'] },
  { id: 'records', heading: 'What we keep, why, and for how long', articles: ['13(1)(c)', '13(2)(a)', '14(1)(c)', '14(1)(d)', '14(2)(a)'] },
  { id: 'lawful-bases', heading: 'The law that lets us use it', articles: ['6(1)(e)', '9(2)(g)', '13(1)(c)'] },
  { id: 'sources', heading: 'Where the information comes from', articles: ['14(2)(f)'] },
  { id: 'sharing', heading: 'Who we share it with', articles: ['13(1)(e)', '14(1)(e)'] },
  { id: 'transfers', heading: 'Where it is stored', articles: ['13(1)(f)', '14(1)(f)'] },
  { id: 'rights', heading: 'Your rights', articles: ['13(2)(b)', '13(2)(c)', '13(2)(d)', '14(2)(c)', '14(2)(d)', '14(2)(e)', '15', '16', '17', '18', '21'] },
  { id: 'obligation', heading: 'Do you have to give us this information?', articles: ['13(2)(e)'] },
  { id: 'automated', heading: 'Decisions made by computer', articles: ['13(2)(f)', '14(2)(g)', '22'] },
] as const;

const ICO = { complaints: 'https://ico.org.uk/make-a-complaint/', helpline: '0303 123 1113' } as const;

/** Replaces the five characters that can change HTML's meaning; every value from settings goes through it. */
export function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Why the notice cannot be published as it stands (empty when it can). */
export function privacyNoticeProblems(settings: PrivacySettings): string[] {
  return settings.dpo ? [] : ['The school has not published its Data Protection Officer\'s contact details (DPO_EMAIL), which the notice must give (UK GDPR Article 13(1)(b)).'];
}

/** The controller's name as the notice gives it. */
export function controllerNameOf(facts: Pick<PrivacyNoticeFacts, 'schoolName' | 'settings'>): string {
  return facts.settings.controllerName ?? facts.schoolName;
}

/** How long incidents are kept, in words (school/retention.ts decides the dates). */
export function incidentRetentionText(rule: RetentionRule): string {
  const from = rule.from === 'created' ? 'the day it was reported' : 'the day it was closed';
  return (
    `Until the ${YEARS_AFTER_BIRTH}th birthday of the youngest pupil it is about (their date of birth plus ${YEARS_AFTER_BIRTH} years), as the IRMS toolkit for schools advises for child-protection records, and never less than ${rule.fallbackYears} years from the day it was reported. ` +
    `Where that cannot be worked out (a pupil's date of birth is not known, or the concern is about an adult), ${rule.fallbackYears} years from ${from}, and never less than the pupils' own date-of-birth rule. ` +
    'Nothing is deleted automatically: the Designated Safeguarding Lead or the headteacher approves each deletion, and a record under a legal hold (an inquiry, a claim or a police investigation) is kept until the hold is lifted.'
  );
}

/**
 * The privacy notice for parents, carers, pupils and staff, as one HTML page (UK GDPR Articles 13 and 14).
 * It opens with a short version in plain words for pupils (Article 12(1): "in particular for any information
 * addressed specifically to a child"). Every value from the school's settings is escaped.
 */
export function renderPrivacyNotice(facts: PrivacyNoticeFacts): string {
  const school = escapeHtml(facts.schoolName);
  const controller = escapeHtml(controllerNameOf(facts));
  const la = facts.settings.localAuthority ? escapeHtml(facts.settings.localAuthority) : 'the local authority';
  const { settings } = facts;
  const dpo = settings.dpo;
  const contactLines = [
    settings.address ? `<dt>Address</dt><dd>${escapeHtml(settings.address)}</dd>` : '',
    settings.contactEmail ? `<dt>Email</dt><dd>${mailto(settings.contactEmail)}</dd>` : '',
    settings.icoRegistrationNumber ? `<dt>ICO registration</dt><dd>${escapeHtml(settings.icoRegistrationNumber)}</dd>` : '',
  ].join('');
  const trust =
    facts.trustSchools.length > 1
      ? `<p>This notice covers each of these schools: ${facts.trustSchools.map(escapeHtml).join(', ')}. Each school's records are kept apart, and only that school's staff can open them.</p>`
      : '';
  const section = (id: (typeof PRIVACY_NOTICE_SECTIONS)[number]['id'], body: string): string => {
    const spec = PRIVACY_NOTICE_SECTIONS.find((s) => s.id === id)!;
    return `
  <section id="${spec.id}" data-articles="${spec.articles.join(' ')}">
    <h2>${escapeHtml(spec.heading)}</h2>${body}
  </section>`;
  };

  const body = `
  <header>
    <h1>Privacy notice: E-Safety for Teams at ${school}</h1>
    <p class="lede">For parents and carers, pupils, staff, volunteers and governors. It explains what the E-Safety app in Microsoft Teams keeps about you, why, for how long, who sees it and what you can ask us to do.</p>
  </header>
  <section id="for-pupils" class="plain">
    <h2>The short version, for pupils</h2>
    <ul>
      <li>When a grown-up at school is worried about something that happened online, they write it down in this app so the right people can help you.</li>
      <li>Only the few adults whose job is to keep you safe can read it. Governors only see numbers, never names.</li>
      <li>We keep your school username and when you agreed the online-safety rules. We never keep your password.</li>
      <li>You, or your grown-ups at home, can ask to see what we keep about you. If something is wrong, tell us and we will put it right.</li>
    </ul>
  </section>${section(
    'controller',
    `
    <p>${controller} is the <strong>data controller</strong>: it decides how this information is used and is responsible for it.</p>${contactLines ? `
    <dl class="facts">${contactLines}</dl>` : ''}${trust}`,
  )}${section(
    'dpo',
    dpo
      ? `
    <p>Our Data Protection Officer checks that we follow data protection law. Contact them about anything in this notice:</p>
    <dl class="facts"><dt>Name</dt><dd>${escapeHtml(dpo.name)}</dd><dt>Email</dt><dd>${mailto(dpo.email)}</dd>${dpo.phone ? `<dt>Telephone</dt><dd>${escapeHtml(dpo.phone)}</dd>` : ''}</dl>`
      : `
    <p>Ask the school office for our Data Protection Officer's contact details.</p>`,
  )}${section(
    'records',
    `
    <table>
      <thead><tr><th>Record</th><th>What it holds</th><th>Why</th><th>How long we keep it</th></tr></thead>
      <tbody>
        <tr><th>Online-safety concerns (incidents)</th><td>When and where it happened, its type, which pupils were involved (by the school's pupil number; names come from the pupil register), the member of staff it is about if any, what was seen, the actions taken and why, referrals, and how it was closed. May include evidence such as screenshots, and information about health, sex life or possible offences.</td><td>To keep children safe and to respond to each concern as the school's online-safety and safeguarding policies say.</td><td>${escapeHtml(incidentRetentionText(facts.retention))}</td></tr>
        <tr><th>Chronology of each concern</th><td>Who did what, when and why, added line by line and never rewritten.</td><td>So that the record shows every decision and its reason.</td><td>As long as the concern it belongs to.</td></tr>
        <tr><th>Acceptable-use agreements</th><td>Who agreed which version of which agreement, when, how (in Teams or on paper), and for a pupil the parent or carer who read it with them.</td><td>Staff, pupils and visitors agree the rules before they use the school's technology.</td><td>While the person is at the school, then as the school's records-retention schedule says.</td></tr>
        <tr><th>Online-safety training</th><td>Which course a member of staff, volunteer or governor completed, who ran it and when.</td><td>The policy asks for the dates and details of everyone's training, and who is due.</td><td>While the person works or volunteers at the school, then as the school's records-retention schedule says.</td></tr>
        <tr><th>Photograph and video consent</th><td>For each pupil, each kind of use a parent or carer agreed to or refused, when, who gave it, and any withdrawal.</td><td>To use pupils' images only as their families have agreed.</td><td>While the pupil is at the school, with the history of withdrawals. Deleted, history included, when the pupil's school account is deleted after they leave (30 days after leaving the roll unless the school changes it).</td></tr>
        <tr><th>Filtering and monitoring alerts</th><td>Alerts from the school's web filtering or monitoring provider, matched to a pupil, and what staff decided about each.</td><td>The school must filter and monitor its internet use and act on what it finds.</td><td>As the school's records-retention schedule says; an alert that becomes a concern is kept as that concern is.</td></tr>
        <tr><th>Pupil accounts and the pupil register</th><td>Name, year group, class, unique pupil number, date of birth, school username, account id and whether the account is active. <strong>Passwords are never stored</strong>: each is printed once, on a slip for the pupil.</td><td>To give each pupil a safe school account and to link concerns to the right child.</td><td>The account is deleted ${facts.leaverGraceDays} days after a pupil leaves; the register entry is kept while records that name the pupil are kept.</td></tr>
        <tr><th>Staff roles and Teams chats</th><td>Which role each member of staff holds (from the school's Microsoft 365 groups) and the reference the app needs to send them a message in Teams.</td><td>To show each person only what their role allows, and to alert the right person.</td><td>While the person holds the role.</td></tr>
        <tr><th>Audit log</th><td>Who opened, changed or exported which record, and when: people by account id and records by reference, never what the record says.</td><td>To protect the records and show who has seen them.</td><td>As long as the records it describes.</td></tr>
      </tbody>
    </table>`,
  )}${section(
    'lawful-bases',
    `
    <ul>
      <li><strong>Public task</strong> (UK GDPR Article 6(1)(e)): the school keeps children safe as part of its duties, including section 175 of the Education Act 2002 and the statutory guidance Keeping Children Safe in Education. This covers every record above except photograph and video consent.</li>
      <li><strong>Safeguarding records</strong> that hold special category information (Article 9) rely on <strong>substantial public interest</strong> (Article 9(2)(g)), under the condition "safeguarding of children and of individuals at risk" in the Data Protection Act 2018, Schedule 1, Part 2, paragraph 18. Information about possible offences (Article 10) is used under the same condition (Data Protection Act 2018, section 10(5)). We keep the appropriate policy document these conditions require (Schedule 1, Part 4).</li>
      <li><strong>Consent</strong> (Article 6(1)(a)) for photographs and videos: you may withdraw it at any time, and the withdrawal takes effect at once.</li>
    </ul>`,
  )}${section(
    'sources',
    `
    <p>Most of this information comes from staff, who record concerns and agreements. Pupil details come from the school's management information system. Account ids and roles come from the school's Microsoft 365 (Microsoft Entra ID). Filtering and monitoring alerts come from the school's filtering or monitoring provider. Paper agreements and consent forms come from pupils, parents, carers and visitors.</p>`,
  )}${section(
    'sharing',
    `
    <p>Inside the school, only the people whose role needs it can open a concern: the online-safety coordinator, the Designated Safeguarding Lead and the headteacher, and for a concern about the headteacher only the chair of governors. The person a concern is about never sees it in the app. Governors see anonymous figures only, never names.</p>
    <p>When the law or a child's safety requires it, we share what is needed with:</p>
    <ul>
      <li>${la}'s children's social care and its Local Authority Designated Officer (LADO), for concerns about children's safety and allegations about adults;</li>
      <li>the local safeguarding children partnership;</li>
      <li>the police, CEOP (the National Crime Agency's child protection command), the Internet Watch Foundation, and Prevent;</li>
      <li>a pupil's next school, which receives their child-protection records when they move;</li>
      <li>Ofsted, and the school's trust or governing body, when they inspect or review the school's safeguarding.</li>
    </ul>
    <p>Microsoft hosts the app (Microsoft 365 and Azure) as our processor, under contract, and may only use the information on our instructions. We never sell information or use it for marketing.</p>`,
  )}${section(
    'transfers',
    `
    <p>The records are kept in the school's own Microsoft 365 tenant and Azure storage account. If Microsoft processes any of it outside the UK, it does so under the safeguards in its Data Protection Addendum: UK adequacy regulations, or the ICO's International Data Transfer Addendum.</p>`,
  )}${section(
    'rights',
    `
    <ul>
      <li><strong>See your information</strong> (Article 15): ask us, in writing or in person, for a copy of what we hold about you. It is free, and we answer within one month.</li>
      <li><strong>Correct it</strong> (Article 16) if it is wrong or incomplete.</li>
      <li><strong>Erase it</strong> (Article 17) where we no longer need it or you withdraw consent. We cannot erase safeguarding records that the law requires us to keep (Article 17(3)(b)).</li>
      <li><strong>Restrict</strong> how we use it (Article 18) while a question about it is settled.</li>
      <li><strong>Object</strong> (Article 21) to our using it for our public task; we will stop unless keeping children safe is a compelling reason to continue.</li>
      <li><strong>Withdraw consent</strong> for photographs and videos at any time, without affecting what was done before.</li>
      <li><strong>Complain</strong> to the Information Commissioner's Office: <a href="${ICO.complaints}">${ICO.complaints}</a>, telephone ${ICO.helpline}. Please talk to us first so we can try to put it right.</li>
    </ul>
    <p>Information about a child belongs to the child. A parent or carer may ask on behalf of a child who is too young to understand their rights. Some information may be withheld: about other people (Data Protection Act 2018, Schedule 2, Part 3), where telling you would put someone at risk of serious harm, or where it would not be in a child's interests (Schedule 3, Parts 4 and 5), or where it would harm a police investigation (Schedule 2, Part 1, paragraph 2). We tell you when we withhold anything, unless that itself would cause harm. Data portability (Article 20) does not apply, because none of these records rely on consent or a contract and are processed by automated means.</p>`,
  )}${section(
    'obligation',
    `
    <p>Staff must record online-safety concerns under the school's safeguarding policy. Pupils, parents and carers do not have to give us anything for the app, but a pupil uses the school's technology only once the acceptable-use agreement is returned, and photographs are only used where consent is given.</p>`,
  )}${section(
    'automated',
    `
    <p>No decision about anyone is made by computer alone. The app suggests next steps from the school's response plan; a member of staff always decides.</p>`,
  )}
  <footer>
    <p>This notice was generated from ${school}'s settings on ${escapeHtml(formatUkDate(facts.today))}. We review it at least once a year. The school's Data Protection Policy explains how we look after all personal information.</p>
    <p><a href="terms">Terms of use</a></p>
  </footer>`;
  return publicPage(`Privacy notice – ${facts.schoolName}`, body);
}

function mailto(address: string): string {
  return `<a href="mailto:${escapeHtml(encodeURI(address))}">${escapeHtml(address)}</a>`;
}

/** The public pages' only styles, inline so the page loads nothing else; the route allows exactly this text by its hash. */
export const PUBLIC_PAGE_STYLE = `
    body { margin: 0 auto; max-width: 52rem; padding: 1.5rem; font-family: "Segoe UI", system-ui, Arial, sans-serif; line-height: 1.5; color: #242424; background: #fff; }
    h1 { font-size: 1.6rem; margin: 0 0 0.5rem; }
    h2 { font-size: 1.2rem; margin: 1.5rem 0 0.5rem; }
    .lede { font-size: 1.05rem; }
    .plain { border: 2px solid #0f6e8c; border-radius: 0.5rem; padding: 0 1rem; }
    dl.facts { display: grid; grid-template-columns: 10rem 1fr; gap: 0.25rem 1rem; }
    dt { font-weight: 600; }
    dd { margin: 0; }
    table { border-collapse: collapse; width: 100%; font-size: 0.95rem; }
    th, td { border: 1px solid #bdbdbd; padding: 0.4rem 0.5rem; text-align: left; vertical-align: top; }
    tbody th { width: 12rem; }
    footer { margin-top: 2rem; font-size: 0.9rem; color: #616161; }
    @media print { body { max-width: none; padding: 0; } section, tr { break-inside: avoid; } a { color: inherit; } }
  `;

/**
 * A self-contained public page: no script, no external resources, readable in print. `title` is escaped here;
 * `body` must already be HTML with every value escaped.
 */
export function publicPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)}</title>
  <style>${PUBLIC_PAGE_STYLE}</style>
</head>
<body>${body}
</body>
</html>
`;
}
