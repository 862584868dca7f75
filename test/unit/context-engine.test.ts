/**
 * The context engine on a small service written here (real tree-sitter, real tokenizer, real files):
 * a wrong value computed upstream of a failing check is ranked above the distractors; a file over the
 * old 100,000-character limit contributes its relevant function within the budget; the index is
 * reused for the same code; edits apply only where their text occurs once.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadCodeIndex } from '../../activities/context/code-index';
import { packCode } from '../../activities/context/context-pack';
import { pythonSyntax } from '../../activities/context/python-syntax';
import { rankCode } from '../../activities/context/rank-code';
import { countTokens } from '../../activities/context/token-count';
import { applyEdits } from '../../activities/fix-edits';
import { parseFixAnswer } from '../../activities/model-answers';
import { locateInRepo } from '../../activities/frame-location';
import { causeTracebacks, parseTraceback } from '../../workflows/traceback';

const FILES: Record<string, string> = {
  'shop/__init__.py': '',
  'shop/pricing.py': `from shop.rates import vat_rate\n\n\ndef gross(net, country):\n    return round(net * (1 + vat_rate(country)), 2)\n`,
  'shop/rates.py': `RATES = {"DE": 0.19, "FR": 0.2}\n\n\ndef vat_rate(country):\n    return RATES.get(country, 0.0) / 10\n`,
  'shop/shipping.py': `def shipping_cost(weight):\n    return 4.9 if weight < 2 else 9.9\n`,
  'shop/labels.py': `def label(name):\n    return name.title()\n`,
  'jobs/check_prices.py': `from shop.pricing import gross\n\n\ndef main():\n    price = gross(100, "DE")\n    assert price == 119.0, price\n\n\nmain()\n`,
};

function repo(extra: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opsguard-context-'));
  for (const [rel, text] of Object.entries({ ...FILES, ...extra })) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

const CHECK_FRAMES = [
  {
    file: '/srv/app/jobs/../jobs/check_prices.py',
    line: 9,
    func: '<module>',
    repoPath: 'jobs/check_prices.py',
    source: 'main()',
  },
  {
    file: '/srv/app/jobs/../jobs/check_prices.py',
    line: 6,
    func: 'main',
    repoPath: 'jobs/check_prices.py',
    source: 'assert price == 119.0, price',
  },
];

/** Index the files and rank them for the failing price check. */
async function rankCheck(dir: string, files: string[]) {
  const { index } = await loadCodeIndex(
    { root: dir, files, cacheDir: path.join(dir, '.cache'), repository: dir },
    await pythonSyntax(),
  );
  const ranking = rankCode({
    index,
    frames: CHECK_FRAMES,
    exceptionType: 'AssertionError',
    message: 'AssertionError: 101.9',
    readText: (rel) => fs.readFileSync(path.join(dir, rel), 'utf8'),
  });
  return { index, ranking };
}

test('a failing check ranks the functions whose result it checks, and what they call, above distractors', async () => {
  const dir = repo();
  const { ranking } = await rankCheck(dir, Object.keys(FILES));
  const symbols = ranking.symbols.map((s) => `${s.file}:${s.qualname}`);
  const at = (name: string) => symbols.indexOf(name);
  assert.ok(at('shop/pricing.py:gross') >= 0 && at('shop/rates.py:vat_rate') >= 0, symbols.join(', '));
  assert.ok(
    at('shop/rates.py:vat_rate') < at('shop/shipping.py:shipping_cost') || at('shop/shipping.py:shipping_cost') < 0,
  );
  assert.ok(at('shop/labels.py:label') < 0 || at('shop/rates.py:vat_rate') < at('shop/labels.py:label'));
  assert.match(ranking.symbols.find((s) => s.qualname === 'gross')?.why.join(' ') ?? '', /result is checked/);
  const files3 = ranking.files.slice(0, 3).map((f) => f.file);
  assert.ok(files3.includes('shop/rates.py'), `the upstream module is in the top 3 files: ${files3.join(', ')}`);
});

