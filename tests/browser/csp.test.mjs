// Every page, as every role, under the Content Security Policy the server sends: the
// policy is there, and no page breaks it (no inline script or style, nothing from
// another origin). The harness also fails any other browser test that breaks it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { cameraContext, setUp, openAs, cspViolations } from './harness.mjs';

const env = setUp();

// Every HTML page of web/, found on disk so that a new page is covered too.
const pages = [
  '/app/',
  '/static/test.html?mode=demo',
  '/interview/00000000-0000-0000-0000-000000000000',
  '/signin/not-a-link',
  '/verify/not-a-certificate',
  ...readdirSync(new URL('../../web/', import.meta.url))
    .filter((f) => f.endsWith('.html'))
    .map((f) => `/static/${f}`),
];

async function visit(page, path) {
  const res = await page.goto(`${env.server.base}${path}`, { waitUntil: 'load' });
  const csp = res.headers()['content-security-policy'] ?? '';
  assert.match(csp, /script-src 'self'/, `${path}: a policy`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${path}: no inline allowance`);
  assert.equal(res.headers()['x-content-type-options'], 'nosniff', path);
  // Let the page's modules run and render (its API calls, its timers).
  await page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => {});
  await page.waitForTimeout(300);
}

test('the watch catches a violation', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await visit(page, '/app/');
  const before = cspViolations.length;
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.inlineRan = true';
    document.body.append(s);
  });
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.inlineRan), undefined, 'the inline script did not run');
  assert.ok(cspViolations.length > before, 'the violation was recorded');
  // Take it back: it was made on purpose.
  cspViolations.splice(before);
  await context.close();
});

for (const role of ['candidate', 'evaluator', 'reviewer', 'centre_admin', 'platform_admin']) {
  test(`every page as ${role}, no violation`, async () => {
    const context = await cameraContext(env.browser);
    const { page } = await openAs(context, env.server.links[role]);
    const before = cspViolations.length;
    for (const path of pages) await visit(page, path);
    assert.deepEqual(cspViolations.slice(before), [], `${role}: no violation`);
    await context.close();
  });
}

test('every page signed out, no violation', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const before = cspViolations.length;
  for (const path of pages) await visit(page, path);
  assert.deepEqual(cspViolations.slice(before), []);
  await context.close();
});
