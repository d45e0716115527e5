// HTTPS: `langcert serve --tls-cert --tls-key` serves the camera pages in a secure
// context (a self-signed certificate that this Chromium trusts by its key), reloads a
// renewed certificate on SIGHUP, and the documented nginx configuration
// (docs/deploy/nginx-tls.conf) serves the same pages as a TLS-terminating proxy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, copyFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setUp, openAs, cameraContext, startServer } from './harness.mjs';

const HOST = 'langcert.test';
const dir = mkdtempSync(join(tmpdir(), 'langcert-tls-'));
let proxied;
let nginx;

/** A self-signed certificate for HOST; returns its files and the base64 SHA-256 of its key. */
function certificate(name) {
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}-cert.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST}`], { stdio: 'ignore' });
  const der = execFileSync('openssl', ['pkey', '-in', key, '-pubout', '-outform', 'DER']);
  const spki = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der }).toString('base64');
  return { key, cert, spki };
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** The SHA-256 fingerprint of the certificate a TLS server presents. */
function presented(port) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: HOST, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

function fingerprint(certFile) {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

/** A printed link, on HOST instead of the address. */
const onHost = (url) => url.replace('127.0.0.1', HOST);

const first = certificate('first');
const second = certificate('second');
// The server's files: the first certificate now, the second after the renewal.
const live = { cert: join(dir, 'live-cert.pem'), key: join(dir, 'live-key.pem') };
copyFileSync(first.cert, live.cert);
copyFileSync(first.key, live.key);

const env = setUp({
  serverArgs: ['--tls-cert', live.cert, '--tls-key', live.key],
  launchOptions: {
    args: [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`, `--ignore-certificate-errors-spki-list=${first.spki},${second.spki}`],
  },
  cleanUp: async () => {
    nginx?.kill('SIGTERM');
    await proxied?.stop();
    rmSync(dir, { recursive: true, force: true });
  },
});

/** The camera pages of a candidate on `base`: a secure context, the camera preview of
 * the system check, the identity capture reaching the server, the monitoring socket. */
async function cameraPages(base, link) {
  const context = await cameraContext(env.browser);
  const { page } = await openAs(context, link);
  assert.equal(new URL(page.url()).protocol, 'https:');
  assert.equal(await page.evaluate(() => window.isSecureContext), true, 'a secure context');
  const cookie = (await context.cookies()).find((c) => c.name === 'langcert_session');
  assert.equal(cookie.secure, true, 'the session cookie is Secure');

  await page.goto(`${base}/static/check.html`);
  await page.getByTestId('cam-start').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="cam-preview"]').videoWidth > 0, null, { timeout: 10_000 });

  const res = await page.goto(`${base}/static/identity.html`);
  assert.match(res.headers()['strict-transport-security'] ?? '', /max-age=/);
  const capture = page.getByTestId('capture-selfie');
  await page.waitForFunction(() => document.querySelector('[data-testid="identity-camera"]')?.videoWidth > 0);
  const sent = page.waitForResponse((r) => r.url().endsWith('/api/v1/me/identity/selfie') && r.request().method() === 'PUT');
  await capture.click();
  const answer = await sent;
  // The fake camera shows no face: the server analysed the picture and said so.
  assert.equal(answer.status(), 422);
  assert.equal((await answer.json()).error.code, 'no_face');

  // The monitoring WebSocket over wss://, authenticated by the session cookie.
  const reply = await page.evaluate(() => new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://${location.host}/ws/monitor`);
    ws.onopen = () => ws.send(JSON.stringify({ type: 'monitor' }));
    ws.onmessage = (m) => { resolve(JSON.parse(m.data)); ws.close(); };
    ws.onerror = () => reject(new Error('the WebSocket failed'));
  }));
  assert.ok(reply.type, `the monitor answered: ${JSON.stringify(reply)}`);
  await context.close();
}

test('the camera pages over the server\'s own HTTPS', async () => {
  assert.match(env.server.base, /^https:\/\//);
  await cameraPages(onHost(env.server.base), onHost(env.server.links.candidate));
});

test('plain HTTP on the TLS port is refused, a renewed certificate is used after SIGHUP', async () => {
  const port = Number(new URL(env.server.base).port);
  // Plain HTTP gets no page.
  const plain = await new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write('GET /app/ HTTP/1.1\r\nHost: x\r\n\r\n'));
    let got = '';
    s.on('data', (d) => { got += d; });
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
  });
  assert.doesNotMatch(plain, /200 OK/);

  assert.equal(await presented(port), fingerprint(first.cert));
  copyFileSync(second.cert, live.cert);
  copyFileSync(second.key, live.key);
  process.kill(env.server.pid, 'SIGHUP');
  let now = '';
  for (let i = 0; i < 50 && now !== fingerprint(second.cert); i++) {
    await new Promise((r) => setTimeout(r, 100));
    now = await presented(port);
  }
  assert.equal(now, fingerprint(second.cert), 'the renewed certificate is presented');

  // A broken file on reload keeps the certificate in use.
  writeFileSync(live.cert, 'not a certificate');
  process.kill(env.server.pid, 'SIGHUP');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await presented(port), fingerprint(second.cert));
  const health = await new Promise((resolve, reject) => {
    const req = tls.connect({ host: '127.0.0.1', port, servername: HOST, rejectUnauthorized: false }, () =>
      req.write(`GET /healthz HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`));
    let got = '';
    req.on('data', (d) => { got += d; });
    req.on('end', () => resolve(got));
    req.on('error', reject);
  });
  assert.match(health, /^HTTP\/1.1 200/);
});

test('the documented nginx configuration terminates TLS for the same pages', async () => {
  const port = await freePort();
  const upstream = await freePort();
  proxied = await startServer(['--http', `127.0.0.1:${upstream}`, '--trust-proxy', '--public-url', `https://${HOST}:${port}`]);
  const example = readFileSync(new URL('../../docs/deploy/nginx-tls.conf', import.meta.url), 'utf8');
  const site = example
    .replace('server 127.0.0.1:8080;', `server 127.0.0.1:${upstream};`)
    .replace('listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`)
    .replace('server_name langcert.example.org;', `server_name ${HOST};`)
    .replace('/etc/ssl/langcert/fullchain.pem', first.cert)
    .replace('/etc/ssl/langcert/privkey.pem', first.key);
  assert.notEqual(site, example);
  writeFileSync(join(dir, 'site.conf'), site);
  writeFileSync(join(dir, 'nginx.conf'), `pid ${dir}/nginx.pid;\nerror_log ${dir}/nginx-error.log;\n` +
    `events {}\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n` +
    `  include ${dir}/site.conf;\n}\n`);
  const bin = process.env.NGINX || '/usr/sbin/nginx';
  execFileSync(bin, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off; user root;'], { stdio: 'pipe' });
  nginx = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off; user root;'], { stdio: 'inherit' });
  for (let i = 0; i < 50; i++) {
    try { await presented(port); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  assert.match(proxied.links.candidate, new RegExp(`^https://${HOST}:${port}/signin/`));
  await cameraPages(`https://${HOST}:${port}`, proxied.links.candidate);
});
