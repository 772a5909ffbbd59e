import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import {
  buildAppPackage,
  fillManifest,
  listPlaceholders,
  loadManifestSchema,
  MANIFEST_VERSION,
  ManifestValidationError,
  ManifestValuesError,
  readManifestValues,
  validateIcons,
  validateManifest,
} from '../../scripts/app-package';
import { ACCENT_COLOR, drawColorIcon, drawOutlineIcon } from '../../scripts/make-icons';
import { computeCrc32, decodePng, encodePng, type RgbaImage } from '../../scripts/png';

const APP_PACKAGE_DIR = join(__dirname, '..', '..', 'appPackage');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the manifest is free-form JSON here.
type Manifest = Record<string, any>;

const SAMPLE_VALUES = {
  TEAMS_APP_ID: '3f1c2b7e-5a44-4c1e-9d6a-0b8e2f4a7c11',
  BOT_ID: '8a0d5c3e-1b2f-4e6a-9c7d-2e4f6a8b0c12',
  BOT_DOMAIN: 'esafety.example.net',
  AAD_APP_CLIENT_ID: 'c2e4a6b8-0d1f-4a3c-8e5b-7d9f1a3c5e13',
  APP_PUBLIC_URL: 'https://esafety.example.net',
  APP_NAME_SUFFIX: ' (dev)',
};

function readTemplate(): Manifest {
  return JSON.parse(readFileSync(join(APP_PACKAGE_DIR, 'manifest.json'), 'utf8')) as Manifest;
}

function catchError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('Expected the action to throw.');
}

/** Lists a zip's entries by reading its central directory, and inflates each one. */
function readZip(zip: Buffer): Map<string, Buffer> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localHeader = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    entries.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

