// Child process of worker/workflow-bundle.ts: bundle the workflows (webpack) into the file named by
// the one argument, so the bundler's memory dies with this process, not the worker's.
import fs from 'node:fs';
import { bundleWorkflows } from './create-worker';

const out = process.argv[2];
if (!out) {
  console.error('usage: build-workflow-bundle.ts <file>');
  process.exit(2);
}
const bundle = await bundleWorkflows();
fs.writeFileSync(out, bundle.code);
