#!/usr/bin/env bash
# Starts a private registry on loopback for the image tests' Docker Engine
# path: Debian's docker-registry with TLS (a self-signed certificate for
# IP:127.0.0.1) and htpasswd authentication. Prints `export` lines for
# DOCKYARD_TEST_REGISTRY (HOST:PORT), DOCKYARD_TEST_REGISTRY_CA (the
# certificate's file), DOCKYARD_TEST_REGISTRY_USER,
# DOCKYARD_TEST_REGISTRY_PASSWORD and DOCKYARD_TEST_REGISTRY_PID (kill it
# when done); on failure says why on stderr and exits 1. Use:
#   eval "$(bash .ci/registry.sh)"
set -euo pipefail
for cmd in docker-registry htpasswd openssl curl; do
  if ! command -v "$cmd" >/dev/null 2>&1; then
    echo "registry.sh: $cmd is missing (apt-get install docker-registry apache2-utils openssl curl)" >&2
    exit 1
  fi
done
dir=$(mktemp -d /tmp/dockyard-registry.XXXXXX)
user=dockyard
password=$(openssl rand -hex 16)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
htpasswd -Bbn "$user" "$password" > "$dir/htpasswd" 2>/dev/null
for try in 1 2 3 4 5; do
  port=$(( 20000 + RANDOM % 20000 ))
  cat > "$dir/config.yml" <<CONF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  tls:
    certificate: $dir/cert.pem
    key: $dir/key.pem
auth:
  htpasswd:
    realm: dockyard-test
    path: $dir/htpasswd
CONF
  docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/cert.pem" "https://127.0.0.1:$port/v2/" || true)
    if [ "$code" = 401 ]; then
      echo "export DOCKYARD_TEST_REGISTRY=127.0.0.1:$port"
      echo "export DOCKYARD_TEST_REGISTRY_CA=$dir/cert.pem"
      echo "export DOCKYARD_TEST_REGISTRY_USER=$user"
      echo "export DOCKYARD_TEST_REGISTRY_PASSWORD=$password"
      echo "export DOCKYARD_TEST_REGISTRY_PID=$pid"
      exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
done
echo "registry.sh: docker-registry did not start; its log:" >&2
cat "$dir/registry.log" >&2
exit 1
