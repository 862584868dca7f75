import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESLint } from 'eslint';

// The workflow sandbox rules are only worth having if they fire: lint real snippets as if they
// were files in workflows/ and check each forbidden import is reported.
const eslint = new ESLint();

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

for (const mod of ['node:fs', 'fs', 'child_process', 'dockerode', 'ai', '@temporalio/activity', '@temporalio/client']) {
  test(`workflows/ may not import ${mod}`, async () => {
    const found = await ruleIds(`import * as m from '${mod}';\nexport const x = m;\n`, 'workflows/smoke.ts');
    assert.ok(
      found.some((m) => m.startsWith('no-restricted-imports')),
      `expected no-restricted-imports, got ${found.join('; ')}`,
    );
  });
}

test('the same imports are allowed outside workflows/', async () => {
  const found = await ruleIds(`import * as m from 'node:fs';\nexport const x = m;\n`, 'activities/ping.ts');
  assert.deepEqual(
    found.filter((m) => m.startsWith('no-restricted-imports')),
    [],
  );
});

test('a floating promise is an error', async () => {
  const found = await ruleIds(
    `async function f(): Promise<void> {}\nexport function g(): void {\n  f();\n}\n`,
    'activities/ping.ts',
  );
  assert.ok(
    found.some((m) => m.startsWith('@typescript-eslint/no-floating-promises')),
    found.join('; '),
  );
});

test('the environment is read in worker/settings.ts only', async () => {
  const code = `export const queue = process.env.OPSGUARD_TASK_QUEUE;\n`;
  for (const file of ['client/commands/status.ts', 'activities/ping.ts', 'worker/run-worker.ts']) {
    const found = await ruleIds(code, file);
    assert.ok(
      found.some((m) => m.startsWith('no-restricted-properties') && m.includes('worker/settings.ts')),
      `${file}: ${found.join('; ')}`,
    );
  }
  assert.deepEqual(
    (await ruleIds(code, 'worker/settings.ts')).filter((m) => m.startsWith('no-restricted-properties')),
    [],
  );
});

test('a command loads its dependencies inside its action', async () => {
  const eager = [
    `import { Client } from '@temporalio/client';\nexport const c = Client;\n`,
    `import { settingsFromEnv } from '../../worker/settings';\nexport const s = settingsFromEnv;\n`,
    `import { readIncident } from '../incident-state';\nexport const r = readIncident;\n`,
  ];
  for (const code of eager) {
    const found = await ruleIds(code, 'client/commands/status.ts');
    assert.ok(
      found.some((m) => m.startsWith('no-restricted-imports') && m.includes('inside its action')),
      `${code}: ${found.join('; ')}`,
    );
  }
  const allowed = [
    `import type { Client } from '@temporalio/client';\nexport type C = Client;\n`,
    `import fs from 'node:fs';\nexport const f = fs;\n`,
    `import { UserError } from '../user-error';\nexport const u = UserError;\n`,
    `export async function f() {\n  return (await import('../incident-state')).readIncident;\n}\n`,
  ];
  for (const code of allowed) {
    const found = await ruleIds(code, 'client/commands/status.ts');
    assert.deepEqual(
      found.filter((m) => m.startsWith('no-restricted-imports')),
      [],
      code,
    );
  }
  // Outside client/commands/ the same eager import is fine.
  assert.deepEqual(
    (await ruleIds(eager[0]!, 'client/grpc-reader.ts')).filter((m) => m.startsWith('no-restricted-imports')),
    [],
  );
});
