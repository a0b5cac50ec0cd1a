#!/usr/bin/env bash
# Installs the Debian packages isoflop needs on a fresh machine: OpenBLAS and SQLite for the
# engine and run store, libpq for PostgreSQL run stores and the PostgreSQL server the store
# tests start, and the packages the built-in corpora are made from.
set -euo pipefail
need=()
for pkg in pkg-config libopenblas-dev libsqlite3-dev libpq-dev postgresql python3.11-doc dict-gcide; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
