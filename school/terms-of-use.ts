import { controllerNameOf, escapeHtml, publicPage, type PrivacySettings } from './privacy-notice';
import { formatUkDate } from './uk-dates';

export interface TermsFacts {
  schoolName: string;
  settings: PrivacySettings;
  /** The day the page is generated (YYYY-MM-DD, UK). */
  today: string;
}

/** The app's terms of use, as one HTML page; every value from the school's settings is escaped. */
export function renderTermsOfUse(facts: TermsFacts): string {
  const school = escapeHtml(facts.schoolName);
  const controller = escapeHtml(controllerNameOf(facts));
  const contact = facts.settings.contactEmail
    ? `the school office (<a href="mailto:${escapeHtml(encodeURI(facts.settings.contactEmail))}">${escapeHtml(facts.settings.contactEmail)}</a>)`
    : 'the school office';
  const body = `
  <header>
    <h1>Terms of use: E-Safety for Teams at ${school}</h1>
    <p class="lede">These terms apply to everyone who uses the E-Safety app in Microsoft Teams at ${school}: staff, volunteers, governors and pupils.</p>
  </header>
  <section id="emergency" class="plain">
    <h2>If a child is in danger now</h2>
    <p>This app is not an emergency service. If a child is at immediate risk, call 999, then tell the Designated Safeguarding Lead in person. Record the concern in the app afterwards.</p>
  </section>
  <section id="who">
    <h2>Who may use it</h2>
    <p>Only people with a school Microsoft 365 account that ${controller} has given a role. What you can see and do depends on that role, and the app checks it every time. Do not use anyone else's account, and never share your password.</p>
  </section>
  <section id="use">
    <h2>Using it properly</h2>
    <ul>
      <li>Use the app for the school's online-safety and safeguarding work only, as the school's acceptable-use agreement and online-safety policy say.</li>
      <li>Record what you saw and did accurately, as soon as you can. Do not copy illegal images into the app: describe them, and follow the school's procedure for preserving evidence.</li>
      <li>Keep what you read confidential. Do not screenshot, forward, print or discuss records except as your role and the school's safeguarding policy require.</li>
      <li>Everything you open, change or export is recorded in an audit log, and the school may check it.</li>
    </ul>
  </section>
  <section id="records">
    <h2>The records</h2>
    <p>Records made in the app belong to ${controller}, which is responsible for them under data protection law. The <a href="privacy">privacy notice</a> explains what is kept, why and for how long.</p>
  </section>
  <section id="misuse">
    <h2>Misuse</h2>
    <p>Misusing the app, or trying to see records your role does not allow, is dealt with under the school's acceptable-use agreement and its staff or behaviour policies, and may be reported to the police.</p>
  </section>
  <section id="service">
    <h2>Availability</h2>
    <p>The school aims to keep the app available but cannot promise it always will be. If it is not working, record concerns on the school's paper form and give them to the Designated Safeguarding Lead.</p>
  </section>
  <section id="contact">
    <h2>Questions</h2>
    <p>Ask ${contact}. These terms may change; the version here is the one that applies.</p>
  </section>
  <footer>
    <p>Generated from ${school}'s settings on ${escapeHtml(formatUkDate(facts.today))}.</p>
    <p><a href="privacy">Privacy notice</a></p>
  </footer>`;
  return publicPage(`Terms of use – ${facts.schoolName}`, body);
}
