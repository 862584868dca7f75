/**
 * The "Seen before" section (activities/context/past-incidents.ts) within its token budget: each
 * earlier incident named, its patch shown while it fits and cut at a line when it does not, an
 * incident whose artifacts are elsewhere named without a patch, nothing at all when none was found.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderPastIncidents } from '../../activities/context/past-incidents';
import type { PastIncident } from '../../activities/context/past-incidents';
import { countTokens } from '../../activities/context/token-count';

const patchOf = (lines: number) =>
  [
    '--- a/pricing/money.py',
    '+++ b/pricing/money.py',
    ...Array.from({ length: lines }, (_, i) => `+VALUE_${i} = ${i}`),
  ].join('\n');

const past = (over: Partial<PastIncident>): PastIncident => ({
  incidentId: 'incident-1',
  workflowId: 'incident-1',
  startedAt: '2026-11-01T06:00:00.000Z',
  status: 'delivered',
  match: 'fingerprint',
  title: 'Round quotes to the nearest cent',
  patch: patchOf(3),
  ...over,
});

test('nothing found: no section', () => {
  assert.deepEqual(
    renderPastIncidents([], 1000, (t) => t, countTokens),
    { text: '', tokens: 0 },
  );
});

test('each incident is named with its date, match, status and title; a patch is shown whole when it fits', () => {
  const r = renderPastIncidents(
    [
      past({}),
      past({
        incidentId: 'incident-2',
        match: 'error type and file',
        patch: null,
        note: 'its artifacts are not on this worker',
      }),
    ],
    1000,
    (t) => t.replace('VALUE_0', '[REDACTED:x#1]'),
    countTokens,
  );
  assert.match(r.text, /^## Seen before\n/);
  assert.match(
    r.text,
    /- Incident `incident-1` on 2026-11-01 \(the same fingerprint; delivered\), fixed by "Round quotes to the nearest cent"\./,
  );
  assert.match(r.text, /```diff\n--- a\/pricing\/money\.py\n\+\+\+ b\/pricing\/money\.py\n\+\[REDACTED:x#1\] = 0\n/);
  assert.match(
    r.text,
    /- Incident `incident-2` .*\(the same error type in the same file; delivered\).*\(its artifacts are not on this worker\)\./,
  );
  assert.equal(r.tokens, countTokens(r.text));
});

test('a patch too big for the budget is cut at a line and says so; the budget holds', () => {
  const r = renderPastIncidents([past({ patch: patchOf(2000) })], 600, (t) => t, countTokens);
  assert.match(r.text, /Its verified patch \(first \d+ of 2002 lines\):/);
  assert.ok(r.tokens <= 600, `${r.tokens} tokens`);
  assert.ok(r.text.includes('+VALUE_0 = 0'));
});
