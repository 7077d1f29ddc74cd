#!/usr/bin/env python3
"""Assertions for tests/tools/llm-sim/run.sh: wire-format checks on what llm-sim answered.

Usage: check.py COMMAND ARGS...   (exit 0 when the check holds, 1 with a reason otherwise)
Each command reads files that run.sh saved with curl; see the functions below.
"""
import json
import re
import sys

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$")
OLLAMA_DONE_KEYS = ["model", "created_at", "message", "done_reason", "done", "total_duration",
                    "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count",
                    "eval_duration"]
CHUNK_KEYS = ["id", "object", "created", "model", "choices"]


class Fail(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Fail(what)


def pieces(text):
    """Reference tokenizer, written from the rules in tools/llm-sim/tokens.h."""
    data = text.encode()
    out = [m.group(0) for m in re.finditer(rb"[ \t\n\r\v\f]*(?:[A-Za-z0-9_\x80-\xff]+|[^ \t\n\r\v\f])", data)]
    used = sum(len(p) for p in out)
    if used < len(data):  # trailing whitespace joins the last piece (or is the only one)
        if out:
            out[-1] += data[used:]
        else:
            out = [data]
    return [p.decode() for p in out]


def load(path):
    with open(path, "rb") as f:
        return f.read()


def ordered(raw):
    """Parse JSON keeping key order as lists of pairs at the top level."""
    return json.loads(raw, object_pairs_hook=lambda kv: {"__keys__": [k for k, _ in kv], **dict(kv)})


def keys(obj):
    return obj["__keys__"]


def check_ollama_done(obj, text, reason, prompt_tokens):
    n = len(pieces(text)) if reason != "load" else 0
    want = [k for k in OLLAMA_DONE_KEYS
            if k not in ("prompt_eval_count", "prompt_eval_duration") or prompt_tokens > 0]
    want = [k for k in want if k not in ("eval_count", "eval_duration") or n > 0]
    if reason == "load":
        want = ["model", "created_at", "message", "done_reason", "done"]
    need(keys(obj) == want, f"done object keys {keys(obj)} != {want}")
    need(obj["done"] is True and obj["done_reason"] == reason, "done / done_reason")
    need(STAMP.match(obj["created_at"]), f"created_at {obj['created_at']!r} is not RFC 3339 nano")
    need(keys(obj["message"]) == ["role", "content"], "message keys")
    need(obj["message"]["role"] == "assistant", "role")
    if reason != "load":
        need(obj.get("eval_count", 0) == n, f"eval_count {obj.get('eval_count')} != {n}")
        need(obj.get("prompt_eval_count", 0) == prompt_tokens, "prompt_eval_count")
        for k in ("total_duration", "load_duration"):
            need(isinstance(obj[k], int) and obj[k] > 0, f"{k} must be a positive integer")
        need(obj["total_duration"] >= obj["load_duration"], "total_duration >= load_duration")


def ollama_whole(path, text, reason="stop", prompt_tokens="-1", model=None):
    """A non-streamed /api/chat answer carrying exactly `text`."""
    obj = ordered(load(path))
    check_ollama_done(obj, text if reason != "load" else "", reason, int(prompt_tokens))
    need(obj["message"]["content"] == text, f"content {obj['message']['content']!r} != {text!r}")
    if model:
        need(obj["model"] == model, f"model {obj['model']!r} != {model!r}")


def ollama_stream(path, text, reason="stop", prompt_tokens="-1"):
    """NDJSON: one line per piece (done false), then the done line with empty content."""
    raw = load(path).decode()
    need(raw.endswith("\n"), "NDJSON must end with a newline")
    lines = [ordered(line) for line in raw.split("\n")[:-1]]
    got = []
    for obj in lines[:-1]:
        need(keys(obj) == ["model", "created_at", "message", "done"], f"chunk keys {keys(obj)}")
        need(obj["done"] is False, "chunk done must be false")
        need(STAMP.match(obj["created_at"]), "created_at")
        need(obj["message"]["role"] == "assistant", "role")
        got.append(obj["message"]["content"])
    need(got == pieces(text), f"pieces {got} != {pieces(text)}")
    need("".join(got) == text, "pieces do not add up to the reply")
    last = lines[-1]
    need(last["message"]["content"] == "", "the done line carries no content")
    check_ollama_done(last, text, reason, int(prompt_tokens))


def ollama_cut(path, n):
    """A cut stream: exactly n piece lines, no done line."""
    raw = load(path).decode()
    lines = [json.loads(line) for line in raw.split("\n") if line]
    need(len(lines) == int(n), f"{len(lines)} lines, want {n}")
    need(all(o["done"] is False for o in lines), "a cut stream has no done line")


def openai_whole(path, text, finish="stop", prompt_tokens="-1", model=None, completion=None):
    obj = ordered(load(path))
    need(keys(obj) == ["id", "object", "created", "model", "choices", "usage"], f"keys {keys(obj)}")
    need(re.match(r"^chatcmpl-[0-9a-f]{32}$", obj["id"]), f"id {obj['id']}")
    need(obj["object"] == "chat.completion" and isinstance(obj["created"], int), "object/created")
    need(len(obj["choices"]) == 1, "one choice")
    c = obj["choices"][0]
    need(keys(c) == ["index", "message", "logprobs", "finish_reason"], f"choice keys {keys(c)}")
    need(c["index"] == 0 and c["logprobs"] is None and c["finish_reason"] == finish, "choice")
    need(keys(c["message"]) == ["role", "content"], "message keys")
    need(c["message"]["content"] == text, f"content {c['message']['content']!r} != {text!r}")
    u = obj["usage"]
    need(keys(u) == ["prompt_tokens", "completion_tokens", "total_tokens"], "usage keys")
    want_completion = int(completion) if completion else len(pieces(text))
    need(u["completion_tokens"] == want_completion, f"completion_tokens {u['completion_tokens']}")
    if int(prompt_tokens) >= 0:
        need(u["prompt_tokens"] == int(prompt_tokens), f"prompt_tokens {u['prompt_tokens']}")
    need(u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"], "total_tokens")
    if model:
        need(obj["model"] == model, "model")


def sse_events(raw):
    need(raw.endswith("\n\n"), "SSE must end with a blank line")
    events = raw.split("\n\n")[:-1]
    for e in events:
        need(e.startswith("data: ") and "\n" not in e, f"bad SSE event {e[:60]!r}")
    return [e[len("data: "):] for e in events]


def check_chunk(obj, first_id, usage):
    need(keys(obj)[:5] == CHUNK_KEYS, f"chunk keys {keys(obj)}")
    need(obj["id"] == first_id and obj["object"] == "chat.completion.chunk", "id/object")
    need(keys(obj)[5:] == (["usage"] if usage else []), f"usage key: {keys(obj)}")
    if usage:
        need(obj["usage"] is None, "usage is null on content chunks")


def openai_sse(path, text, usage, finish="stop", prompt_tokens="-1"):
    """role chunk, one chunk per piece, finish chunk, [usage chunk], [DONE] last."""
    usage = usage == "1"
    data = sse_events(load(path).decode())
    need(data[-1] == "[DONE]", "[DONE] must be last")
    chunks = [ordered(d) for d in data[:-1]]
    first = chunks[0]
    fid = first["id"]
    n = len(pieces(text))
    need(len(chunks) == 1 + n + 1 + (1 if usage else 0), f"{len(chunks)} chunks for {n} pieces")
    for i, ch in enumerate(chunks[: n + 2]):
        check_chunk(ch, fid, usage)
        c = ch["choices"][0]
        need(keys(c) == ["index", "delta", "logprobs", "finish_reason"], f"choice keys {keys(c)}")
        need(c["logprobs"] is None, "logprobs")
        delta = {k: v for k, v in c["delta"].items() if k != "__keys__"}
        if i == 0:
            need(delta == {"role": "assistant", "content": ""}, f"first delta {delta}")
            need(keys(c["delta"]) == ["role", "content"], "first delta order")
        elif i <= n:
            need(delta == {"content": pieces(text)[i - 1]}, f"delta {i} {delta}")
        else:
            need(delta == {} and c["finish_reason"] == finish, f"last chunk {delta} {c['finish_reason']}")
        if i <= n:
            need(c["finish_reason"] is None, "finish_reason null before the end")
    if usage:
        u = chunks[-1]
        need(keys(u) == CHUNK_KEYS + ["usage"] and u["choices"] == [], "usage chunk shape")
        need(u["usage"]["completion_tokens"] == n, "usage completion_tokens")
        if int(prompt_tokens) >= 0:
            need(u["usage"]["prompt_tokens"] == int(prompt_tokens), "usage prompt_tokens")
        need(u["usage"]["total_tokens"] == u["usage"]["prompt_tokens"] + n, "usage total")


def openai_cut(path, n):
    """A cut SSE stream: the role chunk and n piece chunks; no finish, no [DONE]."""
    raw = load(path).decode()
    events = [e for e in raw.split("\n\n") if e]
    need(all(e.startswith("data: {") for e in events), "only JSON chunks, no [DONE]")
    chunks = [json.loads(e[6:]) for e in events]
    need(len(chunks) == 1 + int(n), f"{len(chunks)} chunks, want {1 + int(n)}")
    need(all(c["choices"][0]["finish_reason"] is None for c in chunks), "no finish chunk")


def ollama_error(path, msg_part):
    obj = ordered(load(path))
    need(keys(obj) == ["error"] and isinstance(obj["error"], str), f"error shape {obj}")
    need(msg_part in obj["error"], f"{obj['error']!r} lacks {msg_part!r}")


def openai_error(path, msg_part, etype):
    obj = ordered(load(path))
    need(keys(obj) == ["error"], "top-level keys")
    e = obj["error"]
    need(keys(e) == ["message", "type", "param", "code"], f"error keys {keys(e)}")
    need(e["type"] == etype and e["param"] is None and e["code"] is None, f"error {e}")
    need(msg_part in e["message"], f"{e['message']!r} lacks {msg_part!r}")


def tags(path, *names):
    obj = json.loads(load(path))
    got = [m["name"] for m in obj["models"]]
    need(got == list(names), f"tags {got} != {list(names)}")
    for m in obj["models"]:
        need(list(m) == ["name", "model", "modified_at", "size", "digest", "details"], "tag keys")
        need(re.match(r"^[0-9a-f]{64}$", m["digest"]) and STAMP.match(m["modified_at"]), "tag")
        need(list(m["details"]) == ["parent_model", "format", "family", "families",
                                    "parameter_size", "quantization_level"], "details keys")


def models(path, *names):
    obj = json.loads(load(path))
    need(obj["object"] == "list", "object list")
    need([m["id"] for m in obj["data"]] == list(names), "model ids")
    for m in obj["data"]:
        need(list(m) == ["id", "object", "created", "owned_by"] and m["object"] == "model", "model")


def version(path):
    obj = json.loads(load(path))
    need(list(obj) == ["version"] and re.match(r"^\d+\.\d+\.\d+$", obj["version"]), "version")


def header(path, name, value_prefix):
    """A response header (case-insensitive name) starting with value_prefix."""
    for line in load(path).decode("latin-1").split("\r\n"):
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower() and v.strip().startswith(value_prefix):
            return
    raise Fail(f"no header {name}: {value_prefix}...")


def log_lines(path, n):
    lines = load(path).decode().split("\n")
    need(lines[-1] == "", "log ends with a newline")
    for line in lines[:-1]:
        obj = ordered(line)
        need(keys(obj)[:4] == ["ts", "method", "path", "body"], f"log keys {keys(obj)}")
        need(isinstance(obj["ts"], (int, float)), "ts is a number")
    need(len(lines) - 1 == int(n), f"{len(lines) - 1} log lines, want {n}")


def _entries(path):
    return [json.loads(line) for line in load(path).decode().split("\n") if line]


def log_has(path, method, url, body_json):
    """Some log line has this method and path, and its body equals the JSON given."""
    want = json.loads(body_json)
    need(any(e["method"] == method and e["path"] == url and e["body"] == want
             for e in _entries(path)), f"no log line {method} {url} {body_json[:60]}")


def log_has_text(path, method, url, body):
    need(any(e["method"] == method and e["path"] == url and e["body"] == body
             for e in _entries(path)), f"no log line {method} {url} with string body {body!r}")


def log_too_large(path, url, nbytes):
    need(any(e["path"] == url and e["body"] is None and e.get("body_too_large") is True
             and e.get("body_bytes") == int(nbytes) for e in _entries(path)),
         f"no too-large log line for {url} ({nbytes} bytes)")


def prompt_tokens(*contents):
    print(sum(len(pieces(c)) for c in contents))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = globals().get(cmd)
    if fn is None or cmd.startswith("_"):
        print(f"check.py: unknown command {cmd}", file=sys.stderr)
        return 2
    try:
        fn(*args)
    except Fail as e:
        print(f"check.py {cmd}: {e}", file=sys.stderr)
        return 1
    except (ValueError, KeyError, IndexError, TypeError, json.JSONDecodeError) as e:
        print(f"check.py {cmd}: malformed answer: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
