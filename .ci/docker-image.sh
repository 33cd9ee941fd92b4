#!/usr/bin/env bash
# Builds the agent image the Docker fit test runs notebooks in, without any
# registry: a Debian rootfs made with debootstrap (kept as dockyard-base:bookworm
# between runs on the same machine) plus this checkout's static dockyard binary.
# Prints the image name on success; on failure says why on stderr and exits 1.
set -euo pipefail
base=dockyard-base:bookworm
image=dockyard-agent:ci
if ! docker image inspect "$base" >/dev/null 2>&1; then
  apt-get install -y -qq debootstrap >/dev/null
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase --include=python3,python3-pandas bookworm "$rootfs" >/dev/null
  tar -C "$rootfs" -c . | docker import - "$base" >/dev/null
fi
old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
ctx=$(mktemp -d)
CGO_ENABLED=0 go build -ldflags='-s -w' -o "$ctx/dockyard" ./cmd/dockyard
printf 'FROM %s\nCOPY dockyard /dockyard\nENTRYPOINT ["/dockyard"]\n' "$base" > "$ctx/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t "$image" "$ctx" >/dev/null
rm -rf "$ctx"
# The previous build's image is left untagged; remove it so runs do not pile up.
new=$(docker image inspect -f '{{.Id}}' "$image")
if [ -n "$old" ] && [ "$old" != "$new" ]; then
  docker rmi "$old" >/dev/null 2>&1 || true
fi
echo "$image"
