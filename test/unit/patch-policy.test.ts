/**
 * The patch policy's content rules (pure): what a fix may not add, what it may keep, and the
 * operator's explicit widenings. The path rules are in patch-engine.test.ts; the dynamic defence
 * behind the introspection rule is the guard's tripwire (test/guarded-run.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PATCH_POLICY, refuseContent, refusePath } from '../../activities/patch-policy';
import { exitStatusVerdict } from '../../workflows/regression-gate';

const SRC = 'def f(x):\n    return sorted(x)\n';
const refuse = (after: string, before: string | null = SRC, policy = DEFAULT_PATCH_POLICY) =>
  refuseContent('pkg/mod.py', before, after, policy);

test('a plain code change passes the content rules', () => {
  assert.equal(refuse('def f(x):\n    return sorted(x, reverse=False)\n'), null);
});

test('reaching into the interpreter or the harness is refused, and named', () => {
  const cases: [string, RegExp][] = [
    ['import sys\nframe = sys._getframe(1)\n', /_getframe/],
    ['import inspect\ncaller = inspect.currentframe().f_back\n', /currentframe|f_back/],
    ['import gc\nobjs = gc.get_objects()\n', /gc\.get_objects/],
    ['import ctypes\n', /ctypes/],
    ["open('/proc/self/environ').read()\n", /\/proc\//],
    ['import sys\nsys.settrace(None)\n', /settrace/],
    ['import sys\nhook = sys.meta_path[0]\n', /meta_path/],
    ['import _pytest.config\n', /_pytest/],
    ["runner = __import__('opsguard_runner')\n", /opsguard/],
    ['import opsguard_guard\n', /opsguard/],
  ];
  for (const [added, named] of cases) {
    const reason = refuse(`${SRC}${added}`);
    assert.match(reason ?? '', /reaches into the interpreter or the test harness/, added);
    assert.match(reason ?? '', named, added);
  }
});

test('what the file already had is not held against a fix; the operator may widen the rule', () => {
  const legacy = `import sys\nCALLER = sys._getframe().f_code.co_name\n${SRC}`;
  assert.equal(refuse(`${legacy}# fixed\n`, legacy), null, 'the same count as before is fine');
  assert.equal(
    refuse(`${SRC}import gc\ngc.get_objects()\n`, SRC, { ...DEFAULT_PATCH_POLICY, allowIntrospection: true }),
    null,
  );
});

test('an __eq__ that is always true (or __ne__ always false) is refused', () => {
  for (const added of [
    'class Any:\n    def __eq__(self, other):\n        return True\n',
    'class Any:\n    def __eq__(self, other) -> bool: return True\n',
    'class Any:\n    __eq__ = lambda self, other: True\n',
    'class Any:\n    def __ne__(self, other):\n        return False\n',
  ]) {
    assert.match(refuse(`${SRC}${added}`) ?? '', /__eq__ that is always true/, added);
  }
  assert.equal(refuse(`${SRC}class P:\n    def __eq__(self, other):\n        return self.x == other.x\n`), null);
});

test('broad exception handlers and writes to builtins stay refused unless widened', () => {
  const wrapped = 'def f(x):\n    try:\n        return sorted(x)\n    except Exception:\n        return []\n';
  assert.match(refuse(wrapped) ?? '', /broad exception handler/);
  assert.equal(refuse(wrapped, SRC, { ...DEFAULT_PATCH_POLICY, allowBroadExcept: true }), null);
  assert.match(refuse(`import builtins\nbuiltins.sorted = lambda x: x\n${SRC}`) ?? '', /modifies Python builtins/);
});

test('exit status only (a custom testCommand): a regression, a pass, and NOT VERIFIED when it failed before', () => {
  assert.deepEqual(
    [exitStatusVerdict(0, 0).status, exitStatusVerdict(0, 1).status, exitStatusVerdict(0, null).status],
    ['passed', 'failed', 'failed'],
  );
  assert.match(exitStatusVerdict(0, null).reason, /did not finish after it/);
  for (const before of [1, null]) {
    const v = exitStatusVerdict(before, 0);
    assert.deepEqual([v.status, v.passed], ['not_verified', true]);
    assert.match(v.reason, /NOT VERIFIED .*no per-test results for a custom testCommand/);
  }
});

const PYPROJECT = `[project]
name = "latency-report"
dependencies = ["numpy>=1.26"]

[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "-ra"

[tool.ruff]
line-length = 100
`;

test("pytest's settings in pyproject.toml and setup.cfg may not change; the rest of those files may", () => {
  const at = (rel: string, before: string | null, after: string, policy = DEFAULT_PATCH_POLICY) =>
    refuseContent(rel, before, after, policy);
  const deselect = PYPROJECT.replace('addopts = "-ra"', 'addopts = "-ra --deselect tests/test_stats.py::test_median"');
  assert.match(at('pyproject.toml', PYPROJECT, deselect) ?? '', /changes pytest's settings \(\[tool\.pytest\.\.\.\]/);
  const nativeToml = `${PYPROJECT}\n[tool.pytest]\nminversion = "9.0"\n`;
  assert.match(
    at('pyproject.toml', PYPROJECT, nativeToml) ?? '',
    /pytest's settings/,
    "pytest 9's [tool.pytest] table too",
  );
  assert.match(at('pyproject.toml', null, deselect) ?? '', /pytest's settings/, 'a new pyproject.toml with settings');
  assert.equal(
    at('pyproject.toml', PYPROJECT, PYPROJECT.replace('numpy>=1.26', 'numpy>=1.26,<3')),
    null,
    'dependencies may change',
  );
  assert.equal(at('pyproject.toml', PYPROJECT, PYPROJECT.replace('line-length = 100', 'line-length = 88')), null);
  const reordered = PYPROJECT.replace(
    'testpaths = ["tests"]\naddopts = "-ra"',
    'addopts = "-ra"\ntestpaths = ["tests"]',
  );
  assert.equal(at('pyproject.toml', PYPROJECT, reordered), null, 'the same settings in another order');
  assert.equal(at('pyproject.toml', null, '[project]\nname = "x"\n'), null, 'a new pyproject.toml without them');
  assert.match(
    at('pyproject.toml', PYPROJECT, `${PYPROJECT}[tool.pytest.ini_options`) ?? '',
    /pytest's settings/,
    'unparsable',
  );

  const CFG = '[metadata]\nname = x\n\n[tool:pytest]\n# quiet\naddopts = -q\n';
  assert.match(
    at('setup.cfg', CFG, CFG.replace('addopts = -q', 'addopts = -q -k "not median"')) ?? '',
    /\[tool:pytest\]/,
  );
  assert.equal(at('setup.cfg', CFG, CFG.replace('name = x', 'name = y')), null);
  assert.equal(at('setup.cfg', CFG, CFG.replace('# quiet', '# quieter')), null, 'a comment');
  // The operator's explicit widening lets them through.
  assert.equal(at('pyproject.toml', PYPROJECT, deselect, { ...DEFAULT_PATCH_POLICY, allowTestChanges: true }), null);
  for (const f of ['pytest.toml', '.pytest.toml', '.pytest.ini', 'sub/pytest.ini']) {
    assert.match(refusePath(f, DEFAULT_PATCH_POLICY) ?? '', /test-runner configuration/, f);
  }
});
