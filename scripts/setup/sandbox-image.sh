#!/usr/bin/env bash
# Step: the sandbox image (a Python 3.11 with pytest and coverage.py) that reproductions and tests run in.
# Pull python:3.11-slim where a registry answers; otherwise build Debian bookworm's python3 with
# debootstrap and `docker import` it. The image carries a label with the hash of this recipe, so it
# is rebuilt only when the recipe changes. OPSGUARD_SANDBOX_IMAGE may name any image with Python:
# then this step only checks that it exists.
STEP=sandbox-image
source "$(dirname "$0")/common.sh"

# Options: --tag TAG (build under another tag), --source auto|pull|debootstrap (default auto).
DEFAULT_TAG=opsguard/sandbox-python:3.11
TAG="${OPSGUARD_SANDBOX_IMAGE:-$DEFAULT_TAG}"
SOURCE=auto
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG="$2"; DEFAULT_TAG="$2"; shift 2 ;;
    --source) SOURCE="$2"; shift 2 ;;
    *) fail "unknown option $1" "use --tag TAG and/or --source auto|pull|debootstrap" ;;
  esac
done
RECIPE_HASH="$(sha256sum "$0" | cut -c1-16)"
LABEL=opsguard.recipe

if [ "$TAG" != "$DEFAULT_TAG" ]; then
  docker image inspect "$TAG" >/dev/null 2>&1 \
    || fail "OPSGUARD_SANDBOX_IMAGE=$TAG does not exist on this engine" "pull or build it first (it needs python3 on PATH), or unset OPSGUARD_SANDBOX_IMAGE"
  say "using $TAG (OPSGUARD_SANDBOX_IMAGE)"
  exit 0
fi

have="$(docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$TAG" 2>/dev/null || true)"
if [ "$have" = "$RECIPE_HASH" ]; then
  say "$TAG is current (recipe $RECIPE_HASH)"
  exit 0
fi
say "building $TAG (recipe $RECIPE_HASH${have:+, replacing recipe $have})"

changes=(--change "LABEL $LABEL=$RECIPE_HASH" --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]')

# 1. A registry: pull the upstream image and re-label it (commit keeps its layers and config).
if [ "$SOURCE" != debootstrap ] && timeout 90 docker pull -q python:3.11-slim >/dev/null 2>&1; then
  # pytest runs the repositories' tests, coverage.py tells which changed lines a run executed; the slim image lacks both.
  cid="$(docker run -d python:3.11-slim sh -c 'pip install -q pytest coverage')"
  trap 'docker rm -f "$cid" >/dev/null 2>&1 || true' EXIT
  if [ "$(docker wait "$cid")" = 0 ]; then
    docker commit "${changes[@]}" "$cid" "$TAG" >/dev/null
    say "tagged $TAG from python:3.11-slim + pytest + coverage"
    exit 0
  fi
  say "pip install pytest coverage failed in python:3.11-slim; falling back to debootstrap"
fi
[ "$SOURCE" = pull ] && fail "could not pull python:3.11-slim (and --source pull forbids debootstrap)" "check the registry is reachable, or use --source auto"

# 2. No registry: debootstrap a minimal bookworm with python3, pytest and coverage from the Debian mirror.
if ! command -v debootstrap >/dev/null; then
  [ "$(id -u)" = 0 ] || fail "debootstrap is not installed and no registry answered" "install debootstrap (sudo apt-get install debootstrap) or make python:3.11-slim pullable, then rerun"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >"$STATE_DIR/apt-debootstrap.log" 2>&1 \
    || fail "apt-get could not install debootstrap (log: $STATE_DIR/apt-debootstrap.log)" "check the Debian mirror is reachable, then rerun 'npm run setup'"
fi
MIRROR="${OPSGUARD_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
root="$(mktemp -d "$STATE_DIR/.rootfs.XXXXXX")"
trap 'rm -rf "$root"' EXIT
say "debootstrap bookworm from $MIRROR (about a minute)..."
if ! debootstrap --variant=minbase --include=python3,python3-pytest,python3-coverage bookworm "$root" "$MIRROR" >"$STATE_DIR/debootstrap.log" 2>&1; then
  tail -n 10 "$STATE_DIR/debootstrap.log" >&2
  fail "debootstrap could not fetch bookworm from $MIRROR (log: $STATE_DIR/debootstrap.log)" \
    "check that the Debian mirror is reachable (or set OPSGUARD_DEBIAN_MIRROR / http_proxy), or point OPSGUARD_SANDBOX_IMAGE at an image with Python, then rerun 'npm run setup'. No image was tagged."
fi
ln -sf python3 "$root/usr/bin/python"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import "${changes[@]}" - "$TAG" >/dev/null
say "imported $TAG ($(docker image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
