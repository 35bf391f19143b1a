#!/usr/bin/env bash
# systemd-analyze verify of Ferry's systemd units, one instance of each template, as the package
# installs them: scripts/verify_units.sh PACKAGE.deb, or, with the units of the source tree and a
# built binary, scripts/verify_units.sh --binary build/cli/ferry (the test suite's way).
set -euo pipefail
argument=$(readlink -f "${2:-$1}")  # before the cd below: a path relative to the caller
cd "$(dirname "$0")/.."

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
if [ "${1:-}" = "--binary" ]; then
  units=packaging/systemd
  binary=$argument
else
  dpkg-deb -x "$argument" "$root"
  units="$root/lib/systemd/system"
  binary="$root/usr/bin/ferry"
fi

# An instance of each template, with ExecStart naming the binary to check.
mkdir -p "$root/verify"
for kind in capture apply; do
  sed "s#/usr/bin/ferry#$binary#g" "$units/ferry-$kind@.service" \
    >"$root/verify/ferry-$kind@example.service"
done
cd "$root/verify"
output=$(systemd-analyze verify --man=no ferry-capture@example.service ferry-apply@example.service 2>&1 || true)
# Only what concerns our units counts: a container's own unit files may draw warnings of theirs.
ours=$(printf '%s\n' "$output" | grep -E 'ferry-(capture|apply)@' || true)
if [ -n "$ours" ]; then
  printf '%s\n' "$ours" >&2
  echo "!! systemd-analyze verify found problems in Ferry's units" >&2
  exit 1
fi
echo "systemd-analyze verify: ferry-capture@.service and ferry-apply@.service ok"
