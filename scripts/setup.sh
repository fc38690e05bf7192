#!/usr/bin/env bash
# Installs the system packages the test suite needs when they are missing: redis-server and
# redis-cli (Redis and Redis Cluster), etcd (etcd-server 3.4) and Chromium (dashboard tests).
# Needs root (or sudo) on Debian/Ubuntu. The npm packages come from `npm ci`.
set -euo pipefail

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then
  echo "setup: redis-server, redis-cli, etcd and chromium are present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: apt-get install ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian may start the packaged services; the tests start their own on free ports.
$sudo service redis-server stop >/dev/null 2>&1 || true
$sudo service etcd stop >/dev/null 2>&1 || true
echo "setup: done"
