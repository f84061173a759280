#!/usr/bin/env bash
# The integration tests run real binaries: redis-server (each test file starts its own),
# Prometheus's promtool/prometheus (alert-rule tests, the real-Prometheus scrape test) and a
# headless Chromium (the Webhooks page's browser test; CHROMIUM_PATH names another one).
# Installs what is missing from Debian's packages when it can (root with apt-get); otherwise
# says what to install and fails.
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
{ command -v promtool >/dev/null && command -v prometheus >/dev/null; } || missing+=(prometheus)
[ -n "${CHROMIUM_PATH:-}" ] || command -v chromium >/dev/null || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing test tools from Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian package may start a system Prometheus on :9090; the tests start their own.
  pkill -x prometheus 2>/dev/null || true
else
  echo "The tests need these packages: ${missing[*]} (e.g. sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
