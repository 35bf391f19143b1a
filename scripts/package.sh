#!/usr/bin/env bash
# Builds the Debian package of Ferry: build-pkg/ferry_<version>_amd64.deb (Release build,
# dependencies from dpkg-shlibdeps), then checks it with lintian and its systemd units with
# systemd-analyze verify. Install it with: apt install ./build-pkg/ferry_<version>_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

# dpkg-shlibdeps (dpkg-dev) finds the shared libraries' packages; lintian checks the result.
FERRY_PACKAGES+=(dpkg-dev file lintian systemd)
ferry_install_dependencies

echo "==> building (build-pkg/, Release)"
ferry_build build-pkg -DCMAKE_BUILD_TYPE=Release
echo "==> packaging"
(cd build-pkg && cpack -G DEB >/dev/null)
deb=$(ls build-pkg/ferry_*_amd64.deb)

echo "==> lintian $deb"
# Errors fail the build; warnings are shown.
lintian --fail-on error --suppress-tags no-manual-page "$deb"

echo "==> systemd-analyze verify (the units as installed)"
scripts/verify_units.sh "$deb"

echo "==> $deb"
dpkg-deb --info "$deb" | sed -n 's/^ \(Depends\|Installed-Size\|Version\):/  \1:/p'
