import type { RollPupil, YearGroup } from '../school/pupil-roll';

const UPN_LETTERS = 'ABCDEFGHJKLMNPQRTUVWXYZ';
const FORENAMES = ['Amelia', 'Zoë', 'Łukasz', 'Saoirse', 'Mary-Jane', 'Oliver', 'Isla', 'Noah', 'Ava', 'Leo', 'Freya', 'Arthur', 'Ivy', 'Theo', 'Rosie', 'Finn', 'Elsie', 'Jude', 'Maeve', 'Ezra'];
const SURNAMES = ["O'Brien", 'Smith', 'Nguyen', 'Kowalczyk-Fern', 'Ahmed', 'de la Cruz', 'Jones', 'Patel', 'Straßmann', 'Evans', 'Brown', 'Murphy', 'Wilson'];
const YEARS: YearGroup[] = ['R', '1', '2', '3', '4', '5', '6'];

/** A made-up roll of `count` pupils with valid UPNs (check letter included), the same on every call. */
export function buildPupils(count: number): RollPupil[] {
  return Array.from({ length: count }, (_, n) => {
    const digits = `998${String(n).padStart(9, '0')}`;
    let sum = 0;
    for (let i = 0; i < digits.length; i++) sum += Number(digits[i]) * (i + 2);
    const upn = `${UPN_LETTERS[sum % 23]}${digits}`;
    const yearGroup = YEARS[n % YEARS.length] as YearGroup;
    return {
      row: n + 2,
      externalId: upn,
      upn,
      forename: FORENAMES[n % FORENAMES.length] as string,
      surname: SURNAMES[Math.floor(n / FORENAMES.length) % SURNAMES.length] as string,
      yearGroup,
      registrationGroup: `${yearGroup}${'ABCD'[n % 4]}`,
    };
  });
}
