/**
 * An incident storm on one commit runs the repository's suite once: a clean baseline run is taken by
 * the other incidents on the same tree (activities/baseline-test-reuse.ts). A run that is not clean,
 * a workspace that is no longer its baseline, other settings, an edited repository and an old run are
 * not taken. Real Docker; the test containers are counted with the engine's own events.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BASELINE_RUN_REUSE_MS, takeBaselineRun } from '../activities/baseline-test-reuse';
import { incidentPaths } from '../activities/incident-paths';
import { RACY_SECONDS } from '../activities/tree-state';
import { INCIDENT_LABEL, PURPOSE_LABEL } from '../sandbox/labels';
import { localActivities } from './support/remediation-harness';

const errorLog = `Traceback (most recent call last):\n  File "/srv/app/svc/prices.py", line 2, in total\n    return sum(items) / len(items)\nZeroDivisionError: division by zero\n`;

function makeRepo(dir: string, failing: boolean) {
  fs.mkdirSync(path.join(dir, 'svc'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'tests'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'svc', '__init__.py'), '');
  fs.writeFileSync(path.join(dir, 'svc', 'prices.py'), 'def total(items):\n    return sum(items) / len(items)\n');
  const tests = [
    'from svc.prices import total\n',
    'def test_mean():\n    assert total([2, 4]) == 3\n',
    'def test_one():\n    assert total([5]) == 5\n',
    ...(failing ? ['def test_empty():\n    assert total([]) == 0\n'] : []),
  ];
  fs.writeFileSync(path.join(dir, 'tests', 'test_prices.py'), tests.join('\n'));
}

/** The `tests` containers the engine created for these incidents since `since` (unix seconds). */
function testContainers(since: number, incidents: string[]): number {
  const out = execFileSync(
    'docker',
    [
      'events',
      '--since',
      String(since),
      '--until',
      String(Math.ceil(Date.now() / 1000) + 1),
      '--filter',
      'event=create',
      '--filter',
      `label=${PURPOSE_LABEL}=tests`,
      '--format',
      `{{index .Actor.Attributes "${INCIDENT_LABEL}"}}`,
    ],
    { encoding: 'utf8' },
  );
  return out.split('\n').filter((id) => incidents.includes(id)).length;
}

