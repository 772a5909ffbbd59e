import { randomInt as cryptoRandomInt } from 'node:crypto';
import { ANIMALS } from './animals';

/** Entra's password length limits (https://learn.microsoft.com/entra/identity/authentication/concept-sspr-policy). */
export const ENTRA_MIN_LENGTH = 8;
export const ENTRA_MAX_LENGTH = 256;
/** A pupil password always ends in at least this many digits, and more when the animal is short. */
export const MIN_PASSWORD_DIGITS = 2;

/** Entra accepts only these characters: letters, digits, these symbols and a space. Anything else (é, £) is refused. */
const ENTRA_SYMBOLS = "@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<> ";

/** True when Entra would accept the password: 8–256 allowed characters from at least 3 of upper, lower, digit and symbol. */
export function meetsEntraPasswordRules(password: string): boolean {
  if (password.length < ENTRA_MIN_LENGTH || password.length > ENTRA_MAX_LENGTH) return false;
  let upper = false;
  let lower = false;
  let digit = false;
  let symbol = false;
  for (const ch of password) {
    if (ch >= 'A' && ch <= 'Z') upper = true;
    else if (ch >= 'a' && ch <= 'z') lower = true;
    else if (ch >= '0' && ch <= '9') digit = true;
    else if (ENTRA_SYMBOLS.includes(ch)) symbol = true;
    else return false;
  }
  return [upper, lower, digit, symbol].filter(Boolean).length >= 3;
}

/**
 * A child-friendly password: a capitalised animal then a number with no leading zero, long enough to
 * reach Entra's 8 characters (`Penguin42`, `Cat52817`). `randomInt` defaults to node:crypto's.
 */
export function generatePupilPassword(randomInt: (maxExclusive: number) => number = cryptoRandomInt): string {
  const animal = ANIMALS[draw(randomInt, ANIMALS.length)] ?? '';
  const digits = Math.max(MIN_PASSWORD_DIGITS, ENTRA_MIN_LENGTH - animal.length);
  const lowest = 10 ** (digits - 1);
  const number = lowest + draw(randomInt, 9 * lowest);
  const password = animal.charAt(0).toUpperCase() + animal.slice(1) + String(number);
  if (!meetsEntraPasswordRules(password)) throw new Error(`The animal list produced a password Entra would refuse; fix the list in school/animals.ts.`);
  return password;
}

function draw(randomInt: (maxExclusive: number) => number, maxExclusive: number): number {
  const value = randomInt(maxExclusive);
  if (!Number.isInteger(value) || value < 0 || value >= maxExclusive) {
    throw new RangeError(`randomInt(${maxExclusive}) returned ${value}; it must return a whole number from 0 to ${maxExclusive - 1}.`);
  }
  return value;
}
