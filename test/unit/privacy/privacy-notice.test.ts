import { ConfigurationError, loadConfig } from '../../../app/config';
import { privacyNoticeFacts } from '../../../app/privacy-feature';
import { PRIVACY_NOTICE_SECTIONS, privacyNoticeProblems, renderPrivacyNotice, type PrivacyNoticeFacts } from '../../../school/privacy-notice';
import { renderTermsOfUse } from '../../../school/terms-of-use';

const FACTS: PrivacyNoticeFacts = {
  schoolName: 'Hollin Bank Primary',
  trustSchools: [],
  settings: {
    controllerName: undefined,
    address: '1 Mill Lane, Hollin Bank',
    contactEmail: 'office@hollin.example',
    icoRegistrationNumber: 'Z1234567',
    dpo: { name: 'Schools DPO Service', email: 'dpo@hollin.example', phone: '01234 567890' },
    localAuthority: 'Northshire County Council',
  },
  retention: { fallbackYears: 30, from: 'closed' },
  leaverGraceDays: 45,
  today: '2026-03-04',
};

/** The text of one section, tags stripped, so assertions read like the page. */
function sectionText(html: string, id: string): string {
  const match = new RegExp(`<section id="${id}"[^>]*>([\\s\\S]*?)</section>`).exec(html);
  if (!match) throw new Error(`no section ${id}`);
  return match[1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}

describe('the privacy notice', () => {
  const html = renderPrivacyNotice(FACTS);

  it('has a section for each UK GDPR Article 13 and 14 item, labelled with the articles it answers', () => {
    const required13 = ['13(1)(a)', '13(1)(b)', '13(1)(c)', '13(1)(e)', '13(1)(f)', '13(2)(a)', '13(2)(b)', '13(2)(c)', '13(2)(d)', '13(2)(e)', '13(2)(f)'];
    const required14 = ['14(1)(d)', '14(2)(f)'];
    const covered = PRIVACY_NOTICE_SECTIONS.flatMap((s) => s.articles as readonly string[]);
    expect([...required13, ...required14].filter((a) => !covered.includes(a))).toEqual([]);
    for (const section of PRIVACY_NOTICE_SECTIONS) expect(html).toContain(`<section id="${section.id}" data-articles="${section.articles.join(' ')}">`);
  });

  it('names the controller, the DPO and how to reach them, from the settings', () => {
    expect(sectionText(html, 'controller')).toContain('Hollin Bank Primary is the data controller');
    expect(sectionText(html, 'controller')).toContain('1 Mill Lane, Hollin Bank');
    expect(sectionText(html, 'controller')).toContain('Z1234567');
    expect(html).toContain('<a href="mailto:dpo@hollin.example">dpo@hollin.example</a>');
    expect(sectionText(html, 'dpo')).toContain('Schools DPO Service');
    expect(sectionText(html, 'dpo')).toContain('01234 567890');
    expect(renderPrivacyNotice({ ...FACTS, settings: { ...FACTS.settings, controllerName: 'Northshire Learning Trust' } })).toContain('Northshire Learning Trust is the <strong>data controller</strong>');
  });

  it('gives public task and, for safeguarding records, substantial public interest under DPA 2018 Schedule 1 paragraph 18', () => {
    const bases = sectionText(html, 'lawful-bases');
    expect(bases).toContain('Article 6(1)(e)');
    expect(bases).toContain('Article 9(2)(g)');
    expect(bases).toContain('Schedule 1, Part 2, paragraph 18');
    expect(bases).toContain('safeguarding of children and of individuals at risk');
    expect(bases).toContain('Article 6(1)(a)');
  });

  it('says how long incidents are kept from the school\'s retention rule, and when leavers\' accounts go', () => {
    const records = sectionText(html, 'records');
    expect(records).toContain('date of birth plus 25 years');
    expect(records).toContain('30 years from the day it was closed');
    expect(records).toContain('never less than 30 years from the day it was reported');
    expect(records).toContain('deleted 45 days after a pupil leaves');
    expect(sectionText(renderPrivacyNotice({ ...FACTS, retention: { fallbackYears: 25, from: 'created' } }), 'records')).toContain('25 years from the day it was reported');
    for (const record of ['Online-safety concerns', 'Acceptable-use agreements', 'Online-safety training', 'Photograph and video consent', 'Audit log', 'Pupil accounts']) expect(records).toContain(record);
  });

  it('names who it is shared with, with the local authority\'s LADO and children\'s social care', () => {
    const sharing = sectionText(html, 'sharing');
    expect(sharing).toContain('Northshire County Council\'s children\'s social care and its Local Authority Designated Officer (LADO)');
    for (const recipient of ['police', 'CEOP', 'Internet Watch Foundation', 'next school']) expect(sharing).toContain(recipient);
    expect(sectionText(renderPrivacyNotice({ ...FACTS, settings: { ...FACTS.settings, localAuthority: undefined } }), 'sharing')).toContain('the local authority\'s children\'s social care');
  });

  it('lists every right, with the ICO complaint route', () => {
    const rights = sectionText(html, 'rights');
    for (const right of ['Article 15', 'Article 16', 'Article 17', 'Article 18', 'Article 21', 'Withdraw consent', 'Information Commissioner\'s Office', '0303 123 1113']) expect(rights).toContain(right);
  });

  it('dates the notice the UK way and lists a trust\'s schools', () => {
    expect(html).toContain('on 4 March 2026');
    expect(renderPrivacyNotice({ ...FACTS, trustSchools: ['Hollin Bank Primary', 'Saltmarsh Infants'] })).toContain('each of these schools: Hollin Bank Primary, Saltmarsh Infants');
  });

  it('escapes every value that comes from the settings', () => {
    const hostile = '<script>alert("x")</script>&\'';
    const page = renderPrivacyNotice({
      ...FACTS,
      schoolName: hostile,
      trustSchools: [hostile, 'Other'],
      settings: { controllerName: hostile, address: hostile, contactEmail: 'a"><script>@x.example', icoRegistrationNumber: hostile, dpo: { name: hostile, email: 'd"><b>@x.example', phone: hostile }, localAuthority: hostile },
    });
    expect(page).not.toContain('<script>');
    expect(page).not.toContain('"><b>');
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    expect(renderTermsOfUse({ schoolName: hostile, settings: { ...FACTS.settings, contactEmail: 'a"><script>@x.example' }, today: '2026-03-04' })).not.toContain('<script>');
  });

  it('is not published without the DPO\'s contact details', () => {
    expect(privacyNoticeProblems(FACTS.settings)).toEqual([]);
    expect(privacyNoticeProblems({ ...FACTS.settings, dpo: undefined })).toEqual([expect.stringContaining('DPO_EMAIL')]);
  });
});

describe('the terms of use', () => {
  it('say the app is not an emergency service and link the privacy notice', () => {
    const html = renderTermsOfUse({ schoolName: 'Hollin Bank Primary', settings: FACTS.settings, today: '2026-03-04' });
    expect(html).toContain('call 999');
    expect(html).toContain('<a href="privacy">privacy notice</a>');
    expect(html).toContain('office@hollin.example');
    expect(html).toContain('4 March 2026');
  });
});

describe('the privacy settings', () => {
  it('default the DPO to dpo@SCHOOL_DOMAIN locally and take the school\'s settings when given', () => {
    expect(loadConfig({ SCHOOL_DOMAIN: 'hollin.example' }).dataProtection?.dpo).toEqual({ name: 'The school\'s Data Protection Officer', email: 'dpo@hollin.example', phone: undefined });
    const config = loadConfig({ DPO_NAME: 'Schools DPO Service', DPO_EMAIL: 'dpo@dpo-service.example', DPO_PHONE: '01234 567890', ICO_REGISTRATION_NUMBER: 'za123456', LOCAL_AUTHORITY_NAME: 'Northshire', RETENTION_FALLBACK_YEARS: '30' });
    expect(config.dataProtection).toMatchObject({ icoRegistrationNumber: 'ZA123456', localAuthority: 'Northshire', dpo: { name: 'Schools DPO Service', email: 'dpo@dpo-service.example', phone: '01234 567890' } });
    expect(privacyNoticeFacts(config)).toMatchObject({ schoolName: 'Local Primary School', retention: { fallbackYears: 30 }, leaverGraceDays: 30 });
  });

  it('have no DPO when deployed without DPO_EMAIL (the notice is then withheld, start-up is not refused)', () => {
    const config = loadConfig({ WEBSITE_SITE_NAME: 'app-esafety' }, { purpose: 'tool' });
    expect(config.deployed).toBe(true);
    expect(config.dataProtection?.dpo).toBeUndefined();
  });

  it('refuse malformed contact details, listing each', () => {
    let problems: string[] = [];
    try {
      loadConfig({ DPO_EMAIL: 'not an email', SCHOOL_CONTACT_EMAIL: 'office', ICO_REGISTRATION_NUMBER: '12345', DPO_PHONE: 'call us' });
    } catch (error) {
      problems = (error as ConfigurationError).problems;
    }
    expect(problems).toEqual([
      expect.stringMatching(/^ICO_REGISTRATION_NUMBER must be/),
      expect.stringMatching(/^DPO_PHONE must be/),
      expect.stringMatching(/^DPO_EMAIL must be an email address/),
      expect.stringMatching(/^SCHOOL_CONTACT_EMAIL must be an email address/),
    ]);
  });
});
