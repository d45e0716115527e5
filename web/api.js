// How the pages call the API: JSON in and out, the session cookie (and the token of
// the sign-in page when it kept one), errors as `{ code, message }`. A request that
// never got an answer throws NetworkError, so callers can retry it.

/** The request never reached the server or its answer never came back. */
export class NetworkError extends Error {}

function headers(type) {
  const h = {};
  if (type) h['Content-Type'] = type;
  const token = sessionStorage.getItem('langcert.token');
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

// `raw` is `{ type, text }` for a body that is not JSON (a CSV import, a photo's Blob).
async function send(method, path, body, raw) {
  try {
    return await fetch(path, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: headers(raw ? raw.type : body !== undefined ? 'application/json' : null),
      body: raw ? raw.text : body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new NetworkError(e.message);
  }
}

/**
 * Calls the API and reads a JSON answer.
 * Resolves to `{ ok, status, data, code, message }`; `code` and `message` come from
 * an error body. Throws NetworkError when there was no answer at all.
 */
export async function api(method, path, body) {
  return answer(await send(method, path, body));
}

/**
 * Like api(), with a body sent as is under its own type: text (`text/csv`) or a Blob
 * (an `image/jpeg` photo). The answer is read as JSON.
 */
export async function apiText(method, path, text, type) {
  return answer(await send(method, path, undefined, { type, text }));
}

async function answer(res) {
  let data = null;
  if (res.status !== 204) {
    try {
      data = await res.json();
    } catch {
      if (res.ok) throw new NetworkError('truncated answer');
    }
  }
  const error = !res.ok && data && data.error ? data.error : {};
  return { ok: res.ok, status: res.status, data, code: error.code ?? null, message: error.message ?? res.statusText };
}

/**
 * Calls the API for bytes (a listening clip). Resolves to `{ ok, status, blob, code,
 * message }`; throws NetworkError when there was no complete answer.
 */
export async function apiBlob(method, path) {
  const res = await send(method, path);
  if (res.ok) {
    try {
      return { ok: true, status: res.status, blob: await res.blob(), code: null, message: '' };
    } catch (e) {
      throw new NetworkError(e.message);
    }
  }
  const data = await res.json().catch(() => null);
  const error = data && data.error ? data.error : {};
  return { ok: false, status: res.status, blob: null, code: error.code ?? null, message: error.message ?? res.statusText };
}

// Sessions last 30 minutes and the written test about 50: while a page is open, the
// session is renewed every 10 minutes (a new cookie, and the kept token replaced).
const RENEW_MS = 10 * 60 * 1000;
setInterval(async () => {
  try {
    const res = await send('POST', '/api/v1/auth/refresh');
    if (res.ok) {
      const session = await res.json();
      if (sessionStorage.getItem('langcert.token')) sessionStorage.setItem('langcert.token', session.token);
    }
  } catch {
    // Offline for now: the next round tries again, and the retry logic covers answers.
  }
}, RENEW_MS);
