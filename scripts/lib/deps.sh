# Installs the Debian 12 packages Ferry needs to build and test, if any are missing.
# Sourced by scripts/test.sh and scripts/quickstart.sh.

FERRY_PACKAGES=(
  build-essential cmake ninja-build pkg-config git curl
  libpq-dev postgresql-15 postgresql-client-15
  libprotobuf-dev protobuf-compiler
  libboost-dev libspdlog-dev libyaml-cpp-dev nlohmann-json3-dev libssl-dev
  libgtest-dev libgmock-dev libzstd-dev zlib1g-dev
  libmariadb-dev mariadb-server mariadb-client libmysqlcppconn-dev
)

ferry_install_dependencies() { ferry_install_packages "${FERRY_PACKAGES[@]}"; }

# ferry_install_packages PACKAGE...: installs those of the Debian packages that are missing (the
# benchmarks' optional tools too: sysbench, gnuplot-nox).
ferry_install_packages() {
  local missing=() package
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
      missing+=("$package")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "==> installing missing Debian packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ferry_build() {
  local build_dir="$1"
  shift
  cmake -S . -B "$build_dir" -G Ninja "$@" >/dev/null
  cmake --build "$build_dir" -j"$(nproc)"
}
