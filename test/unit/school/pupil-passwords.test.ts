import { ANIMALS } from '../../../school/animals';
import { ENTRA_MAX_LENGTH, ENTRA_MIN_LENGTH, generatePupilPassword, meetsEntraPasswordRules } from '../../../school/pupil-passwords';

/** Returns the given values in turn, as a scripted randomInt. */
function scripted(...values: number[]): (maxExclusive: number) => number {
  const queue = [...values];
  return () => {
    const next = queue.shift();
    if (next === undefined) throw new Error('The scripted randomInt ran out of values.');
    return next;
  };
}

function splitPassword(password: string): { animal: string; digits: string } {
  const match = /^([A-Z][a-z]+)(\d+)$/.exec(password);
  if (!match) throw new Error(`"${password}" is not an animal followed by a number.`);
  return { animal: match[1] ?? '', digits: match[2] ?? '' };
}

describe('meetsEntraPasswordRules', () => {
  const cases: Array<[string, boolean]> = [
    ['Tiger42', false],
    ['Penguin42', true],
    ['Cat12345', true],
    ['Cat1234', false],
    ['penguin42', false],
    ['PENGUIN42', false],
    ['Penguinsss', false],
    ['penguin4!', true],
    ['PENGUIN4!', true],
    ['Penguin!!', true],
    ['12345678!', false],
    ['Pengüin42', false],
    ['Penguin42£', false],
    ['Penguin 42', true],
    ['', false],
    [`P1${'a'.repeat(ENTRA_MAX_LENGTH - 2)}`, true],
    [`P1${'a'.repeat(ENTRA_MAX_LENGTH - 1)}`, false],
  ];
  it.each(cases)('"%s" → %s', (password, expected) => {
    expect(meetsEntraPasswordRules(password)).toBe(expected);
  });

  it('uses the Entra limits of 8 and 256 characters', () => {
    expect([ENTRA_MIN_LENGTH, ENTRA_MAX_LENGTH]).toEqual([8, 256]);
  });
});

describe('generatePupilPassword', () => {
  const passwords = Array.from({ length: 10_000 }, () => generatePupilPassword());
  const animals = new Set(ANIMALS);

  it('always makes a password Entra accepts', () => {
    const refused = passwords.filter((p) => !meetsEntraPasswordRules(p));
    expect(refused).toEqual([]);
  });

  it('always starts with a capitalised word from the animal list, followed only by digits', () => {
    const strays = passwords.filter((p) => !animals.has(splitPassword(p).animal.toLowerCase()));
    expect(strays).toEqual([]);
  });

  it('never starts the number with a zero, which a child might drop', () => {
    expect(passwords.filter((p) => splitPassword(p).digits.startsWith('0'))).toEqual([]);
  });

  it('spreads across many animals and many numbers', () => {
    expect(new Set(passwords).size).toBeGreaterThanOrEqual(5_000);
    expect(new Set(passwords.map((p) => splitPassword(p).animal)).size).toBeGreaterThanOrEqual(Math.floor(ANIMALS.length * 0.9));
    expect(new Set(passwords.map((p) => splitPassword(p).digits)).size).toBeGreaterThanOrEqual(80);
  });

  it('when the animal is short, adds digits until the password reaches 8 characters', () => {
    const cat = ANIMALS.indexOf('cat');
    expect(cat).toBeGreaterThanOrEqual(0);
    expect(generatePupilPassword(scripted(cat, 0))).toBe('Cat10000');
    expect(generatePupilPassword(scripted(cat, 89_999))).toBe('Cat99999');
  });

  it("when the animal is 'tiger', gives it three digits, so 'Tiger42' never happens", () => {
    const tiger = ANIMALS.indexOf('tiger');
    expect(tiger).toBeGreaterThanOrEqual(0);
    expect(generatePupilPassword(scripted(tiger, 0))).toBe('Tiger100');
    expect(generatePupilPassword(scripted(tiger, 899))).toBe('Tiger999');
  });

  it('when the animal is long, uses two digits', () => {
    const penguin = ANIMALS.indexOf('penguin');
    expect(generatePupilPassword(scripted(penguin, 32))).toBe('Penguin42');
  });

  it('asks randomInt for an animal index, then for a number of exactly the right width', () => {
    const calls: number[] = [];
    const cat = ANIMALS.indexOf('cat');
    generatePupilPassword((max) => {
      calls.push(max);
      return calls.length === 1 ? cat : 0;
    });
    expect(calls).toEqual([ANIMALS.length, 90_000]);
  });

  it.each([-1, 1.5, Number.NaN, ANIMALS.length])('when randomInt returns %s, refuses rather than making a weak password', (value) => {
    expect(() => generatePupilPassword(() => value)).toThrow(RangeError);
  });
});

describe('ANIMALS', () => {
  it('has at least 150 words', () => {
    expect(ANIMALS.length).toBeGreaterThanOrEqual(150);
  });

  it('has no duplicates', () => {
    expect(ANIMALS.filter((word, i) => ANIMALS.indexOf(word) !== i)).toEqual([]);
  });

  it('is only lower-case single words of 3 to 10 letters', () => {
    expect(ANIMALS.filter((word) => !/^[a-z]{3,10}$/.test(word))).toEqual([]);
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(ANIMALS)).toBe(true);
  });

  const rude = ['ass', 'arse', 'bum', 'butt', 'cock', 'dick', 'tit', 'poo', 'pee', 'fart', 'willy', 'wank', 'knob', 'nob', 'sex', 'fuck', 'fuk', 'shit', 'piss', 'cum', 'crap', 'turd', 'twat', 'slut', 'porn', 'pus', 'pecker', 'damn', 'hell', 'bitch', 'coon', 'homo', 'kill', 'dead'];
  it.each(rude)('contains no word with "%s" inside it', (fragment) => {
    expect(ANIMALS.filter((word) => word.includes(fragment))).toEqual([]);
  });

  const unwelcome = [
    // scary
    'shark', 'snake', 'spider', 'bat', 'wolf', 'crocodile', 'alligator', 'scorpion', 'vulture', 'hyena', 'piranha', 'rat', 'wasp', 'hornet', 'cobra', 'viper', 'leech', 'tick', 'orca',
    // used as insults
    'cow', 'pig', 'donkey', 'weasel', 'toad', 'slug', 'worm', 'monkey', 'ape', 'gorilla', 'baboon', 'vixen', 'cougar', 'beaver', 'chicken', 'turkey', 'heifer', 'raccoon',
    // first names
    'robin', 'jay', 'drake', 'martin', 'wren', 'raven', 'kitty', 'lark', 'fawn', 'teal', 'merlin', 'coral', 'bunny', 'marlin',
  ];
  it.each(unwelcome)('leaves out "%s"', (word) => {
    expect(ANIMALS).not.toContain(word);
  });
});
