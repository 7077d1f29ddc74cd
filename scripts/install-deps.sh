#!/usr/bin/env bash
# Installs every Debian package the project needs to build, test, fuzz and bench. Idempotent.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config
  ninja-build                       # scripts/mutate.sh: one-file rebuilds in seconds (make works too)
  clang libclang-rt-14-dev          # libFuzzer + sanitizers runtime
  libsodium-dev libssl-dev libcurl4-openssl-dev libmicrohttpd-dev libcjson-dev
  libtss2-dev swtpm swtpm-tools tpm2-tools
  libpoppler-glib-dev               # PDF text for --context and /attach
  libedit-dev                       # line editing and history in 'minions-secure chat'
  tmux                              # drives the chat on a real terminal in its tests
  fuse3 libfuse3-dev                # tests only: a fake configfs-tsm served to a supervisor process
  python3 python3-cryptography      # independent (OpenSSL-backed) implementation for test vectors
  valgrind openssl curl
  nodejs chromium                  # tests only: the openai npm package and a headless browser against serve
  haproxy                          # tests only: scale-out behind a real load balancer
  dpkg-dev fakeroot lintian        # scripts/package-deb.sh: shlibs Depends, root-owned files, checks
  systemd                          # systemd-analyze verify on the shipped units
)

missing=()
# npm: Debian packages it apart from nodejs; some nodejs builds ship it (and conflict with it).
if ! command -v npm >/dev/null 2>&1; then PKGS+=(npm); fi

for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages the tests use (tests/node: one package.json, versions pinned by its
# package-lock.json). npm ci installs exactly the lock; skipped when node_modules already
# matches it (npm writes node_modules/.package-lock.json as it installs).
NODE_DIR="$(cd "$(dirname "$0")/.." && pwd)/tests/node"
if [ -f "$NODE_DIR/package-lock.json" ]; then
  if [ -f "$NODE_DIR/node_modules/.package-lock.json" ] &&
     [ "$NODE_DIR/node_modules/.package-lock.json" -nt "$NODE_DIR/package-lock.json" ]; then
    echo "install-deps: tests/node's npm packages present"
  else
    echo "install-deps: npm ci in tests/node"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
