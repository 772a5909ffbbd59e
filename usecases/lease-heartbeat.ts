/**
 * Keeps a lease or claim alive while its holder works: renews it every third of its lifetime, so a holder that
 * dies (a crash, `kill -9`, a lost instance) leaves a lease that expires within `ttlMs`, while a live one never
 * loses it to a slow step. When a renewal says the lease is someone else's now, or renewals have failed for
 * longer than the lease lasts, `onLost` fires once and the holder must stop at its next step.
 */
export interface Heartbeat {
  stop(): void;
  /** Why the lease was lost, once it has been. */
  readonly lost: string | undefined;
}

export function startHeartbeat(options: {
  ttlMs: number;
  /** Resolves false when the lease is no longer ours. */
  renew: () => Promise<boolean>;
  onLost: (reason: string) => void;
  now?: () => number;
}): Heartbeat {
  const now = options.now ?? Date.now;
  let lastRenewed = now();
  let lost: string | undefined;
  let inFlight = false;
  const lose = (reason: string): void => {
    if (lost) return;
    lost = reason;
    clearInterval(timer);
    options.onLost(reason);
  };
  const timer = setInterval(
    () => {
      if (inFlight || lost) return;
      inFlight = true;
      options
        .renew()
        .then((ours) => {
          if (ours) lastRenewed = now();
          else lose('the lease was taken over by another run');
        })
        .catch(() => {
          // Storage unreachable: keep trying while the lease may still be ours, then stop rather than overlap.
          if (now() - lastRenewed >= options.ttlMs) lose('the lease could not be renewed');
        })
        .finally(() => {
          inFlight = false;
        });
    },
    Math.max(50, Math.floor(options.ttlMs / 3)),
  );
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    get lost() {
      return lost;
    },
  };
}
