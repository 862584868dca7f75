#!/usr/bin/env bash
# Step: Debian's nginx, for the test that connects a worker and the CLI to Temporal over mutual TLS
# (the dev server has no TLS of its own: nginx terminates TLS, checks client certificates, and
# grpc_passes to it). Optional for using OpsGuard: without it, that one test says loudly that it did
# not run. No nginx service is started: the test runs its own instance on a port of its own.
STEP=tls-proxy
source "$(dirname "$0")/common.sh"

if command -v nginx >/dev/null; then
  say "nginx present ($(nginx -v 2>&1 | sed 's/^nginx version: //'))"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  say "WARNING: no nginx and not root on Debian: the mutual-TLS connection test will not run"
  exit 0
fi
say "installing Debian's nginx-core (apt-get; its service is not started)..."
# policy-rc.d with exit 101 tells Debian's maintainer scripts not to start services.
had_policy=0
[ -e /usr/sbin/policy-rc.d ] && had_policy=1
[ "$had_policy" = 1 ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d; }
install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-core >>"$STATE_DIR/apt-nginx.log" 2>&1; }
ok=0
install || { apt-get update -qq >>"$STATE_DIR/apt-nginx.log" 2>&1 || true; install; } || ok=$?
[ "$had_policy" = 1 ] || rm -f /usr/sbin/policy-rc.d
if [ "$ok" != 0 ]; then
  tail -n 8 "$STATE_DIR/apt-nginx.log" >&2
  fail "apt-get could not install nginx-core (log: $STATE_DIR/apt-nginx.log)" "check that the Debian mirror is reachable, then rerun 'npm run setup'"
fi
say "installed $(nginx -v 2>&1 | sed 's/^nginx version: //')"
