#!/usr/bin/env bash
# Step: the sandbox images reproductions, tests and dependency preparation run in: one per Python,
#   opsguard/sandbox-python:3.11 (Debian bookworm), :3.9 (bullseye), :3.13 (trixie),
# each with pytest and coverage.py (the runner needs them) and a C/C++ compiler with the Python headers
# (dependencies without a wheel for the interpreter are built at preparation time, in the same image,
# so what they link against is what the runs have). Pull python:X.Y-slim where a registry answers;
# otherwise debootstrap the Debian suite and `docker import` it. Each image carries a label with the
# hash of this recipe, so it is rebuilt only when the recipe changes.
#
# Also fetches pip's wheel into .tools/pip/: the preparation container runs pip from it (a wheel is
# runnable as `python3 pip.whl/pip`), so the images need no pip of their own.
#
# OPSGUARD_SANDBOX_PYTHONS (default "3.11 3.9 3.13") chooses which images to build; 3.11 comes first
# and is the default image. OPSGUARD_SANDBOX_IMAGE may name any image with Python as the default: then
# this step only checks that it exists.
STEP=sandbox-image
source "$(dirname "$0")/common.sh"

# Options: --source auto|pull|debootstrap (default auto), --python X.Y (only that one),
# --tag TAG (build the first of the Pythons under another tag: the set-up's own tests use it).
SOURCE=auto
TAG_OVERRIDE=
PYTHONS="${OPSGUARD_SANDBOX_PYTHONS:-3.11 3.9 3.13}"
while [ $# -gt 0 ]; do
  case "$1" in
    --source) SOURCE="$2"; shift 2 ;;
    --python) PYTHONS="$2"; shift 2 ;;
    --tag) TAG_OVERRIDE="$2"; shift 2 ;;
    *) fail "unknown option $1" "use --source auto|pull|debootstrap, --python X.Y and/or --tag TAG" ;;
  esac
done
RECIPE_HASH="$(sha256sum "$0" | cut -c1-16)"
LABEL=opsguard.recipe
PIP_VERSION=25.2

suite_of() {
  case "$1" in
    3.9) echo bullseye ;;
    3.11) echo bookworm ;;
    3.13) echo trixie ;;
    *) return 1 ;;
  esac
}

# pip for the preparation container (pip 25.2 runs on Python 3.9 and later).
PIP_DIR="$TOOLS_DIR/pip"
if [ ! -f "$PIP_DIR/pip-$PIP_VERSION-py3-none-any.whl" ]; then
  tmp_pip="$(mktemp -d "$TOOLS_DIR/.pip.XXXXXX")"
  python3 -m pip download -q --no-deps --only-binary=:all: "pip==$PIP_VERSION" -d "$tmp_pip" >"$STATE_DIR/pip-download.log" 2>&1 \
    || { rm -rf "$tmp_pip"; fail "could not download pip $PIP_VERSION's wheel (log: $STATE_DIR/pip-download.log)" "check that PyPI is reachable from this machine (python3 -m pip download pip), then rerun 'npm run setup'"; }
  chmod 755 "$tmp_pip" && chmod 644 "$tmp_pip"/*.whl
  rm -rf "$PIP_DIR" && mv "$tmp_pip" "$PIP_DIR"
fi
say "pip $PIP_VERSION for dependency preparation: $PIP_DIR"

if [ -n "${OPSGUARD_SANDBOX_IMAGE:-}" ]; then
  docker image inspect "$OPSGUARD_SANDBOX_IMAGE" >/dev/null 2>&1 \
    || fail "OPSGUARD_SANDBOX_IMAGE=$OPSGUARD_SANDBOX_IMAGE does not exist on this engine" "pull or build it first (it needs python3 on PATH), or unset OPSGUARD_SANDBOX_IMAGE"
  say "default image: $OPSGUARD_SANDBOX_IMAGE (OPSGUARD_SANDBOX_IMAGE)"
fi

build_one() {
  local version="$1" suite tag have cid root
  suite="$(suite_of "$version")" || fail "no recipe for Python $version" "choose among 3.9, 3.11 and 3.13 in OPSGUARD_SANDBOX_PYTHONS"
  tag="${TAG_OVERRIDE:-opsguard/sandbox-python:$version}"
  have="$(docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$tag" 2>/dev/null || true)"
  if [ "$have" = "$RECIPE_HASH" ]; then
    say "$tag is current (recipe $RECIPE_HASH)"
    return 0
  fi
  say "building $tag (recipe $RECIPE_HASH${have:+, replacing recipe $have})"
  local changes=(--change "LABEL $LABEL=$RECIPE_HASH" --change "LABEL opsguard.python=$version" --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]')

  # 1. A registry: the upstream image + pytest, coverage and a compiler, re-labelled.
  if [ "$SOURCE" != debootstrap ] && timeout 90 docker pull -q "python:$version-slim" >/dev/null 2>&1; then
    cid="$(docker run -d "python:$version-slim" sh -c 'pip install -q pytest coverage && apt-get update -qq && apt-get install -y -qq gcc g++ libc6-dev make >/dev/null')"
    if [ "$(docker wait "$cid")" = 0 ]; then
      docker commit "${changes[@]}" "$cid" "$tag" >/dev/null
      docker rm -f "$cid" >/dev/null
      say "tagged $tag from python:$version-slim + pytest + coverage + gcc"
      return 0
    fi
    docker rm -f "$cid" >/dev/null
    say "preparing python:$version-slim failed; falling back to debootstrap"
  fi
  [ "$SOURCE" = pull ] && fail "could not pull python:$version-slim (and --source pull forbids debootstrap)" "check the registry is reachable, or use --source auto"

  # 2. No registry: debootstrap the Debian suite with its python3, pytest, coverage and a compiler.
  if ! command -v debootstrap >/dev/null; then
    [ "$(id -u)" = 0 ] || fail "debootstrap is not installed and no registry answered" "install debootstrap (sudo apt-get install debootstrap) or make python:$version-slim pullable, then rerun"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >"$STATE_DIR/apt-debootstrap.log" 2>&1 \
      || fail "apt-get could not install debootstrap (log: $STATE_DIR/apt-debootstrap.log)" "check the Debian mirror is reachable, then rerun 'npm run setup'"
  fi
  local mirror="${OPSGUARD_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  root="$(mktemp -d "$STATE_DIR/.rootfs.XXXXXX")"
  say "debootstrap $suite from $mirror (a minute or two)..."
  if ! debootstrap --variant=minbase --include=python3,python3-pytest,python3-coverage,python3-dev,gcc,g++,libc6-dev,make \
    "$suite" "$root" "$mirror" >"$STATE_DIR/debootstrap-$suite.log" 2>&1; then
    tail -n 10 "$STATE_DIR/debootstrap-$suite.log" >&2
    rm -rf "$root"
    fail "debootstrap could not fetch $suite from $mirror (log: $STATE_DIR/debootstrap-$suite.log)" \
      "check that the Debian mirror is reachable (or set OPSGUARD_DEBIAN_MIRROR / http_proxy), or leave $version out of OPSGUARD_SANDBOX_PYTHONS, then rerun 'npm run setup'. No image was tagged."
  fi
  ln -sf python3 "$root/usr/bin/python"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import "${changes[@]}" - "$tag" >/dev/null
  rm -rf "$root"
  say "imported $tag ($(docker image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

for v in $PYTHONS; do
  build_one "$v"
  [ -z "$TAG_OVERRIDE" ] || break
done