describe('the manifest template', () => {
  it(`uses manifest schema ${MANIFEST_VERSION}, which @microsoft/app-manifest bundles`, async () => {
    const template = readTemplate();
    expect(template.manifestVersion).toBe(MANIFEST_VERSION);
    expect(template.$schema).toBe(`https://developer.microsoft.com/json-schemas/teams/v${MANIFEST_VERSION}/MicrosoftTeams.schema.json`);
    expect(await loadManifestSchema(MANIFEST_VERSION)).toBeDefined();
  });

  it('uses exactly the placeholders the packager knows how to fill', () => {
    expect(listPlaceholders(readTemplate()).sort()).toEqual(Object.keys(SAMPLE_VALUES).sort());
  });

  it('when filled with sample values, validates against the bundled schema without touching the network', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch').mockRejectedValue(new Error('The test must not use the network.'));
    try {
      const manifest = fillManifest(readTemplate(), SAMPLE_VALUES);
      expect(await validateManifest(manifest)).toEqual([]);
      expect(JSON.stringify(manifest)).not.toContain('${{');
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it('gives every page of the tab a personal static tab, within the 16 the schema allows', () => {
    // staticTabs: maxItems 16, and Teams supports static tabs in the personal scope
    // (https://learn.microsoft.com/microsoft-365/extensibility/schema/root-static-tabs; schema v1.30).
    const tabs = fillManifest(readTemplate(), SAMPLE_VALUES).staticTabs as { entityId: string; name: string; contentUrl: string; scopes: string[] }[];
    expect(tabs.length).toBeLessThanOrEqual(16);
    expect(new Set(tabs.map((t) => t.entityId)).size).toBe(tabs.length);
    const pages = readdirSync(join(__dirname, '..', '..', 'tab', 'public')).filter((f) => f.endsWith('.html')).sort();
    expect(tabs.map((t) => t.contentUrl.replace(`${SAMPLE_VALUES.APP_PUBLIC_URL}/tab/`, '')).sort()).toEqual(pages);
    expect(tabs.filter((t) => t.name === 'Consent' || t.name === 'AUP forms' || t.name === 'Filtering' || t.name === 'Training').map((t) => t.contentUrl)).toEqual(
      ['consent.html', 'aup.html', 'filtering.html', 'training.html'].map((page) => `${SAMPLE_VALUES.APP_PUBLIC_URL}/tab/${page}`),
    );
    for (const tab of tabs) {
      expect(tab.scopes).toEqual(['personal']);
      // Each page signs in through the tab's shared script, which uses Teams SSO inside Teams.
      expect(readFileSync(join(__dirname, '..', '..', 'tab', 'public', tab.contentUrl.split('/tab/')[1]!), 'utf8')).toContain('<script src="/tab/tab.js"></script>');
    }
  });

  it('declares a personal bot with report, myreports, aup, meeting and help, and a "Report this message" action', () => {
    const manifest = fillManifest(readTemplate(), SAMPLE_VALUES);
    const [bot] = manifest.bots;
    expect(bot).toMatchObject({ botId: SAMPLE_VALUES.BOT_ID, scopes: ['personal'], supportsFiles: false, isNotificationOnly: false });
    expect(bot.commandLists[0].commands.map((c: { title: string }) => c.title)).toEqual(['report', 'myreports', 'aup', 'meeting', 'consent', 'help']);
    expect(manifest.composeExtensions[0]).toMatchObject({
      botId: SAMPLE_VALUES.BOT_ID,
      commands: [{ id: 'reportMessage', type: 'action', title: 'Report this message', fetchTask: true, context: ['message'] }],
    });
    expect(manifest.validDomains).toEqual([SAMPLE_VALUES.BOT_DOMAIN]);
    expect(manifest.webApplicationInfo).toEqual({
      id: SAMPLE_VALUES.AAD_APP_CLIENT_ID,
      resource: `api://${SAMPLE_VALUES.BOT_DOMAIN}/${SAMPLE_VALUES.AAD_APP_CLIENT_ID}`,
    });
    expect(manifest.name).toEqual({ short: 'E-Safety (dev)', full: 'E-Safety for Teams (dev)' });
    expect(manifest.accentColor).toBe(ACCENT_COLOR);
  });
});

describe('fillManifest', () => {
  it('when placeholder values are missing, names every one of them in one error', () => {
    const error = catchError(() => fillManifest(readTemplate(), { ...SAMPLE_VALUES, BOT_DOMAIN: undefined, TEAMS_APP_ID: '' }));
    expect(error).toBeInstanceOf(ManifestValuesError);
    const problems = (error as ManifestValuesError).problems;
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/TEAMS_APP_ID has no value/);
    expect(problems.join('\n')).toMatch(/BOT_DOMAIN has no value/);
    expect((error as Error).message).toMatch(/2 placeholder values need attention/);
  });

  it('when the bot id is not a GUID, names BOT_ID before the schema is consulted', () => {
    const error = catchError(() => fillManifest(readTemplate(), { ...SAMPLE_VALUES, BOT_ID: 'my-bot' }));
    expect((error as ManifestValuesError).problems).toEqual([expect.stringMatching(/^BOT_ID is "my-bot", which is not valid/)]);
  });

  it('when BOT_DOMAIN has a scheme, says it must be a bare host name', () => {
    const error = catchError(() => fillManifest(readTemplate(), { ...SAMPLE_VALUES, BOT_DOMAIN: 'https://esafety.example.net' }));
    expect((error as ManifestValuesError).problems.join('\n')).toMatch(/BOT_DOMAIN .* without https:\/\//);
  });

  it('allows an empty APP_NAME_SUFFIX, as in production', () => {
    const manifest = fillManifest(readTemplate(), { ...SAMPLE_VALUES, APP_NAME_SUFFIX: '' });
    expect(manifest.name.short).toBe('E-Safety');
  });

  it('fills values containing quotes without breaking the JSON', () => {
    const manifest = fillManifest({ name: 'A${{APP_NAME_SUFFIX}}' }, { APP_NAME_SUFFIX: ' "quoted" \\ ' });
    expect(manifest).toEqual({ name: 'A "quoted" \\ ' });
  });
});

describe('validateManifest', () => {
  const filled = (): Manifest => fillManifest(readTemplate(), SAMPLE_VALUES);

  it('when the bot id is not a GUID, fails on /bots/0/botId', async () => {
    const manifest = filled();
    manifest.bots[0].botId = 'not-a-guid';
    const problems = await validateManifest(manifest);
    expect(problems.join('\n')).toMatch(/\/bots\/0\/botId/);
  });

  it('when a required field is missing, fails and names it', async () => {
    const manifest = filled();
    delete manifest.developer.privacyUrl;
    delete manifest.accentColor;
    const problems = (await validateManifest(manifest)).join('\n');
    expect(problems).toMatch(/privacyUrl/);
    expect(problems).toMatch(/accentColor/);
  });

  it('when the short name is longer than Teams allows, fails', async () => {
    const manifest = fillManifest(readTemplate(), { ...SAMPLE_VALUES, APP_NAME_SUFFIX: ' - a suffix far too long for Teams' });
    expect((await validateManifest(manifest)).join('\n')).toMatch(/\/name\/short/);
  });

  it('when manifestVersion is not bundled, says which to use', async () => {
    const manifest = filled();
    manifest.manifestVersion = '9.99';
    expect(await validateManifest(manifest)).toEqual([expect.stringMatching(/"9\.99" has no schema .* use "1\.30"/)]);
  });

  it('when $schema does not match manifestVersion, says so', async () => {
    const manifest = filled();
    manifest.$schema = 'https://developer.microsoft.com/json-schemas/teams/v1.19/MicrosoftTeams.schema.json';
    expect((await validateManifest(manifest)).join('\n')).toMatch(/\$schema must be .*v1\.30/);
  });
});

describe('readManifestValues', () => {
  it('when BOT_ID is not set, uses the bot app id the server runs with', () => {
    const values = readManifestValues({ APP_PUBLIC_URL: 'https://esafety.example.net/' }, () => SAMPLE_VALUES.BOT_ID);
    expect(values.BOT_ID).toBe(SAMPLE_VALUES.BOT_ID);
    expect(values.APP_PUBLIC_URL).toBe('https://esafety.example.net');
    expect(values.APP_NAME_SUFFIX).toBe('');
    expect(values.TEAMS_APP_ID).toBeUndefined();
  });

  it('when BOT_ID is set, does not load the app configuration', () => {
    const readBotAppId = jest.fn(() => 'unused');
    expect(readManifestValues({ BOT_ID: ` ${SAMPLE_VALUES.BOT_ID} ` }, readBotAppId).BOT_ID).toBe(SAMPLE_VALUES.BOT_ID);
    expect(readBotAppId).not.toHaveBeenCalled();
  });
});

describe('the icons', () => {
  const color = decodePng(readFileSync(join(APP_PACKAGE_DIR, 'color.png')));
  const outline = decodePng(readFileSync(join(APP_PACKAGE_DIR, 'outline.png')));
  const pixels = (image: RgbaImage): number[][] =>
    Array.from({ length: image.width * image.height }, (_, i) => Array.from(image.data.subarray(i * 4, i * 4 + 4)));

  it('the colour icon is 192x192, opaque, and has more than one colour', () => {
    expect([color.width, color.height]).toEqual([192, 192]);
    const all = pixels(color);
    expect(all.every(([, , , alpha]) => alpha === 255)).toBe(true);
    expect(new Set(all.map((p) => p.join(','))).size).toBeGreaterThan(2);
  });

  it('the outline icon is 32x32, white only, with both transparent and solid pixels', () => {
    expect([outline.width, outline.height]).toEqual([32, 32]);
    const all = pixels(outline);
    expect(all.filter(([r, g, b]) => r !== 255 || g !== 255 || b !== 255)).toEqual([]);
    expect(all.some(([, , , alpha]) => alpha === 0)).toBe(true);
    expect(all.some(([, , , alpha]) => alpha === 255)).toBe(true);
  });

  it('the committed icons are what scripts/make-icons.ts draws', () => {
    expect(Buffer.from(color.data).equals(Buffer.from(drawColorIcon().data))).toBe(true);
    expect(Buffer.from(outline.data).equals(Buffer.from(drawOutlineIcon().data))).toBe(true);
  });

  it('validateIcons rejects an outline with colour and icons of the wrong size', () => {
    const red: RgbaImage = { width: 32, height: 32, data: new Uint8Array(32 * 32 * 4).fill(255) };
    red.data[0 + 1] = 0;
    const small: RgbaImage = { width: 96, height: 96, data: new Uint8Array(96 * 96 * 4).fill(255) };
    const problems = validateIcons({ color: encodePng(small), outline: encodePng(red) });
    expect(problems).toEqual([
      'The color icon is 96x96; Teams needs 192x192.',
      'The outline icon has 1 visible pixels that are not white; Teams needs white on transparent.',
    ]);
    expect(validateIcons({ color: Buffer.from('not a png'), outline: encodePng(drawOutlineIcon()) })).toEqual([
      expect.stringMatching(/^The color icon is not a PNG/),
    ]);
  });
});

describe('png', () => {
  it('computes the standard CRC-32 check value', () => {
    expect(computeCrc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('decodes what it encodes', () => {
    const image: RgbaImage = { width: 3, height: 2, data: Uint8Array.from({ length: 24 }, (_, i) => (i * 37) % 256) };
    expect(decodePng(encodePng(image))).toEqual(image);
  });
});

describe('buildAppPackage', () => {
  let outDir: string;
  beforeEach(() => {
    outDir = mkdtempSync(join(tmpdir(), 'app-package-'));
  });
  afterEach(() => rmSync(outDir, { recursive: true, force: true }));

  it('writes a zip holding exactly manifest.json, color.png and outline.png', async () => {
    const outFile = join(outDir, 'nested', 'appPackage.zip');
    await buildAppPackage({ sourceDir: APP_PACKAGE_DIR, values: SAMPLE_VALUES, outFile });
    const entries = readZip(readFileSync(outFile));
    expect([...entries.keys()].sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const manifest = JSON.parse((entries.get('manifest.json') as Buffer).toString('utf8')) as Manifest;
    expect(manifest.bots[0].botId).toBe(SAMPLE_VALUES.BOT_ID);
    expect(entries.get('color.png')?.equals(readFileSync(join(APP_PACKAGE_DIR, 'color.png')))).toBe(true);
    expect(entries.get('outline.png')?.equals(readFileSync(join(APP_PACKAGE_DIR, 'outline.png')))).toBe(true);
  });

  it('when the manifest is invalid, writes nothing and lists the problems', async () => {
    const outFile = join(outDir, 'appPackage.zip');
    const build = buildAppPackage({ sourceDir: APP_PACKAGE_DIR, values: { ...SAMPLE_VALUES, APP_NAME_SUFFIX: ' '.repeat(40) }, outFile });
    await expect(build).rejects.toBeInstanceOf(ManifestValidationError);
    await expect(build).rejects.toThrow(/\/name\/short/);
    expect(() => readFileSync(outFile)).toThrow();
  });
});
