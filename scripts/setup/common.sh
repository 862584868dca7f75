# Shared helpers for the set-up steps. Sourced, never run.
# Every step: idempotent, installs into the project's git-ignored folders, and on failure prints
# which step failed and what to do, leaving nothing that looks installed.
set -euo pipefail

OPSGUARD_ROOT="${OPSGUARD_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
TOOLS_DIR="${OPSGUARD_TOOLS_DIR:-$OPSGUARD_ROOT/.tools}"
STATE_DIR="${OPSGUARD_STATE_DIR:-$OPSGUARD_ROOT/.state}"
mkdir -p "$TOOLS_DIR/bin" "$STATE_DIR"

STEP="${STEP:-setup}"

say() { printf '[setup:%s] %s\n' "$STEP" "$*" >&2; }

# fail WHAT_HAPPENED WHAT_TO_DO
fail() {
  printf '\n[setup:%s] FAILED: %s\n[setup:%s] What to do: %s\n\n' "$STEP" "$1" "$STEP" "$2" >&2
  exit 1
}
