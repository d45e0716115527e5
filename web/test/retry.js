// Waiting between attempts to reach the server: 1 s, 2 s, 4 s… up to 15 s, with a
// little jitter so many candidates cut off together do not come back together.

/** The delay before attempt `n` (1 for the first retry). `random` is in [0, 1). */
export function retryDelayMs(n, random) {
  const base = Math.min(15_000, 1000 * 2 ** Math.max(0, n - 1));
  return Math.round(base * (0.8 + 0.4 * random));
}

/**
 * Resolves after `ms`, or sooner when the browser says it is back online or
 * `wake` (a function receiving a callback) is used, e.g. by a "retry now" button.
 */
export function waitOrWake(ms, wake) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      window.removeEventListener('online', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    window.addEventListener('online', done);
    if (wake) wake(done);
  });
}
