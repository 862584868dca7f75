#!/usr/bin/env node
// The `opsguard` executable: runs the command line from its bundle (client/cli-bundle.mjs builds it
// when missing or older than the sources), or through tsx from source when it cannot be built.
import { cliEntry } from './cli-bundle.mjs';

const entry = await cliEntry();
if (entry) {
  await import(entry);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./cli.ts');
}
