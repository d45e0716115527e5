// Test harness: starts the langcert binary on a free port with a fresh data folder and
// drives Debian's Chromium (playwright-core) with a fake camera and microphone.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

const BIN = process.env.LANGCERT_BIN;
if (!BIN) throw new Error('set LANGCERT_BIN to the langcert binary (scripts/test does)');

/** Starts a server; resolves to { base, links: {role: url}, dataDir, pid, newLinks(),
 * stop() }. The links are single-use: `newLinks()` replaces them with fresh ones (as
 * `langcert demo links` prints them). */
export async function startServer(extraArgs = []) {
  const dataDir = mkdtempSync(join(tmpdir(), 'langcert-browser-'));
  // A free port unless the caller names one.
  const http = extraArgs.includes('--http') ? [] : ['--http', '127.0.0.1:0'];
  const media = extraArgs.includes('--media-udp') ? [] : ['--media-udp', '127.0.0.1:0'];
  const child = spawn(BIN, ['serve', ...http, ...media, '--data-dir', dataDir, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, RUST_LOG: process.env.LANGCERT_TEST_LOG || 'warn' },
  });
  const lines = createInterface({ input: child.stdout });
  const links = {};
  let base = '';
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`langcert exited with ${code}`)));
    lines.on('line', (line) => {
      const listening = line.match(/listening on (https?:\/\/\S+)/);
      if (listening) base = listening[1];
      const link = line.match(/^\s+(\w+)\s+(http\S+)$/);
      if (link) links[link[1]] = link[2];
      if (line.startsWith('API description')) resolve();
    });
  });
  return {
    base,
    links,
    dataDir,
    pid: child.pid,
    newLinks() {
      const out = execFileSync(BIN, ['demo', 'links', '--data-dir', dataDir, '--public-url', base], { encoding: 'utf8' });
      for (const line of out.split('\n')) {
        const link = line.match(/^\s+(\w+)\s+(http\S+)$/);
        if (link) links[link[1]] = link[2];
      }
      return links;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Every Content Security Policy violation reported in any page of any browser launched
 * here; closing a browser fails (and so fails the test file) when there was one.
 */
export const cspViolations = [];

function watchCsp(context) {
  const record = (page) =>
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) cspViolations.push(`${page.url()}: ${msg.text()}`);
    });
  context.on('page', record);
  // Violations that print nothing (an inline style set by a script) are reported too.
  return context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
  });
}

/** Launches headless Chromium with fake media devices; resolves to { browser, context }. */
export async function launch({ args = [], contextOptions = {} } = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-gpu',
      ...args,
    ],
  });
  // Every context of this browser is watched, also those the tests open themselves.
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options = {}) => {
    const c = await newContext({ ...contextOptions, ...options });
    await watchCsp(c);
    return c;
  };
  const context = await cameraContext(browser);
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    if (cspViolations.length) throw new Error(`Content Security Policy violations:\n${cspViolations.join('\n')}`);
  };
  return { browser, context };
}

/** A new context of `browser` as a candidate's or an evaluator's: the camera and the
 * microphone allowed, the pages in French; `options` add to it. */
export function cameraContext(browser, options = {}) {
  return browser.newContext({ permissions: ['camera', 'microphone'], locale: 'fr-FR', ...options });
}

/**
 * A test file's set-up: `before` its tests, a server started with `serverArgs` and a
 * browser launched with `launchOptions` (or with what that async function resolves to,
 * for options that need a file made first); `after` them, the browser closed (failing on
 * a CSP violation), the server stopped, then `cleanUp()` for what the file made. Returns
 * the environment whose `server`, `browser` and `context` (the browser's camera context)
 * are set once `before` has run.
 */
export function setUp({ serverArgs = [], launchOptions = {}, cleanUp } = {}) {
  const env = { server: null, browser: null, context: null };
  before(async () => {
    env.server = await startServer(serverArgs);
    const options = typeof launchOptions === 'function' ? await launchOptions() : launchOptions;
    Object.assign(env, await launch(options));
  });
  after(async () => {
    try {
      await env.browser?.close();
    } finally {
      try {
        await env.server?.stop();
      } finally {
        await cleanUp?.();
      }
    }
  });
  return env;
}

/** A new page of `context` signed in through `link`; `errors` collects the messages of
 * the page's uncaught exceptions (a test asserts there were none). */
export async function openAs(context, link) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, link);
  return { page, errors };
}

/** Signs in through a single-use link, as a candidate does from the e-mail. */
export async function signIn(page, link) {
  await page.goto(link);
  await page.getByRole('button').first().click();
  await page.waitForURL('**/app/');
}

/** The identity step through the API, the fixture photo as selfie and document (the
 * capture page itself is tested in proctoring.test.mjs). */
export async function identityByApi(page) {
  const photo = [...readFileSync(new URL('../../models/fixtures/astronaut.png', import.meta.url))];
  await page.evaluate(async (bytes) => {
    const body = new Uint8Array(bytes);
    for (const capture of ['selfie', 'document']) {
      const res = await fetch(`/api/v1/me/identity/${capture}`, { method: 'PUT', headers: { 'Content-Type': 'image/png' }, body });
      if (!res.ok) throw new Error(`identity ${capture}: ${res.status} ${await res.text()}`);
    }
  }, photo);
}

