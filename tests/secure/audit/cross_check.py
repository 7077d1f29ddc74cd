#!/usr/bin/env python3
"""minions-audit and the doc's Python verifier must agree: every byte of a log flipped, every cut.

Usage: cross_check.py MINIONS_AUDIT LOG KEY.pub WORKDIR   (exit 0 when they agree)
Verdicts must be equal. Lines too, except where minions-audit names the edited line of a
broken chain more precisely ("... was changed: ..."), where the Python names the line before.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_log  # noqa: E402  (the file docs/logs.md quotes)

from cryptography.hazmat.primitives.serialization import (  # noqa: E402
    Encoding, PublicFormat, load_pem_public_key)


def python_verdict(data, key):
    try:
        verify_log.verify(data, key)
        return "valid", 0
    except verify_log.Bad as b:
        return b.verdict, int(str(b).split(" at line ")[1].split(":")[0])


def main():
    audit, log, pub, work = sys.argv[1:5]
    with open(log, "rb") as f:
        data = f.read()
    with open(pub, "rb") as f:
        key = load_pem_public_key(f.read()).public_bytes(Encoding.Raw, PublicFormat.Raw)
    # Quick mode (the memcheck twin, MS_TEST_MEMCHECK=1: tests/quick.h): every 5th offset
    # and the last; minions-audit is not under valgrind here, so the twin repeats the plain
    # test's work. Full mode: every offset.
    step = 5 if os.environ.get("MS_TEST_MEMCHECK", "").startswith("1") else 1
    offsets = sorted(set(range(0, len(data), step)) | {len(data) - 1})
    variants = []
    for off in offsets:
        for mask in (0x01, 0x20, 0x80):
            v = bytearray(data)
            v[off] ^= mask
            variants.append(bytes(v))
    variants += [data[:n] for n in offsets]
    variants.append(data + b'{"v":1}\n')
    paths = []
    for i, v in enumerate(variants):
        p = os.path.join(work, f"v{i}.log")
        with open(p, "wb") as f:
            f.write(v)
        paths.append(p)
    out = subprocess.run([audit, "verify", "--json", "--key", pub] + paths,
                         capture_output=True, check=False)
    logs = json.loads(out.stdout)["logs"]
    bad = 0
    for v, p, c in zip(variants, paths, logs):
        pv, pl = python_verdict(v, key)
        refined = "was changed:" in c["why"]
        if c["verdict"] != pv or (c["bad_line"] != pl and not refined):
            bad += 1
            if bad <= 10:
                print(f"{p}: minions-audit {c['verdict']} at {c['bad_line']} ({c['why']}); "
                      f"python {pv} at {pl}")
        os.unlink(p)
    print(f"cross_check: {len(variants)} variants, {bad} disagreements")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
