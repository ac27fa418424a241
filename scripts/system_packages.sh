#!/usr/bin/env bash
# The system packages the integration and browser tests use. Installed with apt-get when
# running as root on Debian; otherwise the missing ones are named, and the tests that need
# them fail with a clear message (they never skip silently).
set -euo pipefail
packages=(openssh-server openssh-client vsftpd gnupg chromium pigz curl sqlite3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "Installing system packages for the tests: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts some daemons on install; the tests start their own on random ports.
  for service in ssh vsftpd; do
    if command -v service >/dev/null; then service "$service" stop >/dev/null 2>&1 || true; fi
  done
else
  echo "Missing system packages (install them, as root: apt-get install ${missing[*]})." >&2
  echo "The integration tests that need them will fail." >&2
fi
