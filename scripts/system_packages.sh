#!/usr/bin/env bash
# The system packages the integration and browser tests use (or, given as arguments, just
# those: `make run` asks for redis-server). Installed with apt-get when running as root on
# Debian; otherwise the missing ones are named, and the tests that need them fail with a
# clear message (they never skip silently).
set -euo pipefail
if (($# > 0)); then
  packages=("$@")
else
  packages=(openssh-server openssh-client vsftpd gnupg chromium pigz curl sqlite3 redis-server)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts some daemons on install; the tests and `make run` start their own on
  # random ports (Redis with a password), so stop the ones just installed.
  for p in "${missing[@]}"; do
    case "$p" in
      openssh-server) service=ssh ;;
      vsftpd | redis-server) service=$p ;;
      *) continue ;;
    esac
    if command -v service >/dev/null; then service "$service" stop >/dev/null 2>&1 || true; fi
  done
else
  echo "Missing system packages (install them, as root: apt-get install ${missing[*]})." >&2
  echo "What needs them will fail: the integration tests, or make run's private Redis when no" >&2
  echo "Redis answers at REDIS_URL." >&2
fi
