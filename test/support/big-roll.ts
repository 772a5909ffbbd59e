/**
 * A roll CSV of about `targetBytes`, in the shape an MIS exports (admission number, names, year group, class,
 * date of birth), where whole classes share a forename and surname initial, so nearly every username clashes.
 * Used by the scale test and `bench/roll-plan.bench.ts`.
 */
export function buildClashingRoll(targetBytes: number): string {
  const forenames = ['Ada', 'Ada', 'Ada', 'Bo', 'Cy'];
  const surnames = ['Lovelock', 'Lambert', 'Linden', 'Lee'];
  const header = 'Admission number,Forename,Surname,Year group,Class,Date of birth';
  const lines = [header];
  let bytes = header.length + 1;
  for (let i = 0; bytes < targetBytes; i++) {
    const year = (i % 6) + 1;
    const line = `A${100000 + i},${forenames[i % forenames.length]},${surnames[i % surnames.length]},${year},${year}L,14/02/${2020 - year}`;
    lines.push(line);
    bytes += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}
