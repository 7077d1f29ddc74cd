#!/usr/bin/env python3
"""Verify a minions-secure audit log without our code (docs/logs.md quotes this file).

Usage: verify_log.py LOG [KEY.pub]
Prints the verdict; exit 0 valid, 1 tampered / wrong_key / malformed, 3 incomplete,
4 partial (no seal, but valid up to a checkpoint).
Needs Python 3.8+ and the `cryptography` package (Debian 12: python3-cryptography). It
gives the same verdicts as minions-audit; its messages are shorter, and for a broken chain
it names the line before the break (minions-audit may tell which of the two was edited).
"""
import hashlib
import json
import re
import sys
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

MAX_LINE, MAX_LINES = 4 << 20, 1000000
MEMBERS = ["v", "seq", "ts", "type", "prev", "data"]
KINDS = {"minion", "minions", "chat", "ask", "supervisor"}
HEX = re.compile(r"[0-9a-f]+\Z")
TYPE = re.compile(r"[a-z_]{1,32}\Z")
TS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z\Z")
LINE1 = b'{"v":1,"seq":0,"ts":"'


class Bad(Exception):
    def __init__(self, verdict, line, why):
        super().__init__(f"{verdict} at line {line}: {why}")
        self.verdict = verdict


def hexn(s, n):  # exactly n bytes as lowercase hex
    if not (isinstance(s, str) and len(s) == 2 * n and HEX.match(s)):
        raise ValueError("not hex")
    return bytes.fromhex(s)


def ts_ok(ts):  # 2026-11-21T08:00:00.123Z, a real date, UTC
    try:
        return bool(TS.match(ts)) and datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").year >= 1970
    except (TypeError, ValueError):
        return False


class Obj(dict):  # a JSON object, with its members in order and no duplicate keys
    def __init__(self, pairs):
        super().__init__(pairs)
        if len(self) != len(pairs):
            raise ValueError("duplicate key")


def no_constant(name):  # NaN, Infinity: not JSON
    raise ValueError(name)


def envelope(raw, n, bad):
    """Parse line n (1-based): the six members in order, each well-formed."""
    try:
        ev = json.loads(raw.decode("utf-8"), object_pairs_hook=Obj, parse_constant=no_constant)
        assert isinstance(ev, Obj) and list(ev) == MEMBERS
        assert ev["v"] == 1 and type(ev["v"]) is int and type(ev["seq"]) is int
        assert ts_ok(ev["ts"]) and TYPE.match(ev["type"]) and isinstance(ev["data"], Obj)
        return ev["seq"], ev["ts"], ev["type"], hexn(ev["prev"], 32), ev["data"]
    except (ValueError, AssertionError, TypeError, KeyError, UnicodeDecodeError):
        raise Bad(bad, n, "not a well-formed log line")


def verify(log, expected=None):
    lines = log.split(b"\n")  # after the last '\n' comes b"" (or a cut line)
    if log == b"":
        raise Bad("incomplete", 1, "empty")
    prev_hash, key, log_id, ckpt = bytes(32), None, None, None
    for i, raw in enumerate(lines):
        n = i + 1
        if i == len(lines) - 1:  # no '\n' after this one
            if raw == b"":
                end(i, "no seal after the last line", ckpt, key, expected)
            if i == 0 and raw[:len(LINE1)] != LINE1[:len(raw)]:
                raise Bad("malformed", 1, "not a log_start")
            end(n, "line cut short (no newline at the end)", ckpt, key, expected)
        if len(raw) > MAX_LINE or i >= MAX_LINES:
            raise Bad("tampered" if i else "malformed", n, "over a cap")
        seq, ts, typ, prev, data = envelope(raw, n, "tampered" if i else "malformed")
        if i == 0:
            try:
                assert typ == "log_start" and seq == 0 and prev == bytes(32)
                assert data["kind"] in KINDS and data["key"].startswith("ed25519:")
                assert ts_ok(data["started"]) and isinstance(data["program"], str)
                log_id, key = hexn(data["log_id"], 16), hexn(data["key"][8:], 32)
            except (AssertionError, KeyError, ValueError, AttributeError, TypeError):
                raise Bad("malformed", 1, "not a log_start")
        elif seq != i:
            raise Bad("tampered", n, f"seq {seq}, expected {i}")
        elif typ.startswith("log_") and typ not in ("log_seal", "log_checkpoint"):
            raise Bad("tampered", n, f"type {typ} is reserved")
        elif prev != prev_hash:
            raise Bad("tampered", i, f"line {i} does not hash to line {n}'s prev")
        elif typ == "log_seal":
            signed(raw, n, seq, ts, prev, data, log_id, key, typ)
            return seal(n, key, expected, lines[n:])
        elif typ == "log_checkpoint":
            signed(raw, n, seq, ts, prev, data, log_id, key, typ)
            ckpt = (n, ts)
        prev_hash = hashlib.sha256(raw).digest()


def end(n, why, ckpt, key, expected):
    """No seal: after a checkpoint the log is valid up to it, then incomplete."""
    if ckpt is None:
        raise Bad("incomplete", n, why)
    if expected is not None and expected != key:
        raise Bad("wrong_key", ckpt[0], "checkpointed by another key than the expected one")
    raise Bad("partial", n, f"valid up to line {ckpt[0]} (checkpoint at {ckpt[1]}), "
                            f"then incomplete: {why}")


def signed(raw, n, seq, ts, prev, data, log_id, key, typ):
    """A seal or a checkpoint: its exact form, and its signature (each its own domain)."""
    want = (f'{{"v":1,"seq":{seq},"ts":"{ts}","type":"{typ}","prev":"{prev.hex()}",'
            f'"data":{{"events":{seq},"sig":"{data.get("sig")}"}}}}')
    if raw != want.encode() or list(data) != ["events", "sig"] or data["events"] != seq:
        raise Bad("tampered", n, f"{typ} is not in its exact form")
    domain = b"minions-audit/1 " + (b"seal" if typ == "log_seal" else b"checkpoint")
    msg = domain + log_id + seq.to_bytes(8, "big") + prev + ts.encode()
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(hexn(data["sig"], 64), msg)
    except Exception:
        raise Bad("tampered", n, f"bad {typ} signature")


def seal(n, key, expected, rest):
    if rest != [b""]:
        raise Bad("tampered", n + 1, "lines after the seal")
    if expected is not None and expected != key:
        raise Bad("wrong_key", n, "sealed by another key than the expected one")
    fp = hashlib.sha256(bytes.fromhex("302a300506032b6570032100") + key).hexdigest()
    trust = "the expected key" if expected else "NOT checked against a trusted key"
    return f"valid: {n} lines, sealed by sha256:{fp} ({trust})"


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    expected = None
    if len(sys.argv) == 3:
        with open(sys.argv[2], "rb") as f:
            pub = load_pem_public_key(f.read())
        expected = pub.public_bytes(Encoding.Raw, PublicFormat.Raw)
    with open(sys.argv[1], "rb") as f:
        log = f.read()
    try:
        print(verify(log, expected))
        return 0
    except Bad as b:
        print(b)
        return {"incomplete": 3, "partial": 4}.get(b.verdict, 1)


if __name__ == "__main__":
    sys.exit(main())
