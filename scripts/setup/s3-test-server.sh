#!/usr/bin/env bash
# Step: an S3-compatible server for the artifact-store tests (test/artifact-store.test.ts): moto's
# server (PyPI, pinned) in its own virtualenv under .tools/moto/, run on 127.0.0.1 by the test.
# Optional for using OpsGuard (a real deployment points OPSGUARD_ARTIFACTS_S3 at its own store);
# without it the artifact-store tests fail saying it is missing.
STEP=s3-test-server
source "$(dirname "$0")/common.sh"

VERSION="${OPSGUARD_MOTO_VERSION:-5.2.5}"
HOME_DIR="$TOOLS_DIR/moto"
if [ -x "$HOME_DIR/bin/moto_server" ] && [ "$(cat "$HOME_DIR/VERSION" 2>/dev/null)" = "$VERSION" ]; then
  say "already installed: moto $VERSION (S3-compatible test server)"
  exit 0
fi
command -v python3 >/dev/null || fail "python3 is not installed" "install Python 3.9 or later, then rerun 'npm run setup'"
say "installing moto[server] $VERSION from PyPI into a virtualenv (first time: about 20 s)..."
# A virtualenv records its own path, so it is made where it lives; VERSION, written last, marks it
# whole, and a failed install removes it.
log="$STATE_DIR/s3-test-server.log"
rm -rf "$HOME_DIR"
if ! python3 -m venv "$HOME_DIR" >"$log" 2>&1; then
  cat "$log" >&2
  rm -rf "$HOME_DIR"
  fail "python3 could not make a virtualenv" "install the venv module (Debian: apt-get install python3-venv), then rerun 'npm run setup'"
fi
if ! "$HOME_DIR/bin/python" -m pip install -q --disable-pip-version-check "moto[server]==$VERSION" >>"$log" 2>&1; then
  tail -n 15 "$log" >&2
  rm -rf "$HOME_DIR"
  fail "pip could not install moto[server]==$VERSION (log: $log)" "check that PyPI is reachable from this machine, then rerun 'npm run setup'. Nothing was installed."
fi
echo "$VERSION" >"$HOME_DIR/VERSION"
say "installed moto $VERSION: $HOME_DIR/bin/moto_server"
