#!/usr/bin/env bash
# staticcheck over the whole module, installed from the Go module proxy.
# The binary is kept outside the clone, keyed by staticcheck's and Go's
# versions (a staticcheck built by an older Go cannot load a newer standard
# library), so a rerun does not rebuild it. Run it alone after a merge:
#   bash .ci/staticcheck.sh
# Exits non-zero on any finding. A finding that is wrong for a stated reason
# is silenced where it stands with `//lint:ignore CHECK reason`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

version=v0.8.2
bin=${XDG_CACHE_HOME:-$HOME/.cache}/dockyard-ci/staticcheck-$version-$(go env GOVERSION)
if [ ! -x "$bin/staticcheck" ]; then
  # go install with @version leaves go.mod alone.
  GOBIN="$bin" go install "honnef.co/go/tools/cmd/staticcheck@$version"
fi
"$bin/staticcheck" ./...
