// The server's clock as seen from the page. Views carry `server_now_ms`; the page
// keeps the offset to its own monotonic clock, so a wrong or changing computer clock
// never shortens or lengthens a question. No I/O: callers pass the instants.

/**
 * A clock from one server reading. `sentAt` and `receivedAt` are the page's
 * monotonic instants (performance.now()) around the request that brought
 * `serverNowMs`; the reading is taken as made halfway between them.
 */
export function serverClock(serverNowMs, sentAt, receivedAt) {
  const mid = (sentAt + receivedAt) / 2;
  return {
    /** The server's time (ms since the epoch) at the page's instant `at`. */
    now(at) {
      return serverNowMs + (at - mid);
    },
    /** The page's instant at which the server's clock reads `serverMs`. */
    at(serverMs) {
      return mid + (serverMs - serverNowMs);
    },
  };
}

/** A clock for the demo and practice: the page's own time is the reference. */
export function localClock(at) {
  return serverClock(Date.now(), at, at);
}
