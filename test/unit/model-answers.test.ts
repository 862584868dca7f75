import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFixAnswer, parseReproductionAnswer } from '../../activities/model-answers';
import { validateIncidentInput } from '../../workflows/incident-input';

test('a fenced python block is the reproduction script', () => {
  const r = parseReproductionAnswer('Here you go:\n```python\nimport x\nx.f()\n```\nThat should fail.');
  assert.deepEqual(r, { ok: true, value: { primary: 'import x\nx.f()\n', variants: [] } });
});

test('further python blocks are hidden variants, at most as many as asked; empty and duplicate ones are dropped', () => {
  const block = (code: string) => `\`\`\`python\n${code}\n\`\`\`\n`;
  const answer = [
    block('f(1)'),
    block('f(2)'),
    block(''),
    block('f(1)'),
    block('f(3)'),
    block('f(4)'),
    block('f(5)'),
  ].join('');
  assert.deepEqual(parseReproductionAnswer(answer, 3), {
    ok: true,
    value: { primary: 'f(1)\n', variants: ['f(2)\n', 'f(3)\n', 'f(4)\n'] },
  });
  assert.deepEqual(parseReproductionAnswer(answer, 0), { ok: true, value: { primary: 'f(1)\n', variants: [] } });
});

test('an unfenced script is accepted, prose is not, and empty is not', () => {
  assert.equal(parseReproductionAnswer('import x\nx.f()').ok, true);
  assert.match(
    (parseReproductionAnswer('Sure, call f() without arguments.') as { reason: string }).reason,
    /prose, not a script/,
  );
  assert.match((parseReproductionAnswer('```python\n```') as { reason: string }).reason, /no script/);
});

test('a fix answer must be JSON with summary and files[{path, content}]', () => {
  assert.equal(parseFixAnswer('```json\n{"summary":"s","files":[{"path":"a.py","content":"x"}]}\n```').ok, true);
  assert.match((parseFixAnswer('not json') as { reason: string }).reason, /not JSON/);
  assert.match((parseFixAnswer('{"summary":"s","files":[]}') as { reason: string }).reason, /wrong shape \(files: /);
  assert.match(
    (parseFixAnswer('{"summary":"s","files":[{"path":"a.py","content":"x"}],"run":"rm -rf /"}') as { reason: string })
      .reason,
    /wrong shape/,
  );
});

test('incident input: a valid object passes; problems are listed one by one', () => {
  assert.equal(
    validateIncidentInput({ repoPath: '/r', errorLog: 'x', testCommand: ['pytest'], limits: { memoryMb: 256 } }).ok,
    true,
  );
  const bad = validateIncidentInput({ repoPath: 'relative', errorLog: '', extra: 1, limits: { cpus: 100, swap: 1 } });
  assert.equal(bad.ok, false);
  const problems = bad.ok ? [] : bad.problems;
  assert.ok(problems.includes('unknown field: extra'), problems.join(' | '));
  assert.ok(problems.includes('unknown field: limits.swap'), problems.join(' | '));
  assert.ok(problems.some((p) => /repoPath must be an absolute path/.test(p)));
  assert.ok(problems.some((p) => /errorLog is empty/.test(p)));
  assert.ok(problems.some((p) => /limits.cpus must be at most 8/.test(p)));
  assert.deepEqual(validateIncidentInput('a string'), { ok: false, problems: ['the input must be one JSON object'] });
});
