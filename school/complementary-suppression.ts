/**
 * Primary and complementary (secondary) cell suppression for published counts.
 *
 * A published table is a set of cells and additive relations between them (`parent = Σ children`). A count
 * from 1 to `threshold - 1` is hidden (primary). A relation with exactly one hidden member would give that
 * member away by subtraction, so another member is hidden too (complementary), repeatedly, until every
 * relation has none or at least two hidden members. Complements are the smallest non-zero children, so that
 * the hidden sum in each relation is as large as it can be and as little as possible is lost; the parent is
 * taken only when no child can be, and cells in `avoid` (the grand total) last of all.
 *
 * The property test in test/unit/tab/summary-disclosure.test.ts solves everything shown as a linear system
 * and checks that no hidden cell is determined.
 */
export interface CellRelation {
  parent: string;
  children: readonly string[];
}

export interface SuppressionOptions {
  /** Counts from 1 to threshold − 1 are hidden. */
  threshold: number;
  /** Cells hidden only when nothing else will do (for example the grand total). */
  avoid?: ReadonlySet<string>;
}

/** The cells to hide: every count from 1 to threshold − 1, and the complements that stop them being worked out. */
export function suppressCells(values: ReadonlyMap<string, number>, relations: readonly CellRelation[], options: SuppressionOptions): Set<string> {
  const value = (cell: string): number => {
    const v = values.get(cell);
    if (v === undefined) throw new Error(`Suppression was asked about a cell it was not given: ${cell}.`);
    return v;
  };
  const hidden = new Set<string>();
  for (const [cell, v] of values) if (v >= 1 && v < options.threshold) hidden.add(cell);
  const avoid = options.avoid ?? new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const relation of relations) {
      const members = [relation.parent, ...relation.children];
      if (members.filter((m) => hidden.has(m)).length !== 1) continue;
      const complement = chooseComplement(relation, hidden, avoid, value);
      if (complement === undefined) continue;
      hidden.add(complement);
      changed = true;
    }
  }
  return hidden;
}

function chooseComplement(relation: CellRelation, hidden: ReadonlySet<string>, avoid: ReadonlySet<string>, value: (cell: string) => number): string | undefined {
  const open = relation.children.filter((c) => !hidden.has(c) && !avoid.has(c));
  const nonZero = open.filter((c) => value(c) > 0).sort((a, b) => value(a) - value(b));
  if (nonZero.length > 0) return nonZero[0];
  if (!hidden.has(relation.parent) && !avoid.has(relation.parent)) return relation.parent;
  if (open.length > 0) return open[0];
  if (!hidden.has(relation.parent)) return relation.parent;
  return relation.children.find((c) => !hidden.has(c));
}
