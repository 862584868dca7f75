/**
 * The runner's forged-comparison check (sandbox/runner/opsguard_compare.py), run with the host's
 * Python: each single `==` / `!=` of a rewritten script asks its operands about a fresh object(), and
 * a value that answers everything fails the comparison at the script's own line. Honest comparisons,
 * arrays-like values and unittest.mock.ANY keep their meaning.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { RUNNER_ON_HOST } from '../../sandbox/guarded-run';

/** Runs `script` rewritten by opsguard_compare; what it raised (type: message) or 'ok'. */
function run(script: string): string {
  const driver = [
    'import sys',
    `sys.path.insert(0, ${JSON.stringify(RUNNER_ON_HOST)})`,
    'import opsguard_compare as oc',
    'source = sys.stdin.read()',
    'scope = {oc.CHECKER: oc.checker(), "__name__": "__main__"}',
    'try:',
    '    exec(oc.instrument(source, "/opsguard/scripts/reproduction.py"), scope)',
    '    print("ok")',
    'except BaseException as e:',
    '    line = e.__traceback__.tb_next.tb_lineno if e.__traceback__ and e.__traceback__.tb_next else 0',
    '    print(f"{type(e).__name__} at {line}: {e}")',
  ].join('\n');
  const out = spawnSync('python3', ['-I', '-c', driver], { input: script, encoding: 'utf8' });
  assert.equal(out.error, undefined, `python3 could not run here: ${String(out.error)}`);
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.trim();
}

test('a value equal to everything fails the comparison at its line; one that never differs too', () => {
  assert.match(
    run(
      'class Any(list):\n    def __eq__(self, other):\n        return 1\n\nresult = Any()\nassert result == [1, 2]\n',
    ),
    /^AssertionError at 6: OpsGuard: the Any compared at line 6 equals any object, even a fresh object\(\)/,
  );
  // Reflected: the forged value on the right is asked too.
  assert.match(
    run('class Any:\n    __eq__ = lambda self, other: not False\n\nassert [1] == Any()\n'),
    /^AssertionError at 4: OpsGuard: the Any compared at line 4 equals any object/,
  );
  assert.match(
    run('class Same:\n    def __ne__(self, other):\n        return 0\n\nif Same() != 3:\n    raise SystemExit(1)\n'),
    /^AssertionError at 5: OpsGuard: the Same compared at line 5 does not differ from any object/,
  );
});

test('honest comparisons keep their meaning: results, messages, chained and nested comparisons', () => {
  assert.equal(run("assert [1, 2] == [1, 2]\nassert 'a' != 'b'\nassert not (3 == 4)\nassert None == None\n"), 'ok');
  assert.equal(run("assert [1] == [2], 'wrong order'\n"), 'AssertionError at 1: wrong order');
  assert.equal(run('x = 1 == 1 == 1\nassert x\nassert [i for i in range(3) if i == 1] == [1]\n'), 'ok');
  assert.equal(run("assert {'a': 1} == {'a': 1} and (2 != 3)\n"), 'ok');
});

test('values with no single answer, and unittest.mock.ANY, are not forgeries', () => {
  // An object whose comparison raises, or returns something with no truth value (an array, a query).
  const noTruth =
    'class Expr:\n    def __eq__(self, other):\n        return self\n    def __bool__(self):\n        raise TypeError("no truth value")\n\nx = Expr() == 3\n';
  assert.equal(run(noTruth), 'ok');
  assert.equal(
    run(
      'class Strict:\n    def __eq__(self, other):\n        if not isinstance(other, Strict):\n            raise TypeError("no")\n        return True\n\nassert Strict() == Strict()\n',
    ),
    'ok',
  );
  assert.equal(run('from unittest import mock\nassert mock.ANY == 5\nassert [1, 2] == [mock.ANY, 2]\n'), 'ok');
});
