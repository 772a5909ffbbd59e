/** Just the part of the `adaptivecards` renderer library that checking a card needs. */
interface AdaptiveCardsLibrary {
  SerializationContext: new () => { eventCount: number; getEventAt(index: number): { message: string } };
  AdaptiveCard: new () => {
    parse(json: unknown, context: InstanceType<AdaptiveCardsLibrary['SerializationContext']>): void;
    validateProperties(): { validationEvents: { message: string }[] };
  };
}

// The package's `lib` build is ESM that Node cannot load through its `main`; the UMD bundle in `dist` works.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const AC = require('adaptivecards/dist/adaptivecards.js') as AdaptiveCardsLibrary;

/**
 * What the Adaptive Cards renderer says is wrong with a card: parse warnings (unknown element types,
 * invalid property values, versions) and validation failures (duplicate input ids, empty choice sets).
 * An empty list means Teams renders the card as built.
 */
export function parseCardProblems(card: unknown): string[] {
  const context = new AC.SerializationContext();
  const parsed = new AC.AdaptiveCard();
  parsed.parse(card, context);
  const problems: string[] = [];
  for (let i = 0; i < context.eventCount; i++) problems.push(`parse: ${context.getEventAt(i).message}`);
  for (const event of parsed.validateProperties().validationEvents) problems.push(`validate: ${event.message}`);
  return problems;
}

/** Every object in a card, depth first, so tests find inputs and text blocks wherever the layout puts them. */
export function cardElements(card: unknown): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (typeof node === 'object' && node !== null) {
      found.push(node as Record<string, unknown>);
      Object.values(node).forEach(visit);
    }
  };
  visit(card);
  return found;
}