test('a file over 100,000 characters contributes its relevant function within the budget, and says what it leaves out', async () => {
  const filler = Array.from({ length: 3000 }, (_, i) => `def helper_${i}(x):\n    return x * ${i}\n`).join('\n');
  const big = `from shop.rates import RATES\n\n${filler}\n\ndef vat_rate(country):\n    return RATES.get(country, 0.0) / 10\n`;
  assert.ok(big.length > 100_000);
  const dir = repo({ 'shop/rates.py': `RATES = {"DE": 0.19}\n`, 'shop/bigmodule.py': big });
  fs.writeFileSync(
    path.join(dir, 'shop/pricing.py'),
    `from shop.bigmodule import vat_rate\n\n\ndef gross(net, country):\n    return round(net * (1 + vat_rate(country)), 2)\n`,
  );
  const { index, ranking } = await rankCheck(dir, [...Object.keys(FILES), 'shop/bigmodule.py']);
  const budgetTokens = 2000;
  const pack = packCode(ranking, index, (rel) => ({ text: fs.readFileSync(path.join(dir, rel), 'utf8') }), {
    budgetTokens,
    wholeFileBytes: 100 * 1024,
  });
  const shownBig = pack.files.find((f) => f.path === 'shop/bigmodule.py');
  assert.equal(shownBig?.shown, 'excerpt');
  assert.ok(shownBig.symbols.includes('vat_rate'));
  assert.match(shownBig.content, /def vat_rate\(country\):\n {4}return RATES\.get/);
  assert.match(shownBig.content, /^from shop\.rates import RATES$/m, 'the imports come with the excerpt');
  assert.match(shownBig.content, /# \.\.\. \(lines \d+-\d+ not shown\)/);
  assert.ok(pack.tokens <= budgetTokens, `${pack.tokens} tokens within ${budgetTokens}`);
  assert.equal(
    pack.tokens,
    pack.files.reduce((a, f) => a + countTokens(f.content), 0),
  );
});

test('the index is reused for the same code and for the same commit; a changed file alone is parsed again', async () => {
  const dir = repo();
  const files = Object.keys(FILES);
  const req = { root: dir, files, cacheDir: path.join(dir, '.cache'), repository: dir };
  const py = await pythonSyntax();
  const first = await loadCodeIndex(req, py);
  assert.equal(first.stats.parsed, files.filter((f) => f.endsWith('.py')).length);
  const again = await loadCodeIndex(req, py);
  assert.equal(again.stats.source, 'cache');
  assert.equal(again.stats.parsed, 0);
  const commit = { commit: 'c'.repeat(40), prefix: '' };
  await loadCodeIndex({ ...req, commit }, py);
  assert.equal((await loadCodeIndex({ ...req, commit }, py)).stats.parsed, 0);
  fs.appendFileSync(path.join(dir, 'shop/labels.py'), '\n\ndef slug(name):\n    return name.lower()\n');
  const changed = await loadCodeIndex(req, py);
  assert.equal(changed.stats.parsed, 1);
  assert.equal(changed.stats.reused, files.length - 1);
  assert.ok(changed.index.files['shop/labels.py']?.syntax.definitions.some((d) => d.qualname === 'slug'));
});

test('edits to a file shown in excerpts apply only where their text occurs exactly once', () => {
  const text = 'a = 1\nb = 2\na = 1\n';
  assert.deepEqual(applyEdits('x.py', text, [{ find: 'b = 2', replace: 'b = 3' }]), {
    ok: true,
    value: 'a = 1\nb = 3\na = 1\n',
  });
  assert.match(
    (applyEdits('x.py', text, [{ find: 'a = 1', replace: '' }]) as { reason: string }).reason,
    /more than once/,
  );
  assert.match(
    (applyEdits('x.py', text, [{ find: 'c = 1', replace: '' }]) as { reason: string }).reason,
    /does not occur/,
  );
  const answer = parseFixAnswer(
    '{"summary":"s","files":[{"path":"x.py","edits":[{"find":"b = 2","replace":"b = 3"}]}]}',
  );
  assert.equal(answer.ok, true);
  const both = parseFixAnswer(
    '{"summary":"s","files":[{"path":"x.py","content":"","edits":[{"find":"a","replace":"b"}]}]}',
  );
  assert.match((both as { reason: string }).reason, /content or edits, not both/);
});

/** A small ETL service: a reader makes the rows, a schema coerces them, a handled KeyError is re-raised. */
const ETL: Record<string, string> = {
  'etl/__init__.py': '',
  'etl/errors.py': 'class UnknownField(Exception):\n    pass\n',
  'etl/readers.py':
    'def read_rows(text):\n    head, *rows = text.splitlines()\n    keys = head.split(";")\n    return [dict(zip(keys, r.split(","))) for r in rows]\n',
  'etl/naming.py': 'def canonical(name):\n    return name.lower()\n',
  'etl/schema.py':
    'from etl.errors import UnknownField\nfrom etl.naming import canonical\n\nSCHEMA = {"id": int, "amount": float}\n\n\ndef coerce(row):\n    try:\n        return {name: kind(row[canonical(name)]) for name, kind in SCHEMA.items()}\n    except KeyError as err:\n        raise UnknownField(str(err)) from None\n',
  'etl/pipeline.py':
    'from etl.readers import read_rows\nfrom etl.schema import coerce\n\n\ndef run(text):\n    return [coerce(r) for r in read_rows(text)]\n',
  'etl/writers.py': 'def to_csv(rows):\n    return "\\n".join(",".join(map(str, r.values())) for r in rows)\n',
  'etl/labels.py': 'def label(row):\n    return f"order {row}"\n',
};

test("the calls that made a failing call's arguments, and a handled exception's failing line, are ranked", async () => {
  const dir = repo(ETL);
  const log = [
    'Traceback (most recent call last):',
    '  File "/srv/etl/etl/../etl/schema.py", line 9, in coerce',
    '    return {name: kind(row[canonical(name)]) for name, kind in SCHEMA.items()}',
    "KeyError: 'id'",
    '',
    'During handling of the above exception, another exception occurred:',
    '',
    'Traceback (most recent call last):',
    '  File "/srv/etl/etl/pipeline.py", line 6, in run',
    '    return [coerce(r) for r in read_rows(text)]',
    '  File "/srv/etl/etl/schema.py", line 11, in coerce',
    '    raise UnknownField(str(err)) from None',
    "etl.errors.UnknownField: 'id'",
  ].join('\n');
  const causes = causeTracebacks(log);
  assert.equal(causes.length, 1, 'one earlier traceback in the chain');
  assert.deepEqual(
    causes[0]?.frames.map((f) => `${f.func}:${f.line}`),
    ['coerce:9'],
  );
  const files = Object.keys({ ...FILES, ...ETL });
  const locate = (f: { file: string; line: number; func: string }) => {
    const repoPath = locateInRepo(f.file, files);
    const source = repoPath
      ? fs.readFileSync(path.join(dir, repoPath), 'utf8').split('\n')[f.line - 1]?.trim()
      : undefined;
    return { ...f, repoPath, ...(source !== undefined ? { source } : {}) };
  };
  const { index } = await loadCodeIndex(
    { root: dir, files, cacheDir: path.join(dir, '.cache'), repository: dir },
    await pythonSyntax(),
  );
  const rank = (withCauses: boolean) =>
    rankCode({
      index,
      frames: (parseTraceback(log)?.frames ?? []).map(locate),
      ...(withCauses ? { causes: causes.map((c) => c.frames.map(locate)) } : {}),
      exceptionType: 'etl.errors.UnknownField',
      message: log.split('\n').slice(-3).join('\n'),
      readText: (rel) => fs.readFileSync(path.join(dir, rel), 'utf8'),
    });
  const ranking = rank(true);
  const why = (qualname: string) => ranking.symbols.find((s) => s.qualname === qualname)?.why.join('; ') ?? '';
  assert.match(why('read_rows'), /made an argument of the failing call \(etl\/pipeline\.py:6\)/);
  assert.match(why('canonical'), /called on the failing line/, "the handled KeyError's line is read");
  const fileAt = (r: ReturnType<typeof rank>, file: string) => {
    const at = r.files.findIndex((f) => f.file === file);
    return at < 0 ? Infinity : at;
  };
  assert.ok(fileAt(ranking, 'etl/readers.py') < fileAt(ranking, 'etl/writers.py'), 'the reader above the writer');
  assert.ok(fileAt(ranking, 'etl/readers.py') < fileAt(ranking, 'etl/labels.py'), 'the reader above the labels');
  assert.ok(
    fileAt(ranking, 'etl/naming.py') < fileAt(rank(false), 'etl/naming.py'),
    "the chain moves the handled line's callee up",
  );
});
