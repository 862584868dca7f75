#!/usr/bin/env bash
# Step: a Docker engine that answers. Order: use a working one; else, as root on Debian, install
# Debian's docker.io and start dockerd in the background (log: .state/dockerd.log); else explain.
STEP=docker-engine
source "$(dirname "$0")/common.sh"

LOG="$STATE_DIR/dockerd.log"

engine_answers() { timeout 20 docker info >/dev/null 2>&1; }

if command -v docker >/dev/null && engine_answers; then
  say "engine already answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
  exit 0
fi

is_root_debian() { [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null; }
if ! is_root_debian; then
  fail "no Docker engine answers ('docker info' fails) and this is not a root Debian machine, so OpsGuard will not install one" \
    "start Docker yourself (e.g. 'sudo systemctl start docker', or Docker Desktop), make sure 'docker info' works for this user, then rerun"
fi

if ! command -v dockerd >/dev/null; then
  say "installing Debian's docker.io (apt-get)..."
  # Fresh machines have no package lists yet; an update is cheap when lists exist.
  if ! apt-get update -qq >"$STATE_DIR/apt.log" 2>&1 \
    || ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io iptables >>"$STATE_DIR/apt.log" 2>&1; then
    tail -n 10 "$STATE_DIR/apt.log" >&2
    # apt is transactional per package: a failed download installs nothing.
    fail "apt-get could not install docker.io from the Debian mirror (log: $STATE_DIR/apt.log)" \
      "check that the Debian mirror in /etc/apt/sources.list* is reachable (or set http_proxy), then rerun 'npm run setup'"
  fi
fi

if pgrep -x dockerd >/dev/null; then
  say "dockerd is running but does not answer yet; waiting"
else
  say "starting dockerd in the background (log: $LOG)"
  # setsid: the daemon outlives this script and the npm process that ran it.
  setsid nohup dockerd >"$LOG" 2>&1 </dev/null &
fi
for _ in $(seq 1 60); do
  if engine_answers; then
    say "engine answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    exit 0
  fi
  sleep 1
done
tail -n 20 "$LOG" >&2 || true
fail "dockerd did not answer within 60 s (log: $LOG)" "read $LOG; stop any half-started dockerd (pkill dockerd) and rerun"
