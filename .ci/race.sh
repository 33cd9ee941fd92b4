#!/usr/bin/env bash
# go test -race on the packages with concurrency: every package but three,
# and a subset of internal/server's tests. Measured on a two-core machine
# shared with other work: about 3 minutes in all with a warm build cache
# (the server subset is 1.5 of them); a cold cache adds about 3 minutes of
# race builds of every dependency, so the first run takes about 6.
#
# Left out, and why:
# - internal/server as a whole: about 5 minutes without -race and several
#   times that with it. Its tests that run things at the same time do run:
#   blob GC during imports, the notebook sync loop and its faults (agent
#   killed, server outage, refused stop), containers adopted after a
#   restart, and the Jupyter proxy (HTTP and kernel WebSockets through
#   server and agent) with idle culling (40 s under -race). Its own goroutines are the packages' below, which run in full.
# - internal/cli: its one goroutine serves the quickstart's server and hands
#   back the error on a channel; its tests (45 s under -race) exercise flags
#   and output.
# - internal/runtime/docker: its one goroutine copies the daemon's log
#   stream into a pipe; its tests (a minute) need a Docker daemon.
# -race needs cgo and a C compiler (.ci/run installs gcc where it can).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
export CGO_ENABLED=1
if ! command -v "$(go env CC)" >/dev/null 2>&1; then
  echo "race: no C compiler ($(go env CC)); -race needs one: apt-get install gcc libc6-dev" >&2
  exit 1
fi

pkgs=$(go list ./... | grep -v -x \
  -e 'github.com/dockyard/dockyard/internal/server' \
  -e 'github.com/dockyard/dockyard/internal/cli' \
  -e 'github.com/dockyard/dockyard/internal/runtime/docker')
# shellcheck disable=SC2086 # one package a word
go test -race -count=1 $pkgs
go test -race -count=1 ./internal/server/ \
  -run '^(TestGCDuringImportsKeepsTheirBlobs|TestNotebookSync.*|TestSyncFault.*|TestContainers.*|TestJupyter.*)$'
