/**
 * The model's retrieval tools on a repository written here (real files, real tree-sitter, real
 * tokenizer): the call limit, the token budget, paths and links leading out of the repository or to
 * secrets, redaction of what is served, and calls made at once recorded in the model's order.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { listFiles } from '../../activities/copy-tree';
import { loadCodeIndex } from '../../activities/context/code-index';
import { pythonSyntax } from '../../activities/context/python-syntax';
import { retrievalTools } from '../../activities/context/retrieval-tools';
import type { RetrievalSession } from '../../activities/context/retrieval-tools';
import { scanRepository } from '../../activities/repo-secrets';

const TOKEN = 'ghp_4kT9wQ2mZ8rL5xV1nB7cY3hJ6dF0sA2pE9uW';

async function session(opts: { maxCalls?: number; budgetTokens?: number } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-tools-'));
  const root = path.join(dir, 'repo');
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  write('app/__init__.py', '');
  write('app/rates.py', `def vat_rate(country):\n    return {"DE": 0.19}.get(country, 0.0)\n`);
  write('app/client.py', `GITHUB_TOKEN = "${TOKEN}"\n\n\ndef headers():\n    return {"Authorization": GITHUB_TOKEN}\n`);
  write('app/big.py', Array.from({ length: 3000 }, (_, i) => `VALUE_${i} = ${i}  # a long generated table`).join('\n'));
  write('.env', `GITHUB_TOKEN=${TOKEN}\n`);
  write('data/blob.bin', 'binary\0data');
  fs.writeFileSync(path.join(dir, 'outside.py'), `LEAK = "${TOKEN}"\n`);
  fs.symlinkSync(path.join(dir, 'outside.py'), path.join(root, 'app', 'escape.py'));
  fs.symlinkSync(path.join(root, '.env'), path.join(root, 'app', 'settings.py'));
  const files = await listFiles(root, { withSymlinks: true });
  const secrets = await scanRepository(root, files);
  const { index } = await loadCodeIndex(
    { root, files, cacheDir: path.join(dir, 'cache'), repository: root },
    await pythonSyntax(),
  );
  return retrievalTools({
    root,
    files,
    index,
    secrets,
    maxCalls: opts.maxCalls ?? 8,
    budgetTokens: opts.budgetTokens ?? 8000,
  });
}

/** Call a tool the way the AI SDK does. */
async function call(s: RetrievalSession, name: string, input: Record<string, unknown>): Promise<string> {
  const t = s.tools[name];
  assert.ok(t?.execute, `${name} is a tool`);
  return (await t.execute(input, { toolCallId: `t-${name}`, messages: [] })) as string;
}

test('files are served numbered and redacted; secrets, binaries and paths or links out of the repository are refused', async () => {
  const s = await session({ maxCalls: 20 });
  assert.match(
    await call(s, 'read_file', { path: './app/rates.py' }),
    /^app\/rates\.py \(lines 1-2 of 2\)\n1: def vat_rate/,
  );
  const client = await call(s, 'read_file', { path: 'app/client.py', startLine: 1, endLine: 1 });
  assert.match(client, /^1: GITHUB_TOKEN = "\[REDACTED:[a-z_]+#\d+\]"$/m);
  const refusals: [Record<string, unknown>, RegExp][] = [
    [{ path: '.env' }, /\.env holds secrets/],
    [{ path: '/etc/passwd' }, /not an absolute one/],
    [{ path: 'app/../../outside.py' }, /leads outside the repository/],
    [{ path: 'app/escape.py' }, /leads outside the repository/],
    [{ path: 'app/settings.py' }, /links to a file OpsGuard does not serve/],
    [{ path: 'data/blob.bin' }, /not a source or text file/],
    [{ path: 'app/missing.py' }, /not a file of the repository/],
  ];
  for (const [input, why] of refusals) assert.match(await call(s, 'read_file', input), why, JSON.stringify(input));
  assert.equal(s.calls.length, 2 + refusals.length);
  assert.ok(s.calls.slice(2).every((c) => c.outcome === 'refused' && c.note));
  assert.deepEqual(Object.keys(s.readTexts).sort(), ['app/client.py', 'app/rates.py']);
  assert.ok(!Object.values(s.readTexts).join('').includes(TOKEN), 'the texts edits apply to are the redacted ones');
  assert.ok(!s.results.join('\n').includes(TOKEN));
});

test('search finds definitions in the redacted text; a symbol is read by name; a folder is listed', async () => {
  const s = await session();
  assert.match(await call(s, 'search_code', { query: 'VAT_RATE' }), /^app\/rates\.py:1: def vat_rate\(country\):$/m);
  assert.equal(await call(s, 'search_code', { query: TOKEN.slice(0, 12) }), `no match for "${TOKEN.slice(0, 12)}"`);
  assert.match(
    await call(s, 'read_symbol', { name: 'headers' }),
    /^app\/client\.py lines 4-5: headers\n4: def headers/,
  );
  assert.match(await call(s, 'read_symbol', { name: 'nothing_here' }), /no definition named nothing_here/);
  const root = await call(s, 'list_dir', {});
  assert.deepEqual(root.split('\n'), ['.env (withheld: holds secrets)', 'app/', 'data/']);
});

test('the call limit and the token budget hold; calls made at once are recorded in order', async () => {
  const limited = await session({ maxCalls: 2 });
  const answers = await Promise.all([
    call(limited, 'read_file', { path: 'app/rates.py' }),
    call(limited, 'list_dir', { path: 'app' }),
    call(limited, 'read_file', { path: 'app/client.py' }),
  ]);
  assert.match(answers[2] ?? '', /^no tool calls left \(2 calls/);
  assert.deepEqual(
    limited.calls.map((c) => `${c.tool}:${c.outcome}`),
    ['read_file:ok', 'list_dir:ok', 'read_file:refused'],
  );
  assert.ok(limited.exhausted());

  const small = await session({ budgetTokens: 1000 });
  const big = await call(small, 'read_file', { path: 'app/big.py' });
  assert.match(big, /\(cut: \d+ more lines; ask for a narrower range\)$/);
  assert.equal(small.calls[0]?.outcome, 'truncated');
  assert.ok((small.calls[0]?.resultTokens ?? 0) <= 500, 'one result takes at most half the budget');
  await call(small, 'read_file', { path: 'app/big.py', startLine: 1000 });
  assert.ok(small.exhausted(), 'the budget is spent');
  assert.ok(small.calls.reduce((a, c) => a + c.resultTokens, 0) <= 1000);
  assert.match(await call(small, 'list_dir', {}), /^no tool calls left/);
});
