#!/usr/bin/env bash
# Debian packages the test suite needs as real local counterparts of outside services. Installs the
# missing ones when run as root (CI); otherwise prints the command to run. Safe to run any number of times.
#
# One line per package: the command that shows it is installed (or "-" for a library, checked with
# dpkg), then the Debian package.
set -euo pipefail

PACKAGES=(
  # The IMAP server the email-in tests poll (tests/connectors/imap_server.py).
  "dovecot dovecot-imapd"
  # The Redis server the broker tests and `make bench` start on a loopback port (tests/redis_server.py).
  "redis-server redis-server"
  # WeasyPrint lays out the invoice PDFs with pango (ADR 0017); the app needs these at run time.
  "- libpango-1.0-0"
  "- libpangoft2-1.0-0"
  "- fonts-dejavu-core"
  # The invoice tests read the PDFs as a recipient does: text and page images (poppler), QR codes (zbar).
  "pdftotext poppler-utils"
  "zbarimg zbar-tools"
)

missing=()
for entry in "${PACKAGES[@]}"; do
  read -r command package <<<"$entry"
  if [ "$command" = "-" ]; then
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
      missing+=("$package")
    fi
  # Debian installs daemons under /usr/sbin, which is not on every user's PATH.
  elif ! command -v "$command" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$command" ]; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "missing system packages for the tests: run 'sudo apt-get install ${missing[*]}'" >&2
fi
