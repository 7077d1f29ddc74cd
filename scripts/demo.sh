#!/usr/bin/env bash
# Builds the project, then shows the channel in one process and a real client/supervisor run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
./scripts/install-deps.sh >/dev/null
cmake -S . -B build >/dev/null
cmake --build build -j "$(nproc)" --target minions-channel-demo llm-sim minions-supervisor minions-secure >/dev/null
cmake --build build -j "$(nproc)" --target minions-audit >/dev/null 2>&1 || true # when it exists

echo "== Part 1: the channel, in one process =="
./build/bin/minions-channel-demo
echo

echo "== Part 2: three real processes on 127.0.0.1 =="
work=$(mktemp -d)
pids=()
cleanup() { # by PID, newest first (a supervisor stops before the TPM it uses)
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

wait_port() { # file
  for _ in $(seq 100); do [ -s "$1" ] && { cat "$1"; return 0; }; sleep 0.1; done
  echo "demo: a service did not start; what the services said:" >&2
  tail -n 5 "$work"/*.err >&2 2>/dev/null || true; return 1
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
if [ "$rc" -ne 4 ] || [ "$before" -ne "$after" ]; then
  echo "demo: FAILED: the wrongly pinned client should exit 4 and send nothing" >&2
  exit 1
fi
echo

echo "== Part 4: the main job: a Minion run over examples/ =="
# The documents (examples/incident) stay here: the local worker reads them; the supervisor's
# model sees the question and the worker's answers, inside the attested channel.
logs="$ROOT/build/demo-logs" # kept after the demo, with the key that signs them
mkdir -p "$logs" && chmod 700 "$logs"
task="Who got in first (account, source address, time), which host sent data out, where to and \
how much, and which containment actions are still open?"

free_port_pair() { # P such that P and P+1 are free on 127.0.0.1 (swtpm: server and control)
  python3 - <<'PY'
import socket
while True:
    a, b = socket.socket(), socket.socket()
    try:
        a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]; b.bind(("127.0.0.1", p + 1))
        print(p); break
    except OSError:
        pass
    finally:
        a.close(); b.close()
PY
}

# The engines: llm-sim for both on free ports, unless DEMO_OLLAMA=1 asks for the local Ollama
# (and it answers as Ollama does, with a model pulled). Whatever else listens on 11434 is
# never taken for it.
worker=(--local_model cybertron)
ollama_model() { # the first model a real Ollama on 127.0.0.1:11434 lists, else fail
  curl -sf -m 2 http://127.0.0.1:11434/api/version >/dev/null 2>&1 &&
    curl -sf -m 2 http://127.0.0.1:11434/api/tags >"$work/ollama-tags.json" 2>/dev/null &&
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["models"][0]["name"])' \
      "$work/ollama-tags.json" 2>/dev/null
}
if [ "${DEMO_OLLAMA:-0}" = 1 ] && ! model=$(ollama_model); then
  echo "demo: DEMO_OLLAMA=1, but no Ollama with a pulled model answers on 127.0.0.1:11434" >&2
  exit 1
fi
if [ "${DEMO_OLLAMA:-0}" = 1 ]; then
  model=${DEMO_MODEL:-$model}
  echo "engines: the local Ollama on 127.0.0.1:11434, model $model, as worker and supervisor"
  backend=(--backend-url http://127.0.0.1:11434/v1 --backend-model "${DEMO_SUPERVISOR_MODEL:-$model}")
  worker=(--local_model "$model" --local-url http://127.0.0.1:11434)
else
  ./build/bin/llm-sim --port-file "$work/simA.port" --script examples/demo/supervisor-engine.json \
    --model llama-primus-nemotron-70b --log "$work/supervisor-engine.log" 2>"$work/simA.err" &
  pids+=($!)
  ./build/bin/llm-sim --port-file "$work/simW.port" --script examples/demo/worker-engine.json \
    --model llama-primus-merged:8b --log "$work/worker-engine.log" 2>"$work/simW.err" &
  pids+=($!)
  SIMA=$(wait_port "$work/simA.port")
  SIMW=$(wait_port "$work/simW.port")
  echo "engines: llm-sim stands in for both (scripted replies, examples/demo/; DEMO_OLLAMA=1"
  echo "  for a local Ollama): the supervisor's on :$SIMA, the local worker's on :$SIMW"
  backend=(--backend-url "http://127.0.0.1:$SIMA/v1" --backend-model cybertron-70b)
  worker+=(--local-url "http://127.0.0.1:$SIMW")
fi

# The evidence: a TPM 2.0 quote from swtpm when it is installed, else the dev key.
if command -v swtpm >/dev/null; then
  TPM=$(free_port_pair)
  mkdir -p "$work/tpm"
  swtpm socket --tpm2 --server "type=tcp,port=$TPM,bindaddr=127.0.0.1" \
    --ctrl "type=tcp,port=$((TPM + 1)),bindaddr=127.0.0.1" --flags not-need-init,startup-clear \
    --tpmstate "dir=$work/tpm" >"$work/swtpm.log" 2>&1 &
  pids+=($!)
  evidence=(--evidence tpm2 --tpm-tcti "swtpm:host=127.0.0.1,port=$TPM")
  echo "evidence: TPM 2.0 quotes from swtpm on 127.0.0.1:$TPM (a software TPM: real quotes, no hardware root)"
else
  evidence=(--dev-key "$work/main-dev.pem")
  echo "evidence: dev-key (swtpm is not installed)"
fi
./build/bin/minions-supervisor --listen 127.0.0.1:0 --port-file "$work/sup2.port" \
  --tls-cert certs/dev/server.pem --tls-key certs/dev/server.key "${backend[@]}" \
  "${evidence[@]}" --access-log "$work/access2.log" 2>"$work/sup2.err" &
pids+=($!)
SUP2=$(wait_port "$work/sup2.port")
url="https://127.0.0.1:$SUP2"

if [ "${evidence[0]}" = "--evidence" ]; then
  # Enrolment for the demo: pin the AK name and PCR values this supervisor shows now (trust on
  # first use). In production they come from your own reference values (docs/attestation.md).
  ./build/bin/minions-secure attest --supervisor_url "$url" --cacert certs/dev/ca.pem \
    --any-evidence --json 2>/dev/null >"$work/attest.json"
  python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["policy"], open(sys.argv[2], "w"))' \
    "$work/attest.json" "$work/policy.json"
  trust=(--attestation-policy "$work/policy.json")
  echo "policy: enrolled this supervisor's TPM attestation key and PCRs 0-7 (a temporary file)"
else
  trust=(--trusted_attestation_pem "$work/main-dev.pem.pub")
fi
echo

echo "client: minions-secure run --context examples/incident --task \"$task\""
set +e
./build/bin/minions-secure run --supervisor_url "$url" "${trust[@]}" --cacert certs/dev/ca.pem \
  "${worker[@]}" --context examples/incident \
  --doc-metadata "an incident report (markdown) with its auth, proxy and EDR logs" \
  --task "$task" --log-dir "$logs" --log-key "$logs/log-key" >"$work/answer.txt" 2>"$work/run.err"
rc=$?
set -e
echo
echo "-- answer (standard output) --"
cat "$work/answer.txt"
echo
echo "-- what minions-secure said (standard error) --"
sed 's/^/  /' "$work/run.err"
log=$(sed -n 's/^minions-secure: session log: \(.*\)$/\1/p' "$work/run.err" | tail -1)
if [ "$rc" -ne 0 ] || [ ! -s "$work/answer.txt" ] || [ -z "$log" ]; then
  echo "demo: FAILED: the run exited $rc (see above)" >&2
  exit 1
fi
if [ -x ./build/bin/minions-audit ]; then
  echo
  echo "-- minions-audit show --key $logs/log-key.pub $log --"
  ./build/bin/minions-audit show --key "$logs/log-key.pub" "$log" | sed 's/^/  /'
fi
echo
echo "session log: $log (signed by $logs/log-key; its public half: $logs/log-key.pub)"
echo
echo "demo: all checks passed (the channel refused tampering and replay; the real run was"
echo "verified end to end; the wrongly pinned client sent nothing; the Minion run over"
echo "examples/ answered from documents that never left this machine)"
