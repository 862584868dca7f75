#!/usr/bin/env bash
# Everything OpsGuard needs on a machine, idempotent; the first run installs, later runs check.
# Steps (each its own script in scripts/setup/): npm-deps, temporal-cli, temporal-test-server, docker-engine, sandbox-image,
# browser, tls-proxy, s3-test-server, cli-bundle.
# Prints the time each step took and writes them to .state/setup-timings.json.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="${OPSGUARD_STATE_DIR:-$here/../.state}"
mkdir -p "$state"
json="{"
for step in npm-deps temporal-cli temporal-test-server docker-engine sandbox-image browser tls-proxy s3-test-server cli-bundle; do
  start=$(date +%s.%N)
  bash "$here/setup/$step.sh"
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  printf '[setup] %-14s %6ss\n' "$step" "$secs" >&2
  json="$json\"$step\": $secs, "
done
echo "${json%, }, \"at\": \"$(date -u +%FT%TZ)\"}" >"$state/setup-timings.json"
