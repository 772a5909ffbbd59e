/**
 * Decides, with exact rational arithmetic, which linear quantities are determined by published figures.
 *
 * A quantity is a linear functional over unknown atoms (for example "incidents of type t in month m").
 * Everything shown is an equation `functional = value`. A quantity is determined when its functional lies in
 * the span of the shown ones: then some combination of shown figures gives its value, whatever the data.
 * Values are not needed for that, only the functionals.
 */
export type Functional = ReadonlyMap<string, bigint>;

class Fraction {
  constructor(
    readonly num: bigint,
    readonly den: bigint,
  ) {}
  static of(n: bigint): Fraction {
    return new Fraction(n, 1n);
  }
  static make(num: bigint, den: bigint): Fraction {
    if (den === 0n) throw new Error('Division by zero in the disclosure prover.');
    if (den < 0n) {
      num = -num;
      den = -den;
    }
    const g = gcd(num < 0n ? -num : num, den);
    return new Fraction(num / g, den / g);
  }
  isZero(): boolean {
    return this.num === 0n;
  }
  sub(o: Fraction): Fraction {
    return Fraction.make(this.num * o.den - o.num * this.den, this.den * o.den);
  }
  mul(o: Fraction): Fraction {
    return Fraction.make(this.num * o.num, this.den * o.den);
  }
  div(o: Fraction): Fraction {
    return Fraction.make(this.num * o.den, this.den * o.num);
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a === 0n ? 1n : a;
}

type Row = Map<string, Fraction>;

/** An echelon basis of everything a reader knows; `determines` answers whether a quantity follows from it. */
export class LinearKnowledge {
  private readonly basis: { pivot: string; row: Row }[] = [];

  /** Adds a known equation (its value does not matter for determinacy). */
  learn(functional: Functional): void {
    const row = this.reduce(toRow(functional));
    const pivot = row.keys().next();
    if (pivot.done) return;
    const lead = row.get(pivot.value)!;
    const normalised: Row = new Map();
    for (const [atom, c] of row) normalised.set(atom, c.div(lead));
    this.basis.push({ pivot: pivot.value, row: normalised });
  }

  /** True when the quantity's value follows from what is known. */
  determines(functional: Functional): boolean {
    return this.reduce(toRow(functional)).size === 0;
  }

  get rank(): number {
    return this.basis.length;
  }

  private reduce(row: Row): Row {
    for (const { pivot, row: b } of this.basis) {
      const factor = row.get(pivot);
      if (!factor) continue;
      for (const [atom, c] of b) {
        const next = (row.get(atom) ?? Fraction.of(0n)).sub(factor.mul(c));
        if (next.isZero()) row.delete(atom);
        else row.set(atom, next);
      }
    }
    return row;
  }
}

function toRow(functional: Functional): Row {
  const row: Row = new Map();
  for (const [atom, c] of functional) if (c !== 0n) row.set(atom, Fraction.of(c));
  return row;
}

/** The sum of the given atoms, each with coefficient 1. */
export function sumOf(atoms: Iterable<string>): Map<string, bigint> {
  const f = new Map<string, bigint>();
  for (const a of atoms) f.set(a, (f.get(a) ?? 0n) + 1n);
  return f;
}

/** `a − b`. */
export function minus(a: Functional, b: Functional): Map<string, bigint> {
  const f = new Map(a);
  for (const [atom, c] of b) f.set(atom, (f.get(atom) ?? 0n) - c);
  return f;
}

/** The functional without the atoms the reader already knows (their values are constants to them). */
export function withoutKnown(f: Functional, known: (atom: string) => boolean): Map<string, bigint> {
  return new Map([...f].filter(([atom, c]) => c !== 0n && !known(atom)));
}
