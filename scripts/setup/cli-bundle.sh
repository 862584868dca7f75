#!/usr/bin/env bash
# Step: the command line's bundle (.build/cli/, git-ignored): client/cli.ts compiled once by esbuild,
# so `opsguard` starts without transpiling the tree (client/cli-bundle.mjs says how). Skipped when no
# source changed since the last build; `opsguard` itself rebuilds a stale bundle, so this step only
# saves the first command that wait.
STEP=cli-bundle
source "$(dirname "$0")/common.sh"

cd "$OPSGUARD_ROOT"
if ! out="$(node client/cli-bundle.mjs 2>&1)"; then
  printf '%s\n' "$out" >&2
  fail "esbuild could not build the command line's bundle" \
    "read the error above (a syntax error in client/, worker/, workflows/...?); 'npm run typecheck' names it. opsguard still runs from source meanwhile, more slowly."
fi
say "$out"