/**
 * Holds the interview `room` through the real signaling, as the two rooms do without
 * their media: the candidate (signed in on `candidate`) knocks, the evaluator (on
 * `evaluator`) admits them, checks the ID, starts and ends. The server's lifecycle
 * must allow it: its room open (`--room-opens-before-min`) and a minimum time in
 * progress the test can wait (`--oral-min-minutes 0`).
 */
export async function holdInterview(candidate, evaluator, room) {
  const openSocket = () => {
    window.__interviewWs = new Promise((resolve, reject) => {
      const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
      const inbox = [];
      const waiters = [];
      ws.onmessage = (e) => {
        const msg = JSON.parse(e.data);
        if (msg.type === 'error') reject(new Error(`signaling: ${e.data}`));
        const i = waiters.findIndex((w) => w.type === msg.type);
        if (i >= 0) waiters.splice(i, 1)[0].resolve(msg);
        else inbox.push(msg);
      };
      ws.onerror = () => reject(new Error('signaling socket failed'));
      ws.onopen = () => resolve({
        ws,
        send: (m) => ws.send(JSON.stringify(m)),
        next: (type) => {
          const i = inbox.findIndex((m) => m.type === type);
          if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
          return new Promise((ok) => waiters.push({ type, resolve: ok }));
        },
      });
    });
  };
  await candidate.evaluate(openSocket);
  await candidate.evaluate(async (id) => {
    const s = await window.__interviewWs;
    s.send({ type: 'join', room: id });
    await s.next('waiting');
  }, room);
  await evaluator.evaluate(openSocket);
  await evaluator.evaluate(async (id) => {
    const s = await window.__interviewWs;
    s.send({ type: 'join', room: id });
    await s.next('joined');
    const list = await s.next('waiting_list');
    s.send({ type: 'admit', candidate: list.list[0].candidate });
    for (const [type, state] of [['id_checked', 'id_checked'], ['start', 'in_progress'], ['end', 'ended']]) {
      s.send({ type });
      const msg = await s.next('interview');
      if (msg.state !== state) throw new Error(`expected ${state}, got ${JSON.stringify(msg)}`);
    }
    s.ws.close();
  }, room);
  await candidate.evaluate(async () => (await window.__interviewWs).ws.close());
}

/** Runs the written test through the API from the page, with a profile and the identity
 * step first (its pages are tested elsewhere). */
export async function writtenTestByApi(page) {
  await identityByApi(page);
  await page.evaluate(async () => {
    const call = async (method, path, body) => {
      const res = await fetch(path, { method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
      if (!res.ok && res.status !== 204) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.status === 204 ? null : res.json();
    };
    await call('PUT', '/api/v1/me/profile', { birth_name: 'MARTIN', first_names: 'Camille', birth_date: '1994-05-17', sex: 'F', birth_commune: 'Lyon', birth_country: 'France' });
    let view = await call('POST', '/api/v1/written');
    const answer = (item) => {
      const gaps = item.gaps ? item.gaps.length : 0;
      switch (item.type) {
        case 'dropdown_gaps': return { selected: Array(gaps).fill(0) };
        case 'word_bank': return { placed: Array(item.gap_count).fill(null) };
        case 'text_gaps': return { typed: Array(gaps).fill('x') };
        case 'order_sentences': case 'order_words': return { order: item.shuffled.map((_, i) => i) };
        case 'listening': return item.response === 'choice' ? { choice: 0 } : { typed: Array(gaps).fill('x') };
        default: return { choice: 0 };
      }
    };
    while (view.status !== 'finished') {
      if (view.status === 'item') await call('POST', `/api/v1/written/${view.id}/answers`, { item_id: view.item.id, response: answer(view.item) });
      view = await call('GET', `/api/v1/written/${view.id}`);
    }
  });
}

/** An init script: keeps every RTCPeerConnection the page makes (`window.__pcs`), to
 * read its stats, and when its camera first went out (`window.__t0`). */
export const trackPeers = () => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Native(...args);
    window.__pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
  // When this page's camera first went out (for a recording's expected length).
  const poll = setInterval(async () => {
    for (const pc of window.__pcs) {
      const stats = await pc.getStats().catch(() => new Map());
      stats.forEach((st) => {
        if (!window.__t0 && st.type === 'outbound-rtp' && st.kind === 'video' && st.framesSent > 0) window.__t0 = performance.now();
      });
    }
    if (window.__t0) clearInterval(poll);
  }, 50);
};

/** What the page's live connections decoded so far (video frames, audio bytes). */
export async function inbound(page) {
  return page.evaluate(async () => {
    const out = { framesDecoded: 0, audioBytes: 0 };
    for (const pc of window.__pcs) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') out.framesDecoded += s.framesDecoded || 0;
        if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioBytes += s.bytesReceived || 0;
      });
    }
    return out;
  });
}

/** Waits for the remote video to play, then checks frames and audio keep coming. */
export async function playing(page) {
  await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid="remote-video"]');
    return v && v.videoWidth > 0;
  }, null, { timeout: 30_000 });
  const first = await inbound(page);
  await page.waitForTimeout(1500);
  const second = await inbound(page);
  assert.ok(second.framesDecoded > first.framesDecoded, `frames decoded keep increasing: ${first.framesDecoded} → ${second.framesDecoded}`);
  assert.ok(second.audioBytes > first.audioBytes, `audio arrives: ${first.audioBytes} → ${second.audioBytes}`);
}
