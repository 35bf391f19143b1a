#!/usr/bin/env bash
# Installs what is missing (Debian 12 packages), builds Ferry and runs the whole test suite:
# unit tests, and integration tests that start real PostgreSQL 15 servers and the ferry binary.
# Usage: scripts/test.sh [extra ctest arguments, e.g. -R Exactly]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

ferry_install_dependencies
echo "==> building (build/)"
ferry_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "==> running the test suite"
cd build
ctest --output-on-failure --timeout 900 -j"$(nproc)" "$@"
