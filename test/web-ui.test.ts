/**
 * The Temporal Web UI tells a person what is happening: a real incident waiting for approval,
 * opened in the dev server's UI in headless Chromium (Debian's package, driven by playwright-core).
 * The page must show the incident, its status and the approval state; the screenshot is saved to
 * .state/screenshots/web-ui-awaiting-approval.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { PROJECT_ROOT } from '../worker/settings';
import { patchAwaiting, recordedTurns, remediate } from './support/remediation-harness';
import { TEST_TEMPORAL_UI_PORT } from './support/temporal';
import { approveUpdate } from '../workflows/operator-api';

const CHROMIUM = process.env.OPSGUARD_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT = path.join(PROJECT_ROOT, '.state', 'screenshots', 'web-ui-awaiting-approval.png');

test('the Web UI shows the incident, its status and that it awaits approval', async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    t.skip(
      `NOT RUN: no Chromium at ${CHROMIUM} (npm run setup installs Debian's chromium as root; or set OPSGUARD_CHROMIUM)`,
    );
    return;
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  let seen: { summary: boolean; status: boolean; approval: boolean; searchAttribute: boolean } | undefined;
  try {
    const run = await remediate({
      example: 'config-loader',
      turns: recordedTurns('config-loader'),
      decide: async (handle) => {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1500 } });
        await page.goto(`http://127.0.0.1:${TEST_TEMPORAL_UI_PORT}/namespaces/default/workflows/${handle.workflowId}`);
        await page.getByText(handle.workflowId).first().waitFor({ timeout: 30_000 });
        // User Metadata: the summary, each activity's summary, and the current details the workflow
        // sets at every transition (served by the worker), which name the status and the approval.
        await page.getByText('User Metadata').first().click();
        // The current details are rendered in an iframe: read every frame's text.
        const allText = async () =>
          (
            await Promise.all(
              page.frames().map((f) =>
                f
                  .locator('body')
                  .innerText()
                  .catch(() => ''),
              ),
            )
          ).join('\n');
        let body = '';
        for (let i = 0; i < 60 && !body.includes('Awaiting approval.'); i++) {
          await page.waitForTimeout(500);
          body = await allText();
        }
        fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
        await page.getByText('Search Attributes').first().click();
        await page.getByText('OpsGuardStatus').first().waitFor({ timeout: 15_000 });
        const attributes = await page.locator('body').innerText();
        seen = {
          summary: body.includes(handle.workflowId) && body.includes('OpsGuard: KeyError in'),
          status:
            /status awaiting_approval/.test(body) &&
            body.includes('run the reproduction 3x in fresh containers (must FAIL)'),
          approval: /Awaiting approval\./.test(body) && body.includes(`opsguard approve ${handle.workflowId}`),
          searchAttribute: /OpsGuardStatus[\s\S]{0,80}awaiting_approval/.test(attributes),
        };
        await handle.executeUpdate(approveUpdate, {
          args: [{ by: 'web-ui-test', patchSha256: await patchAwaiting(handle) }],
        });
      },
    });
    assert.equal(run.result.status, 'approved');
  } finally {
    await browser.close();
  }
  assert.deepEqual(seen, { summary: true, status: true, approval: true, searchAttribute: true });
  assert.ok(fs.statSync(SCREENSHOT).size > 10_000, 'a real screenshot was saved');
});
