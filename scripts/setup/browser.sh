#!/usr/bin/env bash
# Step: a headless browser for the Web UI check in the test suite: Debian's chromium package
# (Playwright's own browser download cannot work offline; playwright-core drives this binary).
# Optional for using OpsGuard: without it, that one test says loudly that it did not run.
STEP=browser
source "$(dirname "$0")/common.sh"

BIN="${OPSGUARD_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$BIN" ]; then
  say "chromium present ($("$BIN" --version 2>/dev/null | head -1))"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  say "WARNING: no chromium at $BIN and not root on Debian: the Web UI browser test will not run (set OPSGUARD_CHROMIUM)"
  exit 0
fi
say "installing Debian's chromium (apt-get)..."
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >"$STATE_DIR/apt-chromium.log" 2>&1; then
  apt-get update -qq >>"$STATE_DIR/apt-chromium.log" 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >>"$STATE_DIR/apt-chromium.log" 2>&1 \
    || { tail -n 8 "$STATE_DIR/apt-chromium.log" >&2; fail "apt-get could not install chromium (log: $STATE_DIR/apt-chromium.log)" "check that the Debian mirror is reachable, then rerun 'npm run setup'"; }
fi
say "installed $("$BIN" --version 2>/dev/null | head -1)"
