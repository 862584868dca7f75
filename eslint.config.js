// Lint rules. The ones that matter most for OpsGuard:
// - workflows/ is deterministic sandboxed code: no Node built-ins, no dockerode, no ai SDK, and no
//   Temporal packages other than @temporalio/workflow (+ type-only @temporalio/common).
// - no-floating-promises: an un-awaited promise in an activity or the CLI loses its error.
// - import-x/no-cycle: one idea per file, imported one way.
// - the environment is read in worker/settings.ts only (README lists every variable it reads).
// - client/commands/ load their dependencies inside their actions (import()), so `opsguard --help`
//   and `status` start without loading the Temporal client, Docker or the model SDK.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const READ_ENV_IN_SETTINGS = {
  object: 'process',
  property: 'env',
  message: 'Read the environment in worker/settings.ts: one settings module, and README lists every variable.',
};

export default tseslint.config(
  { ignores: ['node_modules/', '.build/', '.tools/', '.state/', '.opsguard/', 'examples/**/*.py', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'client/bin.mjs', 'client/cli-bundle.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['test', 'describe', 'it', 'suite'], package: 'node:test' },
          ],
        },
      ],
      // Activities are async by contract even when their body is synchronous.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'Workflow code is deterministic: no Node built-ins (do I/O in an activity).',
            })),
            { name: 'dockerode', message: 'Docker belongs in sandbox/ and activities/, never in a workflow.' },
            { name: 'ai', message: 'Model calls belong in activities/.' },
            { name: '@ai-sdk/openai', message: 'Model calls belong in activities/.' },
            { name: '@temporalio/activity', message: 'Workflows import only @temporalio/workflow.' },
            { name: '@temporalio/worker', message: 'Workflows import only @temporalio/workflow.' },
            { name: '@temporalio/client', message: 'Workflows import only @temporalio/workflow.' },
          ],
          patterns: [
            {
              group: ['../activities/*', '../sandbox/*', '../client/*', '../worker/*'],
              allowTypeImports: true,
              message: 'Workflows may import only types from activities/sandbox/client/worker.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setInterval', message: 'Use sleep() / condition() from @temporalio/workflow.' },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Math',
          property: 'random',
          message:
            'Temporal replaces Math.random deterministically, but say so: use uuid4() from @temporalio/workflow.',
        },
        READ_ENV_IN_SETTINGS,
      ],
    },
  },
  {
    files: ['activities/**/*.ts', 'client/**/*.ts', 'sandbox/**/*.ts', 'worker/**/*.ts', 'bench/**/*.ts'],
    ignores: ['worker/settings.ts'],
    rules: { 'no-restricted-properties': ['error', READ_ENV_IN_SETTINGS] },
  },
  {
    files: ['client/commands/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // Everything but Node's own modules and a few dependency-free files of ours.
              regex:
                '^(?!node:|commander$|\\.\\./user-error$|\\.\\./\\.\\./workflows/incident-types$|\\.\\./\\.\\./worker/project-root$)',
              allowTypeImports: true,
              message:
                "A command imports what it needs inside its action (await import(...)), so the other commands start fast. See CONVENTIONS.md, 'A quick command line'.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
