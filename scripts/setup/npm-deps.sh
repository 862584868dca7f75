#!/usr/bin/env bash
# Step: node_modules from package-lock.json (npm ci), skipped when the lock file has not changed.
# A failed install removes node_modules, so a half-installed tree never looks installed.
STEP=npm-deps
source "$(dirname "$0")/common.sh"

cd "${OPSGUARD_NPM_DIR:-$OPSGUARD_ROOT}"
STAMP=node_modules/.opsguard-lock-hash
want="$(sha256sum package-lock.json | cut -c1-16)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  say "node_modules matches package-lock.json ($want)"
  exit 0
fi
say "npm ci (package-lock.json $want)..."
if ! npm ci --no-audit --no-fund --loglevel=error >"$STATE_DIR/npm-ci.log" 2>&1; then
  tail -n 12 "$STATE_DIR/npm-ci.log" >&2
  rm -rf node_modules
  if grep -qE 'ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|ECONNRESET|network' "$STATE_DIR/npm-ci.log"; then
    fail "npm ci could not install the dependencies from $(npm config get registry 2>/dev/null) (log: $STATE_DIR/npm-ci.log)" \
      "check that the npm registry is reachable (or set npm_config_registry to a mirror), then rerun 'npm run setup'. node_modules was removed."
  fi
  fail "npm ci failed: $(grep -m1 -E '^npm error [^ ]' "$STATE_DIR/npm-ci.log" | grep -v 'code ' || echo 'see the log') (log: $STATE_DIR/npm-ci.log)" \
    "read the log; if package.json and package-lock.json are out of sync, run 'npm install' and commit package-lock.json. node_modules was removed."
fi
echo "$want" >"$STAMP"
say "installed"
