#!/usr/bin/env bash
# Starts a Kubernetes API server on loopback for the Kubernetes runtime's
# tests: etcd (Debian's etcd-server) and kube-apiserver built from
# k8s.io/kubernetes through a wrapper module (no kubelet, no controller
# manager: the tests play the node, see internal/runtime/kube/kubenode). The
# build takes 5-10 minutes cold on two cores and is cached by version outside
# the clone, in /var/cache/dockyard-ci/kube-apiserver-<version>.
#
# Authentication is a static token for an admin identity (group
# system:masters); authorization is RBAC. Prints `export` lines for
# DOCKYARD_TEST_KUBECONFIG (a kubeconfig for that admin), DOCKYARD_TEST_KUBE_PIDS
# (etcd's and kube-apiserver's, kill them when done) and DOCKYARD_TEST_KUBE_DIR
# (their files, remove it when done); on failure says why on stderr and exits 1.
# Use:
#   eval "$(bash .ci/kube.sh)"
# `bash .ci/kube.sh build` only builds (or finds) kube-apiserver and prints its path.
set -euo pipefail
export PATH=/usr/local/go/bin:$PATH
version=${DOCKYARD_TEST_KUBE_VERSION:-v1.32.13}
minor=${version#v1.}; minor=${minor%%.*}
cache=/var/cache/dockyard-ci/kube-apiserver-$version
bin=$cache/kube-apiserver

build() {
  if [ -x "$bin" ]; then
    return 0
  fi
  for cmd in go; do
    command -v "$cmd" >/dev/null 2>&1 || { echo "kube.sh: $cmd is missing" >&2; exit 1; }
  done
  mkdir -p "$cache"
  local work
  work=$(mktemp -d /tmp/dockyard-kube-build.XXXXXX)
  (
    cd "$work"
    # k8s.io/kubernetes replaces its staging modules with local paths; a
    # wrapper module requires it and pins every staging module to the
    # matching v0 release instead.
    go mod download "k8s.io/kubernetes@$version" >&2
    gomod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
    {
      echo "module dockyard.test/kubeapiserver"
      echo
      echo "go 1.23"
      echo
      echo "require k8s.io/kubernetes $version"
      echo
      sed -n '/^replace (/,/^)/p' "$gomod" | sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*#replace \1 => \1 v0.'"${version#v1.}"'#p'
    } > go.mod
    cat > tools.go <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
    GOFLAGS=-mod=mod go mod tidy -e >&2 || true
    ld="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld="$ld -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    done
    GOFLAGS=-mod=mod go build -trimpath -ldflags "$ld" -o "$bin.tmp" k8s.io/kubernetes/cmd/kube-apiserver >&2
    mv "$bin.tmp" "$bin"
  )
  rm -rf "$work"
}

build
if [ "${1:-}" = build ]; then
  echo "$bin"
  exit 0
fi

for cmd in etcd openssl curl; do
  if ! command -v "$cmd" >/dev/null 2>&1; then
    echo "kube.sh: $cmd is missing (apt-get install etcd-server openssl curl)" >&2
    exit 1
  fi
done

dir=$(mktemp -d /tmp/dockyard-kube.XXXXXX)
token=$(openssl rand -hex 24)
# The admin identity of the tests; the runtime's own identity is a
# ServiceAccount whose RBAC the tests check.
echo "$token,dockyard-test-admin,dockyard-test-admin,\"system:masters\"" > "$dir/tokens.csv"
openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kube-apiserver \
  -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null

free_port() {
  echo $(( 20000 + RANDOM % 20000 ))
}

fail() {
  echo "kube.sh: $1; logs:" >&2
  tail -n 40 "$dir"/*.log >&2 || true
  kill ${etcd_pid:-} ${api_pid:-} 2>/dev/null || true
  exit 1
}

started=
for try in 1 2 3 4 5; do
  cport=$(free_port); pport=$(free_port)
  etcd --name dockyard-test --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "dockyard-test=http://127.0.0.1:$pport" \
    --unsafe-no-fsync --log-level warn >"$dir/etcd.log" 2>&1 &
  etcd_pid=$!
  for _ in $(seq 100); do
    if curl -fs "http://127.0.0.1:$cport/health" >/dev/null 2>&1; then
      started=1
      break
    fi
    kill -0 "$etcd_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$started" ] && break
  kill "$etcd_pid" 2>/dev/null || true
  rm -rf "$dir/etcd"
done
[ -n "$started" ] || fail "etcd did not start"

started=
for try in 1 2 3 4 5; do
  port=$(free_port)
  "$bin" --etcd-servers "http://127.0.0.1:$cport" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$port" \
    --tls-cert-file "$dir/tls.crt" --tls-private-key-file "$dir/tls.key" \
    --client-ca-file "$dir/tls.crt" \
    --service-account-key-file "$dir/sa.key" --service-account-signing-key-file "$dir/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range 127.0.100.0/24 \
    --token-auth-file "$dir/tokens.csv" --authorization-mode RBAC \
    --enable-priority-and-fairness=false \
    >"$dir/kube-apiserver.log" 2>&1 &
  api_pid=$!
  for _ in $(seq 600); do
    if curl -fs --cacert "$dir/tls.crt" -H "Authorization: Bearer $token" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
      started=1
      break
    fi
    kill -0 "$api_pid" 2>/dev/null || break
    sleep 0.2
  done
  [ -n "$started" ] && break
  kill "$api_pid" 2>/dev/null || true
done
[ -n "$started" ] || fail "kube-apiserver did not start"

cat > "$dir/kubeconfig" <<CONF
apiVersion: v1
kind: Config
clusters:
- name: dockyard-test
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority: $dir/tls.crt
users:
- name: dockyard-test-admin
  user:
    token: $token
contexts:
- name: dockyard-test
  context:
    cluster: dockyard-test
    user: dockyard-test-admin
current-context: dockyard-test
CONF
echo "export DOCKYARD_TEST_KUBECONFIG=$dir/kubeconfig"
echo "export DOCKYARD_TEST_KUBE_PIDS='$etcd_pid $api_pid'"
echo "export DOCKYARD_TEST_KUBE_DIR=$dir"
