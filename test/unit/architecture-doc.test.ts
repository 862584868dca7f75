/**
 * ARCHITECTURE.md is how a newcomer finds things: every source file of the product is named there, and
 * every file it names exists (a renamed or deleted file fails this test, not a reader).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../worker/project-root';

const FOLDERS = ['workflows', 'activities', 'sandbox', 'worker', 'client', 'bench', 'scripts'];
const doc = fs.readFileSync(path.join(PROJECT_ROOT, 'ARCHITECTURE.md'), 'utf8');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return e.name === '__pycache__' ? [] : sourceFiles(rel);
    return /\.(ts|mjs|py|sh)$/.test(e.name) && !e.name.endsWith('.test.ts') ? [rel] : [];
  });
}

test('every source file is named in ARCHITECTURE.md', () => {
  const files = FOLDERS.flatMap(sourceFiles);
  assert.ok(files.length > 60, `found ${files.length} files: the walk itself works`);
  // Named by its path, or by its name in a row that names its folder (`client/commands/`: `status.ts`, ...).
  const missing = files.filter((f) => !doc.includes(f) && !doc.includes(`\`${path.posix.basename(f)}\``));
  assert.deepEqual(missing, [], `ARCHITECTURE.md does not name: ${missing.join(', ')}`);
});

test('every file ARCHITECTURE.md names exists', () => {
  const named = [
    ...doc.matchAll(
      /`((?:workflows|activities|sandbox|worker|client|bench|scripts|test|docs)\/[\w./-]+\.(?:ts|mjs|py|sh|md))`/g,
    ),
  ].map((m) => m[1]!);
  assert.ok(named.length > 40, `found ${named.length} names: the scan itself works`);
  const gone = named.filter((f) => !fs.existsSync(path.join(PROJECT_ROOT, f)));
  assert.deepEqual(gone, [], `ARCHITECTURE.md names files that do not exist: ${gone.join(', ')}`);
});