test('a storm on one clean commit runs its suite once; failing suites, changed workspaces and other settings run their own', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-baseline-reuse-'));
  const run = randomUUID().slice(0, 8);
  try {
    const activities = localActivities(root);
    const clean = path.join(root, 'clean');
    const failing = path.join(root, 'failing');
    makeRepo(clean, false);
    makeRepo(failing, true);
    // Past tree-state's racy window (by change time, which only waiting moves), so the trees are shared.
    const settle = () => new Promise((r) => setTimeout(r, (RACY_SECONDS + 1) * 1000));
    await settle();

    const start = async (id: string, repoPath: string) => {
      await activities.setupWorkspace({ incidentId: id, repoPath, errorLog });
      const prepared = await activities.prepareEnvironment({ incidentId: id });
      assert.ok(prepared.ok, prepared.ok ? '' : prepared.reason);
      return { id, image: prepared.summary.image, environment: prepared.environment };
    };
    const baseline = (inc: Awaited<ReturnType<typeof start>>, perTestSeconds?: number) =>
      activities.runRepoTests({
        incidentId: inc.id,
        image: inc.image,
        environment: inc.environment,
        label: 'tests-baseline',
        ...(perTestSeconds ? { limits: { perTestSeconds } } : {}),
      });

    const pathsOf = (id: string) =>
      incidentPaths({ artifactsDir: path.join(root, 'artifacts'), workDir: path.join(root, 'work') }, id);
    /** `work`'s value, and the test containers the engine made for these incidents meanwhile. */
    const counted = async <T>(incidents: { id: string }[], work: () => Promise<T>) => {
      const since = Math.floor(Date.now() / 1000) - 1;
      const value = await work();
      return {
        value,
        containers: testContainers(
          since,
          incidents.map((inc) => inc.id),
        ),
      };
    };

    // 1. Four incidents at once on the clean commit: one run, three take it.
    const storm = await Promise.all([0, 1, 2, 3].map((i) => start(`storm-${run}-${i}`, clean)));
    const stormRuns = await counted(storm, () => Promise.all(storm.map((inc) => baseline(inc))));
    const results = stormRuns.value;
    assert.equal(stormRuns.containers, 1, 'one test container for the four incidents');
    const leaders = results.filter((r) => !r.reusedFrom);
    assert.equal(leaders.length, 1, 'one incident ran the suite');
    const leaderId = storm[results.findIndex((r) => !r.reusedFrom)]?.id;
    for (const [i, r] of results.entries()) {
      assert.equal(r.completeness, 'complete');
      assert.equal(r.counts?.passed, 2, JSON.stringify(r.counts));
      assert.deepEqual(r.failToPassCandidates ?? [], []);
      if (r.reusedFrom) assert.equal(r.reusedFrom.incidentId, leaderId, 'the evidence names whose run it was');
      // Each incident's folder holds the results it was judged on, and its summary points there.
      const own = pathsOf(storm[i]?.id ?? '');
      assert.ok(r.resultsPath?.startsWith(own.artifactDir), `${r.resultsPath} is in ${own.artifactDir}`);
      assert.ok(r.run?.stdoutPath?.startsWith(own.artifactDir));
      const tests = JSON.parse(fs.readFileSync(r.resultsPath ?? '', 'utf8')) as { tests: Record<string, unknown> };
      assert.equal(Object.keys(tests.tests).length, 2);
      assert.ok(fs.existsSync(path.join(path.dirname(r.resultsPath ?? ''), 'records')), 'the signed records too');
    }

    // 2. A failing suite is never shared: three incidents, three runs (side by side, not in a row).
    const failingStorm = await Promise.all([0, 1, 2].map((i) => start(`failing-${run}-${i}`, failing)));
    const failed = await counted(failingStorm, () => Promise.all(failingStorm.map((inc) => baseline(inc))));
    assert.equal(failed.containers, 3, 'each incident ran its own');
    for (const r of failed.value) {
      assert.equal(r.reusedFrom, undefined);
      assert.equal(r.counts?.failed, 1, JSON.stringify(r.counts));
    }

    // 3. On the clean commit, but not the same run: a workspace that is no longer its baseline, and
    //    another per-test deadline. Each runs its own; a later one with the first settings takes it.
    const changed = await start(`changed-${run}`, clean);
    const file = path.join(pathsOf(changed.id).workspace, 'svc', 'prices.py');
    fs.rmSync(file); // replaced, not written through: the shared tree's file is untouched
    fs.writeFileSync(file, 'def total(items):\n    return sum(items) / len(items) if items else 0\n');
    const otherDeadline = await start(`deadline-${run}`, clean);
    const later = await start(`later-${run}`, clean);
    const three = await counted(
      [changed, otherDeadline, later],
      async () => [await baseline(changed), await baseline(otherDeadline, 7), await baseline(later)] as const,
    );
    const [c, d, l] = three.value;
    assert.equal(three.containers, 2);
    assert.equal(c.reusedFrom, undefined, 'a changed workspace runs its own');
    assert.equal(d.reusedFrom, undefined, 'another per-test deadline runs its own');
    assert.equal(l.reusedFrom?.incidentId, leaderId, 'the same run is still taken');
    assert.equal(
      fs.readFileSync(path.join(clean, 'svc', 'prices.py'), 'utf8'),
      'def total(items):\n    return sum(items) / len(items)\n',
    );

    // 4. The repository edited: a new tree, its own run.
    fs.appendFileSync(path.join(clean, 'svc', 'prices.py'), '\n# reviewed\n');
    await settle();
    const edited = await start(`edited-${run}`, clean);
    const e = await counted([edited], () => baseline(edited));
    assert.equal(e.value.reusedFrom, undefined, 'an edited repository is another tree');
    assert.equal(e.containers, 1);

    // 5. A kept run is taken only while it is recent.
    const keptDir = path.join(path.dirname(fs.realpathSync(pathsOf(later.id).baseline)), 'tests');
    const share = fs
      .readdirSync(keptDir)
      .map((key) => ({ key, dir: path.join(keptDir, key) }))
      .find(
        (s) =>
          (JSON.parse(fs.readFileSync(path.join(s.dir, 'entry.json'), 'utf8')) as { incidentId: string }).incidentId ===
          leaderId,
      );
    assert.ok(share, `the leader's run is kept under ${keptDir}`);
    const entry = JSON.parse(fs.readFileSync(path.join(share.dir, 'entry.json'), 'utf8')) as { finishedAt: string };
    const kept = Date.parse(entry.finishedAt);
    const scratch = path.join(root, 'scratch');
    assert.ok(await takeBaselineRun(share, scratch, kept + BASELINE_RUN_REUSE_MS - 1000));
    assert.equal(await takeBaselineRun(share, scratch, kept + BASELINE_RUN_REUSE_MS + 1000), null);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
