#!/usr/bin/env bash
# Make sure Debian's chromium and chromedriver are installed (browser tests need them).
# Installs them with apt-get when missing; exits non-zero, loudly, when that is impossible.
set -euo pipefail

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
  exit 0
fi

if [[ "$(id -u)" == "0" ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo -n)
else
  echo "ERROR: chromium is missing and this user can neither run apt-get nor sudo." >&2
  echo "       Install Debian's 'chromium' and 'chromium-driver' packages, then run make test again." >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ERROR: chromium is missing and apt-get is not available: install chromium and chromedriver" >&2
  echo "       so that /usr/bin/chromium and /usr/bin/chromedriver exist." >&2
  exit 1
fi

echo "Installing Debian's chromium and chromium-driver (browser tests)..."
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends chromium chromium-driver

for binary in /usr/bin/chromium /usr/bin/chromedriver; do
  if [[ ! -x "$binary" ]]; then
    echo "ERROR: $binary is still missing after apt-get install" >&2
    exit 1
  fi
done
