/**
 * Client-side budgets for the Graph limits the product can reach, so a large run waits on its own budget instead of
 * collecting 429s. Numbers from "Microsoft Graph service-specific throttling limits"
 * (https://learn.microsoft.com/graph/throttling-limits):
 * - identity and access, per app and tenant: 3,000 writes per 2 minutes 30 seconds, and a resource-unit quota of
 *   3,500 per 10 seconds for the smallest tenants (5,000 and 8,000 for larger ones; we design to the smallest);
 * - identity and access, per tenant for all apps: 18,000 writes per 5 minutes;
 * - Microsoft Teams, per app per tenant: 30 requests per second, and 4 requests per second per team.
 *
 * Budgets are sliding windows kept in this process. A deployment holds one gateway (app/compose.ts) and each
 * school's provisioning run holds the school's lease, so one process does a school's heavy writes at a time; two
 * instances running two schools of one tenant at once could together pass a budget, and Graph's Retry-After
 * (honoured by GraphBatchClient) covers that rarer case without sharing a counter per request through storage.
 */
export interface GraphBudget {
  name: string;
  limit: number;
  windowMs: number;
}

export const GRAPH_BUDGETS = {
  identityWrites: { name: 'identity-writes', limit: 3_000, windowMs: 150_000 },
  identityTenantWrites: { name: 'identity-tenant-writes', limit: 18_000, windowMs: 300_000 },
  identityResourceUnits: { name: 'identity-resource-units', limit: 3_500, windowMs: 10_000 },
  teams: { name: 'teams', limit: 30, windowMs: 1_000 },
  perTeam: { name: 'team', limit: 4, windowMs: 1_000 },
} as const satisfies Record<string, GraphBudget>;

/** Resource units a request costs against the identity quota: the doc's costs are 1 to 5; writes and list queries are counted high. */
const IDENTITY_COST = { read: 2, write: 3 } as const;

/** What one request spends: budget key → units. */
export function costOf(request: { method: string; url: string }): Map<string, number> {
  const cost = new Map<string, number>();
  const path = request.url.split('?')[0] ?? '';
  const write = request.method !== 'GET';
  const team = /^\/teams\/([^/]+)/.exec(path);
  if (team || /^\/(teamwork|appCatalogs|chats)\b/.test(path) || /^\/admin\/teams\b/.test(path) || /^\/users\/[^/]+\/(teamwork|onlineMeetings)\b/.test(path)) {
    cost.set(GRAPH_BUDGETS.teams.name, 1);
    if (team) cost.set(`${GRAPH_BUDGETS.perTeam.name}:${team[1]}`, 1);
    return cost;
  }
  if (/^\/(users|groups|directoryObjects|servicePrincipals|applications|subscribedSkus|organization|policies|admin)\b/.test(path)) {
    cost.set(GRAPH_BUDGETS.identityResourceUnits.name, write ? IDENTITY_COST.write : IDENTITY_COST.read);
    if (write) {
      cost.set(GRAPH_BUDGETS.identityWrites.name, 1);
      cost.set(GRAPH_BUDGETS.identityTenantWrites.name, 1);
    }
  }
  return cost;
}

/** A sliding window: the times of the units spent in the last `windowMs`, oldest first. */
class Window {
  private readonly spent: number[] = [];
  constructor(readonly budget: Pick<GraphBudget, 'limit' | 'windowMs'>) {}

  /** When `units` more may be spent, at or after `now`. */
  earliest(units: number, now: number): number {
    this.forget(now);
    const over = this.spent.length + units - this.budget.limit;
    if (over <= 0) return now;
    // The unit that must age out before there is room for these.
    const t = this.spent[Math.min(over, this.spent.length) - 1];
    // A little past the window: Graph counts a request when it arrives, a moment after we spent it here.
    const margin = Math.min(1_000, Math.max(100, this.budget.windowMs / 50));
    return t === undefined ? now : t + this.budget.windowMs + margin;
  }

  spend(units: number, at: number): void {
    for (let i = 0; i < units; i++) this.spent.push(at);
  }

  /**
   * Moves `units` spent at `from` to `to` (the latest time yet, so the list stays in order). Units of other batches
   * spent at the same moment are indistinguishable from these, so which ones move does not matter.
   */
  restamp(units: number, from: number, to: number): void {
    let moved = 0;
    for (let i = this.spent.length - 1; i >= 0 && moved < units; i--) {
      if (this.spent[i] === from) {
        this.spent.splice(i, 1);
        moved += 1;
      }
    }
    for (let i = 0; i < moved; i++) this.spent.push(to);
  }

  private forget(now: number): void {
    let drop = 0;
    while (drop < this.spent.length && (this.spent[drop] as number) <= now - this.budget.windowMs) drop++;
    if (drop > 0) this.spent.splice(0, drop);
  }
}

/** What `acquire` spent, for `answered`. */
export interface PacingReceipt {
  total: ReadonlyMap<string, number>;
  spentAt: number;
}

/** Waits until a batch's requests fit every budget they touch, then spends them. */
export class GraphPacer {
  private readonly windows = new Map<string, Window>();
  /** Time spent waiting on budgets, for benchmarks. */
  waitedMs = 0;

  constructor(
    private readonly options: { budgets?: Partial<Record<keyof typeof GRAPH_BUDGETS, Pick<GraphBudget, 'limit' | 'windowMs'>>>; now?: () => number; sleep?: (ms: number) => Promise<void> } = {},
  ) {}

  /**
   * Waits until the requests fit every budget they touch and spends them. The answer is a receipt: pass it to
   * `answered` when the batch's response arrives.
   */
  async acquire(requests: readonly { method: string; url: string }[]): Promise<PacingReceipt> {
    const now = this.options.now ?? Date.now;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const total = new Map<string, number>();
    for (const request of requests) for (const [key, units] of costOf(request)) total.set(key, (total.get(key) ?? 0) + units);
    for (;;) {
      const at = now();
      let ready = at;
      for (const [key, units] of total) ready = Math.max(ready, this.window(key).earliest(units, at));
      if (ready <= at) {
        for (const [key, units] of total) this.window(key).spend(units, at);
        return { total, spentAt: at };
      }
      this.waitedMs += ready - at;
      await sleep(ready - at);
    }
  }

  /**
   * Graph counts a request when it arrives, somewhere between our send and its answer; a loaded event loop or a
   * slow network can put that well after `acquire`. Counting the units from the answer instead means our window
   * never frees room before Graph's does, whatever the delay, at the cost of one round trip per window.
   */
  answered(receipt: PacingReceipt, at?: number): void {
    const now = at ?? (this.options.now ?? Date.now)();
    if (now <= receipt.spentAt) return;
    for (const [key, units] of receipt.total) this.window(key).restamp(units, receipt.spentAt, now);
  }

  private window(key: string): Window {
    let window = this.windows.get(key);
    if (!window) {
      const name = key.split(':')[0] as string;
      const entry = (Object.entries(GRAPH_BUDGETS) as [keyof typeof GRAPH_BUDGETS, GraphBudget][]).find(([, b]) => b.name === name);
      const budget = (entry && this.options.budgets?.[entry[0]]) ?? entry?.[1] ?? { limit: Number.MAX_SAFE_INTEGER, windowMs: 1 };
      window = new Window(budget);
      this.windows.set(key, window);
    }
    return window;
  }
}
