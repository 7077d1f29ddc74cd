#!/usr/bin/env bash
# Integration test of llm-sim: real processes on free ports, real HTTP with curl, python3 checks.
#
# Usage: tests/tools/llm-sim/run.sh PATH/TO/llm-sim
#   LLMSIM_WRAPPER   command put in front of llm-sim, e.g. "valgrind --error-exitcode=99"
# Exit status: 0 when every check passed. Every llm-sim started here is killed by PID on exit.
set -uo pipefail

BIN=${1:?usage: run.sh PATH/TO/llm-sim}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llmsim-test.XXXXXX")
read -r -a WRAP <<<"${LLMSIM_WRAPPER:-}"
WAIT_S=$([ -n "${LLMSIM_WRAPPER:-}" ] && echo 120 || echo 30)

declare -A PID PORT
ALL_PIDS=()
cleanup() {
  for p in "${ALL_PIDS[@]}"; do
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

passed=0
failed=0
# t NAME COMMAND...: one check, counted.
t() {
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name" >&2
  fi
}
check() { "$PY" "$HERE/check.py" "$@"; }

# start NAME ARGS...: run llm-sim, wait for its port file; PID[NAME], PORT[NAME].
start() {
  local name=$1
  shift
  "${WRAP[@]}" "$BIN" --port-file "$WORK/$name.port" "$@" 2>"$WORK/$name.err" &
  PID[$name]=$!
  ALL_PIDS+=("$!")
  local deadline=$((SECONDS + WAIT_S))
  while [ ! -s "$WORK/$name.port" ]; do
    if ! kill -0 "${PID[$name]}" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "run.sh: llm-sim $name did not start:" >&2
      cat "$WORK/$name.err" >&2
      exit 1
    fi
    sleep 0.05
  done
  PORT[$name]=$(cat "$WORK/$name.port")
}

# stop NAME SIGNAL: send the signal and wait; the exit status goes to STOP_RC.
# (Not in a subshell: only this shell can wait for its children.)
STOP_RC=
stop() {
  kill "-$2" "${PID[$1]}"
  STOP_RC=0
  wait "${PID[$1]}" || STOP_RC=$?
}

# req NAME METHOD PATH CURL-ARGS...: answer in $WORK/out, headers in $WORK/hdr; prints status.
req() {
  local name=$1 method=$2 path=$3
  shift 3
  echo "$method $path" >>"$WORK/sent.$name"
  curl -sS -o "$WORK/out" -D "$WORK/hdr" -w '%{http_code}' -X "$method" \
    "http://127.0.0.1:${PORT[$name]}$path" "$@"
}
# chat NAME PATH JSON: POST a JSON body.
chat() { req "$1" POST "$2" -H 'Content-Type: application/json' --data-binary "$3"; }
is() { [ "$1" = "$2" ] || { echo "  got '$1', want '$2'" >&2; return 1; }; }
# elapsed_at_least SECONDS COMMAND...: the command took at least that long (no upper bound).
elapsed_at_least() {
  local min=$1
  shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  "$PY" -c "import sys; d = $t1 - $t0; print(f'  {d:.3f}s (min $min)'); sys.exit(d < $min)"
}

# ---- the command line ------------------------------------------------------------------------
help=$("$BIN" --help)
t "--help exits 0" is "$?" 0
for flag in --listen --port-file --script --latency-ms --tokens-per-sec --log --model \
  --max-connections --help --version "Exit status"; do
  t "--help documents $flag" grep -q -- "$flag" <<<"$help"
done
t "--version" grep -q '^llm-sim [0-9]' <<<"$("$BIN" --version)"
usage_rc() { "$BIN" "$@" >/dev/null 2>"$WORK/usage.err"; echo $?; }
t "unknown flag exits 2" is "$(usage_rc --frobnicate 1)" 2
t "flag without value exits 2" is "$(usage_rc --latency-ms)" 2
t "bad number exits 2" is "$(usage_rc --latency-ms 12x)" 2
t "bad tokens-per-sec exits 2" is "$(usage_rc --tokens-per-sec -1)" 2
t "non-loopback listen exits 2" is "$(usage_rc --listen 0.0.0.0:0)" 2
t "non-loopback listen says why" grep -q "only loopback" "$WORK/usage.err"
t "non-loopback IPv6 exits 2" is "$(usage_rc --listen '[::]:0')" 2
echo '{"rules": [' >"$WORK/bad1.json"
echo '{"rules": [{"contains": "x"}]}' >"$WORK/bad2.json"
echo '{"rules": [{"reply": "x", "status": "500"}]}' >"$WORK/bad3.json"
"$PY" -c 'import json; print(json.dumps({"rules": [{"reply": "r"}] * 257}))' >"$WORK/bad4.json"
t "script: bad JSON exits 3" is "$(usage_rc --script "$WORK/bad1.json")" 3
t "script: rule without reply exits 3" is "$(usage_rc --script "$WORK/bad2.json")" 3
t "script: says which rule" grep -q 'rules\[0\].reply' "$WORK/usage.err"
t "script: wrong type exits 3" is "$(usage_rc --script "$WORK/bad3.json")" 3
t "script: wrong type named" grep -q 'rules\[0\].status' "$WORK/usage.err"
t "script: too many rules exits 3" is "$(usage_rc --script "$WORK/bad4.json")" 3
t "script: too many rules named" grep -q 'at most 256 rules' "$WORK/usage.err"
t "script: missing file exits 3" is "$(usage_rc --script "$WORK/none.json")" 3

# ---- main instance: the test script, a request log --------------------------------------------
LOG="$WORK/requests.jsonl"
start main --script "$HERE/script.json" --log "$LOG" --model sim-model
t "port file holds a port and a newline" grep -qxE '[0-9]+' "$WORK/main.port"
FRANCE='The capital of France is Paris.'
PT_FRANCE=$(check prompt_tokens "What is the capital of France?")

# Ollama, whole reply (stream must be false explicitly: Ollama streams by default)
body='{"model":"llama3","messages":[{"role":"user","content":"What is the capital of France?"}],"stream":false,"options":{"temperature":0}}'
t "ollama whole: 200" is "$(chat main /api/chat "$body")" 200
t "ollama whole: shape and text" check ollama_whole "$WORK/out" "$FRANCE" stop "$PT_FRANCE" llama3
t "ollama whole: content type" check header "$WORK/hdr" Content-Type application/json
t "ollama whole: logged" check log_has "$LOG" POST /api/chat "$body"

# Ollama, streamed by default
body='{"model":"llama3","messages":[{"role":"user","content":"What is the capital of France?"}]}'
t "ollama stream: 200" is "$(chat main /api/chat "$body")" 200
t "ollama stream: NDJSON lines" check ollama_stream "$WORK/out" "$FRANCE" stop "$PT_FRANCE"
t "ollama stream: content type" check header "$WORK/hdr" Content-Type application/x-ndjson

# OpenAI, whole reply by default; the model falls back to --model
body='{"messages":[{"role":"user","content":"What is the capital of France?"}]}'
t "openai whole: 200" is "$(chat main /v1/chat/completions "$body")" 200
t "openai whole: shape and text" check openai_whole "$WORK/out" "$FRANCE" stop "$PT_FRANCE" sim-model
t "openai whole: content type" check header "$WORK/hdr" Content-Type application/json

# OpenAI, SSE with and without include_usage
body='{"model":"gpt","messages":[{"role":"user","content":"What is the capital of France?"}],"stream":true,"stream_options":{"include_usage":true}}'
t "openai sse+usage: 200" is "$(chat main /v1/chat/completions "$body")" 200
t "openai sse+usage: event sequence" check openai_sse "$WORK/out" "$FRANCE" 1 stop "$PT_FRANCE"
t "openai sse: content type" check header "$WORK/hdr" Content-Type text/event-stream
body='{"model":"gpt","messages":[{"role":"user","content":"What is the capital of France?"}],"stream":true}'
t "openai sse: 200" is "$(chat main /v1/chat/completions "$body")" 200
t "openai sse: event sequence, no usage" check openai_sse "$WORK/out" "$FRANCE" 0 stop

# Rule matching
sys_body='{"stream":false,"messages":[{"role":"system","content":"You are a pirate."},{"role":"user","content":"hello"}]}'
chat main /api/chat "$sys_body" >/dev/null
t "rules: system role" check ollama_whole "$WORK/out" "Arr, matey." stop "$(check prompt_tokens 'You are a pirate.' hello)"
chat main /api/chat '{"stream":false,"messages":[{"role":"user","content":"ping"}]}' >/dev/null
t "rules: equals" check ollama_whole "$WORK/out" pong stop 1
chat main /api/chat '{"stream":false,"messages":[{"role":"user","content":"ping "}]}' >/dev/null
t "rules: equals is exact" check ollama_whole "$WORK/out" "I do not know." stop 1
chat main /api/chat '{"stream":false,"messages":[{"role":"user","content":"ping"},{"role":"assistant","content":"pong"},{"role":"user","content":"thanks"}]}' >/dev/null
t "rules: only the last user message counts" check ollama_whole "$WORK/out" "I do not know." stop 3
UNI=$'caf\xc3\xa9 \xe2\x80\x94 "quoted" <tag> & done\n'
chat main /v1/chat/completions '{"messages":[{"role":"user","content":"unicode"}]}' >/dev/null
t "rules: UTF-8 and escapes survive" check openai_whole "$WORK/out" "$UNI" stop 1
chat main /v1/chat/completions '{"stream":true,"messages":[{"role":"user","content":"unicode"}]}' >/dev/null
t "rules: UTF-8 streamed" check openai_sse "$WORK/out" "$UNI" 0 stop

# Token limits: finish_reason / done_reason "length"
chat main /v1/chat/completions '{"max_tokens":3,"messages":[{"role":"user","content":"capital of France"}]}' >/dev/null
t "max_tokens: cut to 3, length" check openai_whole "$WORK/out" "The capital of" length 3 "" 3
chat main /api/chat '{"stream":true,"options":{"num_predict":2},"messages":[{"role":"user","content":"capital of France"}]}' >/dev/null
t "num_predict: cut to 2, length" check ollama_stream "$WORK/out" "The capital" length 3
chat main /v1/chat/completions '{"messages":[{"role":"user","content":"think forever"}]}' >/dev/null
t "finish_reason rule: openai whole, length" check openai_whole "$WORK/out" "<think>still reasoning" length 2
chat main /v1/chat/completions '{"stream":true,"messages":[{"role":"user","content":"think forever"}]}' >/dev/null
t "finish_reason rule: openai streamed, length" check openai_sse "$WORK/out" "<think>still reasoning" 0 length
chat main /api/chat '{"stream":false,"messages":[{"role":"user","content":"think forever"}]}' >/dev/null
t "finish_reason rule: ollama whole, length" check ollama_whole "$WORK/out" "<think>still reasoning" length 2
chat main /api/chat '{"messages":[{"role":"user","content":"think forever"}]}' >/dev/null
t "finish_reason rule: ollama streamed, length" check ollama_stream "$WORK/out" "<think>still reasoning" length 2
chat main /api/chat '{"model":"llama3","stream":false}' >/dev/null
t "ollama without messages: load" check ollama_whole "$WORK/out" "" load 0 llama3

# Scripted engine errors
t "status rule: ollama 500" is "$(chat main /api/chat '{"stream":false,"messages":[{"role":"user","content":"explode"}]}')" 500
t "status rule: ollama body" check ollama_error "$WORK/out" "simulated engine failure"
t "status rule: openai 500" is "$(chat main /v1/chat/completions '{"stream":true,"messages":[{"role":"user","content":"explode"}]}')" 500
t "status rule: openai body" check openai_error "$WORK/out" "simulated engine failure" server_error

# Cut streams: curl must see a truncated transfer (exit 18), the tokens before it, no final event
cut_rc() {
  echo "POST $1" >>"$WORK/sent.main"
  curl -sS -N -o "$WORK/out" "http://127.0.0.1:${PORT[main]}$1" --data-binary "$2" 2>/dev/null
  echo $?
}
t "cut: ollama transfer truncated" is "$(cut_rc /api/chat '{"messages":[{"role":"user","content":"cut me"}]}')" 18
t "cut: ollama 3 tokens, no done" check ollama_cut "$WORK/out" 3
t "cut: openai transfer truncated" is "$(cut_rc /v1/chat/completions '{"stream":true,"messages":[{"role":"user","content":"cut me"}]}')" 18
t "cut: openai 3 tokens, no [DONE]" check openai_cut "$WORK/out" 3
t "cut: whole replies are not cut" is "$(chat main /api/chat '{"stream":false,"messages":[{"role":"user","content":"cut me"}]}')" 200

# Bad requests
t "bad JSON: openai 400" is "$(chat main /v1/chat/completions '{"messages":')" 400
t "bad JSON: openai body" check openai_error "$WORK/out" "not valid JSON" invalid_request_error
t "bad JSON: ollama 400" is "$(chat main /api/chat 'not json')" 400
t "bad JSON: ollama body" check ollama_error "$WORK/out" "not valid JSON"
t "bad JSON: logged as a string" check log_has_text "$LOG" POST /api/chat "not json"
t "wrong type: 400" is "$(chat main /v1/chat/completions '{"messages":{}}')" 400
t "wrong type: names the field" check openai_error "$WORK/out" "messages" invalid_request_error
t "openai without messages: 400" is "$(chat main /v1/chat/completions '{"model":"m"}')" 400
t "empty body: ollama 400" is "$(req main POST /api/chat)" 400
t "empty body: message" check ollama_error "$WORK/out" "missing request body"
t "unknown path: 404" is "$(req main GET /api/nothing)" 404
t "unknown path: ollama shape" check ollama_error "$WORK/out" "not found"
t "unknown /v1 path: 404" is "$(req main POST /v1/completions -d '{}')" 404
t "unknown /v1 path: openai shape" check openai_error "$WORK/out" "not found" invalid_request_error
t "wrong method: 405" is "$(req main GET /api/chat)" 405
t "wrong method: Allow header" check header "$WORK/hdr" Allow POST
t "wrong method on /v1: 405" is "$(req main DELETE /v1/models)" 405

# Oversized bodies: 413, with and without Expect: 100-continue, and the server still answers
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' 'x' >"$WORK/big.bin"
t "9 MiB body: 413" is "$(req main POST /api/chat --data-binary @"$WORK/big.bin")" 413
t "9 MiB body: ollama shape" check ollama_error "$WORK/out" "larger than"
t "9 MiB body, no Expect: 413" is "$(req main POST /v1/chat/completions -H 'Expect:' --data-binary @"$WORK/big.bin")" 413
t "9 MiB body: openai shape" check openai_error "$WORK/out" "larger than" invalid_request_error
t "9 MiB body: logged as too large" check log_too_large "$LOG" /api/chat $((9 * 1024 * 1024))
t "after 413: still serving" is "$(chat main /api/chat '{"stream":false,"messages":[{"role":"user","content":"ping"}]}')" 200

# Listings
t "tags: 200" is "$(req main GET /api/tags)" 200
t "tags: --model then the script's models" check tags "$WORK/out" sim-model llama3.2:1b primus-8b
t "v1 models: 200" is "$(req main GET /v1/models)" 200
t "v1 models: names" check models "$WORK/out" sim-model llama3.2:1b primus-8b
t "version: 200" is "$(req main GET /api/version)" 200
t "version: shape" check version "$WORK/out"
t "root: Ollama is running" is "$(req main GET / && cat "$WORK/out")" "200Ollama is running"

# Latency from a rule's delay_ms (a lower bound only: machines may be slow, never fast)
t "delay_ms: at least 0.3 s" elapsed_at_least 0.29 chat main /api/chat '{"stream":false,"messages":[{"role":"user","content":"slow please"}]}'

# The log: one line per request, in order, each parseable
requests_sent=$(grep -c '' "$WORK/sent.main")
t "log: one JSON line per request ($requests_sent)" check log_lines "$LOG" "$requests_sent"
t "log: OpenAI body as JSON" check log_has "$LOG" POST /v1/chat/completions '{"messages":[{"role":"user","content":"What is the capital of France?"}]}'
t "log: GET with an empty body" check log_has_text "$LOG" GET /api/tags ""

# ---- pacing instance: --tokens-per-sec and --latency-ms ---------------------------------------
start paced --script "$HERE/script.json" --tokens-per-sec 20 --latency-ms 200
PACE='{"messages":[{"role":"user","content":"pace me"}]'
# 10 tokens at 20/s: at least 0.5 s, plus 0.2 s latency
t "pacing: ollama stream >= 0.65 s" elapsed_at_least 0.65 chat paced /api/chat "$PACE}"
t "pacing: stream intact" check ollama_stream "$WORK/out" "t1 t2 t3 t4 t5 t6 t7 t8 t9 t10" stop 2
t "pacing: openai whole >= 0.65 s" elapsed_at_least 0.65 chat paced /v1/chat/completions "$PACE}"
t "pacing: openai sse >= 0.65 s" elapsed_at_least 0.65 chat paced /v1/chat/completions "$PACE,\"stream\":true}"
t "latency-ms: chat >= 0.2 s" elapsed_at_least 0.19 chat paced /api/chat '{"stream":false,"messages":[{"role":"user","content":"x"}]}'

# SIGINT while a slow stream is in flight: the server stops cleanly and promptly
curl -sS -N -o /dev/null "http://127.0.0.1:${PORT[paced]}/api/chat" --data-binary "$PACE}" 2>/dev/null &
CURL_PID=$!
sleep 0.3
stop paced INT
t "SIGINT during a stream: exit 0" is "$STOP_RC" 0
wait "$CURL_PID" 2>/dev/null || true

# ---- an instance without a script, IPv6 loopback if the host has it ---------------------------
if "$PY" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
  start v6 --listen '[::1]:0'
  code=$(curl -sS -o "$WORK/out" -w '%{http_code}' "http://[::1]:${PORT[v6]}/api/chat" -d '{"stream":false}')
  t "ipv6: 200" is "$code" 200
  chat_v6=$(curl -sS "http://[::1]:${PORT[v6]}/v1/chat/completions" -d '{"messages":[{"role":"user","content":"hi"}]}')
  t "no script: default reply" grep -q '"content":"llm-sim default reply"' <<<"$chat_v6"
  stop v6 TERM
  t "ipv6: SIGTERM exits 0" is "$STOP_RC" 0
fi

stop main TERM
t "SIGTERM: exit 0 (no leaks under sanitizers)" is "$STOP_RC" 0
if [ "$failed" -ne 0 ]; then
  echo "--- llm-sim stderr ---" >&2
  cat "$WORK"/*.err >&2
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
