// A network that lets nothing through but a TURN server: both browsers are forced to
// relay only (`iceTransportPolicy: 'relay'`), through Debian's coturn on loopback, with
// the time-limited credentials the server hands out with each media grant
// (--turn-url/--turn-secret). The interview's videos still play both ways, and the
// connection in use is a relayed one.
import { test, before, after } from 'node:test';
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

const env = setUp({
  serverArgs: ['--turn-url', `turn:127.0.0.1:${turnPort}?transport=udp`, '--turn-secret', SECRET],
});

// Every connection the page makes is relay-only, whatever the page asks for.
const relayOnly = () => {
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = function (config = {}) {
    return new Native({ ...config, iceTransportPolicy: 'relay' });
  };
  window.RTCPeerConnection.prototype = Native.prototype;
};

/** The types of the candidates of the page's selected pairs (relay, host, …). */
async function selectedCandidateTypes(page) {
  return page.evaluate(async () => {
    const types = [];
    for (const pc of window.__pcs) {
      if (pc.connectionState !== 'connected') continue;
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
          types.push(stats.get(s.localCandidateId)?.candidateType);
        }
      });
    }
    return types;
  });
}

test('relay only, through coturn: both videos play, over a relayed pair', async () => {
  const adminContext = await env.browser.newContext({ locale: 'fr-FR' });
  const { page: admin } = await openAs(adminContext, env.server.links.centre_admin);
  const evaluatorContext = await cameraContext(env.browser);
  await evaluatorContext.addInitScript(relayOnly);
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
  await candidateContext.addInitScript(relayOnly);
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
  for (const page of [candidatePage, evaluatorPage]) {
    const types = await selectedCandidateTypes(page);
    assert.ok(types.length > 0 && types.every((t) => t === 'relay'), `relayed pairs only: ${JSON.stringify(types)}`);
  }
  await adminContext.close();
  await evaluatorContext.close();
  await candidateContext.close();
});
