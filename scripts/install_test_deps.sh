#!/usr/bin/env bash
# Installs the system packages the test suite needs besides Node and PostgreSQL:
#   - golang-go + sprig + yaml.v3: builds the Helm chart renderer used when `helm` is absent
#   - prometheus, prometheus-alertmanager: promtool / amtool and a real Prometheus for alert tests
#   - chromium: the headless browser the Backoffice tests drive (playwright-core, /usr/bin/chromium)
#   - haproxy: the load balancer in front of several BFF replicas (test/multiReplica.test.ts)
# Debian/Ubuntu only. Does nothing when everything is there already.
set -euo pipefail

need=()
command -v go >/dev/null 2>&1 || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/Masterminds/sprig ] || need+=(golang-github-masterminds-sprig-dev)
[ -d /usr/share/gocode/src/gopkg.in/yaml.v3 ] || need+=(golang-gopkg-yaml.v3-dev)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
# Any of these will do (GitHub's Ubuntu runners have Google Chrome; Ubuntu's apt chromium is a snap stub).
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 \
  || [ -n "${CHROMIUM_PATH:-}" ] || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  echo "install_test_deps: all system packages present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  apt=(apt-get)
elif command -v sudo >/dev/null 2>&1; then
  apt=(sudo apt-get)
else
  echo "install_test_deps: missing ${need[*]}; install them with: apt-get install ${need[*]}" >&2
  exit 1
fi
echo "install_test_deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
"${apt[@]}" update -qq
"${apt[@]}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The Debian prometheus and haproxy packages start a service on some systems; the tests run their own on loopback.
if command -v systemctl >/dev/null 2>&1; then systemctl stop prometheus prometheus-alertmanager haproxy >/dev/null 2>&1 || true; fi
echo "install_test_deps: done"
