// The WebSocket of the oral interview and of the written test's monitoring
// (docs/signaling.md): JSON text frames tagged by `type`, authenticated by the session
// cookie. Every connection starts with one greeting (`join`, or `monitor`);
// a dropped connection is opened again after a growing delay (1 s, 2 s, 4 s… up to
// 15 s, with some jitter so a whole room does not come back in the same instant).

const FIRST_DELAY_MS = 1000;
const LONGEST_DELAY_MS = 15000;

/** The address of a signaling socket (`/ws`, or `/ws/monitor`) on this page's host. */
export function signalingUrl(path = '/ws') {
  return (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + path;
}

/** The wait before attempt `n` (1, 2, 3…) after a drop. */
export function retryDelay(n) {
  const base = Math.min(LONGEST_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, n - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * Connects to the room `room` and keeps the connection up until `close()`.
 *
 * `hello` is the first message of every connection (`{ type: 'join', room }` unless
 * given). `onMessage(msg)` receives every server message (parsed). `onStatus(status,
 * info)` follows the connection: `connecting`, `open` (`hello` was just sent), `retrying`
 * (`info.delay` ms before the next attempt, `info.attempt`, `info.everOpened`) and
 * `closed` (after `close()`).
 *
 * Returns `{ send(msg) → boolean, rejoin(), reconnect(), close(leave) , isOpen() }`.
 */
export function connectSignaling(room, { onMessage, onStatus = () => {}, hello = { type: 'join', room }, path = '/ws' }) {
  let socket = null;
  let timer = null;
  let stopped = false;
  let failures = 0; // connections in a row that dropped before the server answered
  let everOpened = false;

  function open() {
    timer = null;
    if (stopped) return;
    onStatus('connecting', { attempt: failures });
    let ws;
    try {
      ws = new WebSocket(signalingUrl(path));
    } catch {
      retry();
      return;
    }
    socket = ws;
    ws.addEventListener('open', () => {
      if (socket !== ws) return;
      everOpened = true;
      ws.send(JSON.stringify(hello));
      onStatus('open', { attempt: failures });
    });
    ws.addEventListener('message', (event) => {
      if (socket !== ws || typeof event.data !== 'string') return;
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!msg || typeof msg.type !== 'string') return;
      // The server took the join: the next drop starts the delays from the beginning.
      if (msg.type !== 'error') failures = 0;
      onMessage(msg);
    });
    ws.addEventListener('close', () => {
      if (socket !== ws) return;
      socket = null;
      retry();
    });
  }

  function retry() {
    if (stopped || timer) return;
    failures += 1;
    const delay = retryDelay(failures);
    onStatus('retrying', { attempt: failures, delay, everOpened });
    timer = setTimeout(open, delay);
  }

  // Back online: no reason to sit out the rest of a long delay.
  function online() {
    if (stopped || !timer) return;
    clearTimeout(timer);
    open();
  }
  window.addEventListener('online', online);

  open();

  return {
    /** Sends a message now; false when the connection is down (nothing is queued). */
    send(msg) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(msg));
      return true;
    },
    isOpen() {
      return Boolean(socket && socket.readyState === WebSocket.OPEN);
    },
    /** Knocks again (after `expired`): on the open connection, or on a new one. */
    rejoin() {
      stopped = false;
      window.addEventListener('online', online);
      if (socket && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify(hello));
        onStatus('open', { attempt: 0 });
      } else if (!socket) {
        if (timer) clearTimeout(timer);
        timer = null;
        open();
      }
    },
    /** Drops the connection and opens a new one (the server then grants a fresh start). */
    reconnect() {
      if (stopped) return;
      const ws = socket;
      socket = null;
      if (ws) ws.close(1000);
      if (timer) clearTimeout(timer);
      timer = null;
      retry();
    },
    /** Closes for good; with `leave`, says so to the server first. */
    close(leave = false) {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      window.removeEventListener('online', online);
      const ws = socket;
      socket = null;
      if (ws) {
        if (leave && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'leave' }));
        ws.close(1000);
      }
      onStatus('closed', {});
    },
  };
}
