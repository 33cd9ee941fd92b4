#!/usr/bin/env bash
# Builds the agent image the Docker tests run notebooks in, without any
# registry, with the product command: `dockyard images build golden-cpu
# --no-add` (a debootstrap root file system with python3, pandas, numpy,
# scikit-learn and Jupyter's Notebook, plus this checkout's static dockyard
# binary), tagged dockyard-agent:ci. The root file system is cached under
# $DOCKYARD_TEST_GOLDEN_CACHE (default /var/cache/dockyard-ci/golden-rootfs),
# keyed by the package list: the first build there needs root, debootstrap
# and Debian's mirror (about 8 minutes); later ones import the cached tar
# (under a minute). Prints the image name on success; on failure says why
# on stderr and exits 1.
set -euo pipefail
image=dockyard-agent:ci
cache=${DOCKYARD_TEST_GOLDEN_CACHE:-/var/cache/dockyard-ci/golden-rootfs}
if [ "$(id -u)" = 0 ] && ! command -v debootstrap >/dev/null 2>&1; then
  apt-get install -y -qq debootstrap >/dev/null
fi
old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -ldflags='-s -w' -o "$work/dockyard" ./cmd/dockyard
if ! "$work/dockyard" images build golden-cpu --no-add --agent "$work/dockyard" --cache-dir "$cache" \
    --tag "$image" >/dev/null 2>"$work/build.log"; then
  tail -n 30 "$work/build.log" >&2
  exit 1
fi
# The previous build's image is left untagged; remove it so runs do not pile up.
new=$(docker image inspect -f '{{.Id}}' "$image")
if [ -n "$old" ] && [ "$old" != "$new" ]; then
  docker rmi "$old" >/dev/null 2>&1 || true
fi
echo "$image"
