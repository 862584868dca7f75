#!/usr/bin/env bash
# Step: the Temporal CLI (dev server + `temporal workflow ...`), built from source with Go.
# v1.5.1 is pinned: later tags carry a `replace` directive and cannot be `go install`ed.
STEP=temporal-cli
source "$(dirname "$0")/common.sh"

VERSION="${OPSGUARD_TEMPORAL_CLI_VERSION:-v1.5.1}"
TARGET="$TOOLS_DIR/bin/temporal"

command -v go >/dev/null || fail "Go is not installed" "install Go >= 1.23 (apt-get install golang, or go.dev/dl) and rerun"
# A go-installed binary reports 0.0.0-DEV; the module version embedded in it is the truth.
if [ -x "$TARGET" ] && go version -m "$TARGET" 2>/dev/null | grep -qE "^\s+mod\s+github.com/temporalio/cli\s+$VERSION\b"; then
  say "already installed: temporal $VERSION"
  exit 0
fi

# Build into a private temporary GOBIN; only a binary that runs is moved into place.
tmp="$(mktemp -d "$TOOLS_DIR/.temporal-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
say "building temporal $VERSION with go install (first time: a few minutes)..."
if ! GOBIN="$tmp" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@$VERSION" >"$tmp/build.log" 2>&1; then
  tail -n 15 "$tmp/build.log" >&2
  fail "go install github.com/temporalio/cli/cmd/temporal@$VERSION did not complete (GOPROXY=$(go env GOPROXY))" \
    "check that the Go module proxy is reachable (or set GOPROXY to a mirror), then rerun 'npm run setup'. Nothing was installed."
fi
"$tmp/temporal" --version >/dev/null 2>&1 || fail "the built temporal binary does not run" "see $tmp/build.log; rerun 'npm run setup'"
mv -f "$tmp/temporal" "$TARGET"
say "installed $("$TARGET" --version) at $TARGET"
