import { parse } from 'csv-parse/sync';

/** A problem with one line of an uploaded CSV (the header is line 1). */
export interface CsvLineProblem {
  row: number;
  message: string;
}

/**
 * Reads an uploaded CSV into its header and rows, as the tab's uploads all read them: a byte-order mark dropped,
 * cells trimmed, empty lines skipped, short rows allowed. A file that is not CSV, or is empty, comes back as the
 * problem to show, named by its line.
 */
export function readCsvTable(csv: string): { header: string[]; body: string[][] } | { problem: CsvLineProblem } {
  let records: string[][];
  try {
    records = parse(csv.replace(/^\uFEFF/, ''), { relax_column_count: true, skip_empty_lines: true, trim: true }) as string[][];
  } catch (error) {
    return { problem: { row: (error as { lines?: number }).lines ?? 1, message: 'the file is not valid CSV (check the quotes on this line)' } };
  }
  const [header, ...body] = records;
  if (!header) return { problem: { row: 1, message: 'the file is empty' } };
  return { header, body };
}
