#!/usr/bin/env bash
# Builds the project and runs the demo: a handshake and an encrypted exchange, in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh >/dev/null
cmake -S . -B build >/dev/null
cmake --build build -j "$(nproc)" --target minions-channel-demo >/dev/null
exec ./build/bin/minions-channel-demo
