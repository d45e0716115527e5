// Networks that block UDP. A network that lets nothing through but a TURN server: both
// browsers are forced to relay only (`iceTransportPolicy: 'relay'`), through Debian's
// coturn on loopback, with the time-limited credentials the server hands out with each
// media grant (--turn-url/--turn-secret). A network that lets TCP through: the server's
// UDP candidates are taken out of what the browsers receive, leaving its passive ICE-TCP
// candidate on the media port. Either way the interview's videos play both ways, over the
// kind of connection the network allows.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cameraContext, setUp, openAs, trackPeers, playing } from './harness.mjs';

const SECRET = `relay-test-${process.pid}`;

/** A TCP port free now (coturn listens on it, UDP and TCP). */
async function freePort() {
  const server = createServer();
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

const turnPort = await freePort();
const turnDir = mkdtempSync(join(tmpdir(), 'langcert-turn-'));
let turn = null;

before(async () => {
  turn = spawn('turnserver', [
    '-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${turnPort}`,
    '--use-auth-secret', `--static-auth-secret=${SECRET}`, '--realm=langcert.test',
    '--allow-loopback-peers', '--no-cli', '--no-tls', '--no-dtls', '--fingerprint',
    '--min-port=49152', '--max-port=49999', '--log-file=stdout', '--simple-log',
    `--pidfile=${join(turnDir, 'turn.pid')}`, `--db=${join(turnDir, 'turndb')}`,
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  // Ready once it says it listens.
  await new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`coturn did not start: ${seen}`)), 15_000);
    turn.on('exit', (code) => reject(new Error(`coturn exited (${code}): ${seen}`)));
    turn.stdout.on('data', (chunk) => {
      seen += chunk;
      if (seen.includes('Total General servers')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  turn.stdout.resume();
});

after(() => {
  turn?.kill('SIGTERM');
  rmSync(turnDir, { recursive: true, force: true });
});

// Every connection the page makes is relay-only, whatever the page asks for.
const relayOnly = () => {
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = function (config = {}) {
    return new Native({ ...config, iceTransportPolicy: 'relay' });
  };
  window.RTCPeerConnection.prototype = Native.prototype;
};

// No UDP between the page and the server: neither side learns the other's UDP
// candidates (taken out of the descriptions both ways), so only TCP pairs can form.
const tcpOnly = () => {
  const withoutUdp = (sdp) => sdp.split('\r\n').filter((l) => !/^a=candidate:\S+ \d+ udp /i.test(l)).join('\r\n');
  const proto = RTCPeerConnection.prototype;
  const setRemote = proto.setRemoteDescription;
  proto.setRemoteDescription = function (description, ...rest) {
    return setRemote.call(this, { type: description.type, sdp: withoutUdp(description.sdp) }, ...rest);
  };
  const local = Object.getOwnPropertyDescriptor(proto, 'localDescription');
  Object.defineProperty(proto, 'localDescription', {
    configurable: true,
    get() {
      const description = local.get.call(this);
      return description && { type: description.type, sdp: withoutUdp(description.sdp) };
    },
  });
};

/** The local candidates (type and protocol) of the page's selected pairs. */
async function selectedCandidates(page) {
  return page.evaluate(async () => {
    const found = [];
    for (const pc of window.__pcs) {
      if (pc.connectionState !== 'connected') continue;
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
          const local = stats.get(s.localCandidateId);
          found.push({ type: local?.candidateType, protocol: local?.protocol });
        }
      });
    }
    return found;
  });
}

/** An interview on `env`'s server between the demo candidate and evaluator, each page
 * with `network` (an init script) applied; returns, once both videos play, the pages'
 * selected local candidates. */
async function interviewThrough(env, network) {
  const adminContext = await env.browser.newContext({ locale: 'fr-FR' });
  const { page: admin } = await openAs(adminContext, env.server.links.centre_admin);
  const evaluatorContext = await cameraContext(env.browser);
  await evaluatorContext.addInitScript(network);
  await evaluatorContext.addInitScript(trackPeers);
  const { page: evaluatorPage } = await openAs(evaluatorContext, env.server.links.evaluator);
  const evaluatorId = await evaluatorPage.evaluate(async () => (await (await fetch('/api/v1/me')).json()).id);
  const { candidate, interview } = await admin.evaluate(async (evaluator) => {
    const candidates = await (await fetch('/api/v1/candidates')).json();
    const res = await fetch('/api/v1/interviews', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ candidate_id: candidates[0].id, evaluator_id: evaluator, scheduled_at: new Date(Date.now() + 5 * 60e3).toISOString() }),
    });
    if (res.status !== 201) throw new Error(await res.text());
    return { candidate: candidates[0].id, interview: (await res.json()).id };
  }, evaluatorId);

  const candidateContext = await cameraContext(env.browser);
  await candidateContext.addInitScript(network);
  await candidateContext.addInitScript(trackPeers);
  const { page: candidatePage } = await openAs(candidateContext, env.server.links.candidate);
  await candidatePage.goto(`${env.server.base}/interview/${interview}`);
  await candidatePage.waitForFunction(() => document.querySelector('[data-testid="local-video"]')?.videoWidth > 0, null, { timeout: 15_000 });
  await candidatePage.getByTestId('join-waiting').click();
  await candidatePage.getByTestId('waiting').waitFor();
  await evaluatorPage.goto(`${env.server.base}/static/evaluator-interview.html?id=${interview}`);
  await evaluatorPage.getByTestId(`waiting-${candidate}`).waitFor({ timeout: 15_000 });
  await evaluatorPage.getByTestId(`admit-${candidate}`).click();

  await playing(candidatePage);
  await playing(evaluatorPage);
  const selected = [...await selectedCandidates(candidatePage), ...await selectedCandidates(evaluatorPage)];
  await adminContext.close();
  await evaluatorContext.close();
  await candidateContext.close();
  return selected;
}

describe('a TURN server only', () => {
  const env = setUp({
    serverArgs: ['--turn-url', `turn:127.0.0.1:${turnPort}?transport=udp`, '--turn-secret', SECRET],
  });
  test('relay only, through coturn: both videos play, over relayed pairs', async () => {
    const selected = await interviewThrough(env, relayOnly);
    assert.ok(selected.length >= 2 && selected.every((c) => c.type === 'relay'), `relayed pairs only: ${JSON.stringify(selected)}`);
  });
});

describe('TCP only', () => {
  const env = setUp();
  test('no UDP to the server: both videos play over ICE-TCP on the media port', async () => {
    const selected = await interviewThrough(env, tcpOnly);
    assert.ok(selected.length >= 2 && selected.every((c) => c.protocol === 'tcp'), `TCP pairs only: ${JSON.stringify(selected)}`);
  });
});
