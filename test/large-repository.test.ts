/**
 * A repository of a real service's size through the steps that touch all of it, on the real Docker
 * engine: 1,000 Python files and 150,000 lines, dangling symlinks (inside and out of the tree), a
 * package that floods stderr with warnings on import (as old code does on a new Python), and 300
 * tests. The copy is whole, the declarations are read, the tests all run within the sandbox's limits,
 * and the flood (cut by the output cap) does not drown the signed per-test outcome.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { localActivities } from './support/remediation-harness';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-large-'));
const repo = path.join(root, 'repo');

function generate(): { files: number; lines: number } {
  let files = 0;
  let lines = 0;
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
    fs.writeFileSync(path.join(repo, rel), text);
    files++;
    lines += text.split('\n').length - 1;
  };
  // 20 packages x 50 modules of 152 lines: pure functions, as generated code or big services have.
  for (let p = 0; p < 20; p++) {
    write(`svc/pkg${p}/__init__.py`, '');
    for (let m = 0; m < 50; m++) {
      const body = Array.from(
        { length: 50 },
        (_, i) => `def f${i}(x):\n    y = x + ${i}\n    return y * ${m + 1}\n`,
      ).join('');
      write(`svc/pkg${p}/mod${m}.py`, `"""Module ${p}.${m}."""\n\n${body}`);
    }
  }
  write('svc/__init__.py', '');
  // Old code warning on import, 4,000 distinct warnings: pytest's warnings summary prints them all,
  // far past the output cap.
  write(
    'svc/legacy.py',
    'import warnings\nfor i in range(4000):\n    warnings.warn("collections.Mapping is deprecated, use collections.abc (legacy shim %d)" % i, DeprecationWarning)\nVALUE = 42\n',
  );
  for (let t = 0; t < 10; t++) {
    const body = Array.from(
      { length: 30 },
      (_, i) => `def test_f${t}_${i}():\n    assert mod${t}.f${i}(1) == (1 + ${i}) * ${t + 1}\n`,
    ).join('\n');
    write(`tests/test_pkg${t}.py`, `import svc.legacy\nfrom svc.pkg0 import mod${t}\n\n\n${body}`);
  }
  write('requirements.txt', '# nothing to install\n');
  fs.symlinkSync('svc/missing.py', path.join(repo, 'dangling_inside.py'));
  fs.symlinkSync('/nonexistent/outside.py', path.join(repo, 'dangling_outside.py'));
  return { files, lines };
}

test('1,000 files and 150,000 lines with dangling symlinks and a warning flood: copied, prepared, tested', async () => {
  const made = generate();
  assert.ok(made.files >= 1000 && made.lines >= 150_000, `generated ${made.files} files, ${made.lines} lines`);
  const activities = localActivities(root);
  const incidentId = `large-${process.pid}`;
  const errorLog = `Traceback (most recent call last):\n  File "/srv/app/svc/pkg3/mod7.py", line 5, in f1\n    return y * 8\nTypeError: unsupported operand type(s) for *: 'NoneType' and 'int'\n`;

  let t = performance.now();
  const ws = await activities.setupWorkspace({ incidentId, repoPath: repo, errorLog });
  const copyMs = performance.now() - t;
  assert.equal(ws.fileCount, made.files, 'every file is copied');
  assert.ok(
    fs.lstatSync(path.join(root, 'work', incidentId, 'workspace', 'dangling_inside.py')).isSymbolicLink(),
    'the dangling link inside the tree is kept as a link',
  );
  assert.deepEqual(ws.skippedSymlinks, ['dangling_outside.py'], 'the link out of the tree is skipped and reported');
  assert.equal(ws.frames.at(-1)?.repoPath, 'svc/pkg3/mod7.py', 'the traceback maps onto the big tree');

  t = performance.now();
  const prepared = await activities.prepareEnvironment({ incidentId });
  const prepareMs = performance.now() - t;
  assert.ok(prepared.ok, prepared.ok ? '' : prepared.reason);

  t = performance.now();
  const tests = await activities.runRepoTests({
    incidentId,
    image: prepared.summary.image,
    environment: prepared.environment,
    label: 'tests-baseline',
  });
  const testsMs = performance.now() - t;
  assert.equal(tests.completeness, 'complete', tests.reason);
  assert.equal(tests.counts?.passed, 300, JSON.stringify(tests.counts));
  assert.equal(tests.run?.outputTruncated, true, 'the flood passed the output cap and was cut');
  console.log(
    `large repository: ${made.files} files, ${made.lines} lines; copy ${Math.round(copyMs)} ms, prepare ${Math.round(prepareMs)} ms, 300 tests ${Math.round(testsMs)} ms`,
  );
  fs.rmSync(root, { recursive: true, force: true });
});
