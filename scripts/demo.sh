#!/usr/bin/env bash
# Builds the project, then shows the channel in one process and a real client/supervisor run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
./scripts/install-deps.sh >/dev/null
cmake -S . -B build >/dev/null
cmake --build build -j "$(nproc)" --target minions-channel-demo llm-sim minions-supervisor minions-secure >/dev/null

echo "== Part 1: the channel, in one process =="
./build/bin/minions-channel-demo
echo

echo "== Part 2: three real processes on 127.0.0.1 =="
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_port() { # file
  for _ in $(seq 100); do [ -s "$1" ] && { cat "$1"; return 0; }; sleep 0.1; done
  echo "demo: a service did not start (see $work)" >&2; return 1
}

./build/bin/llm-sim --port-file "$work/sim.port" --script tools/demo/llm-sim-script.json \
  --log "$work/engine-requests.log" 2>"$work/sim.err" &
pids+=($!)
SIM=$(wait_port "$work/sim.port")
echo "model engine (llm-sim standing in for vLLM) on 127.0.0.1:$SIM"

./build/bin/minions-supervisor --listen 127.0.0.1:0 --port-file "$work/sup.port" \
  --tls-cert certs/dev/server.pem --tls-key certs/dev/server.key \
  --backend-url "http://127.0.0.1:$SIM/v1" --backend-model demo-model \
  --dev-key "$work/dev-attestation.pem" --access-log "$work/access.log" 2>"$work/sup.err" &
pids+=($!)
SUP=$(wait_port "$work/sup.port")
echo "supervisor on https://127.0.0.1:$SUP (development certificates, dev-key evidence)"
echo

prompt="Our EDR flagged lateral movement from build-02. What should we contain first?"
echo "client: minions-secure --prompt \"$prompt\""
./build/bin/minions-secure --supervisor_url "https://127.0.0.1:$SUP" \
  --trusted_attestation_pem "$work/dev-attestation.pem.pub" --cacert certs/dev/ca.pem \
  --prompt "$prompt"
echo

echo "== Part 3: a client that pins another key refuses to talk =="
openssl genpkey -algorithm ED25519 2>/dev/null | openssl pkey -pubout >"$work/other.pub"
before=$(wc -l <"$work/engine-requests.log")
set +e
./build/bin/minions-secure --supervisor_url "https://127.0.0.1:$SUP" \
  --trusted_attestation_pem "$work/other.pub" --cacert certs/dev/ca.pem --prompt "$prompt" \
  >/dev/null 2>"$work/refused.err"
rc=$?
set -e
after=$(wc -l <"$work/engine-requests.log")
sed 's/^/  /' "$work/refused.err"
echo "exit status $rc; requests that reached the engine: before $before, after $after"
if [ "$rc" -eq 4 ] && [ "$before" -eq "$after" ]; then
  echo
  echo "demo: all checks passed (the channel refused tampering and replay; the real run was"
  echo "verified end to end; the wrongly pinned client sent nothing)"
else
  echo "demo: FAILED: the wrongly pinned client should exit 4 and send nothing" >&2
  exit 1
fi
