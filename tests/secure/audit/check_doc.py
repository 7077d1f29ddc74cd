#!/usr/bin/env python3
"""docs/logs.md cannot drift: its Python verifier is tests/secure/audit/verify_log.py byte for byte,
and its worked example (log, hashes, signed message, public key) verifies with it.

Usage: check_doc.py SOURCE_DIR   (exit 0 when the doc matches)
"""
import hashlib
import os
import re
import sys


def block(doc, name):
    """The fenced block between <!-- name:start --> and <!-- name:end -->."""
    m = re.search(r"<!-- %s:start -->\n```[a-z]*\n(.*?)```\n<!-- %s:end -->"
                  % (re.escape(name), re.escape(name)), doc, re.S)
    if not m:
        raise SystemExit(f"check_doc: no {name} block in docs/logs.md")
    return m.group(1)


def main():
    src = sys.argv[1]
    sys.path.insert(0, os.path.join(src, "tests", "secure", "audit"))
    import verify_log
    from cryptography.hazmat.primitives.serialization import (
        Encoding, PublicFormat, load_pem_public_key)

    with open(os.path.join(src, "docs", "logs.md"), encoding="utf-8") as f:
        doc = f.read()
    with open(os.path.join(src, "tests", "secure", "audit", "verify_log.py"), encoding="utf-8") as f:
        script = f.read()
    problems = []
    if block(doc, "verify_log.py") != script:
        problems.append("the Python verifier in docs/logs.md is not tests/secure/audit/verify_log.py")

    log = block(doc, "example-log").encode()
    pub = load_pem_public_key(block(doc, "example-pub").encode())
    key = pub.public_bytes(Encoding.Raw, PublicFormat.Raw)
    try:
        result = verify_log.verify(log, key)
    except verify_log.Bad as b:
        result = str(b)
    if not result.startswith("valid: 3 lines, sealed by sha256:"):
        problems.append(f"the example log does not verify: {result}")
    fp = "sha256:" + hashlib.sha256(bytes.fromhex("302a300506032b6570032100") + key).hexdigest()
    if f"fingerprint is\n`{fp}`" not in doc or fp not in result:
        problems.append(f"the example key's fingerprint {fp} is not the one the doc gives")

    lines = log.split(b"\n")[:-1]
    for n, line in enumerate(lines, 1):
        h = hashlib.sha256(line).hexdigest()
        if f"sha256(line {n}) = `{h}` ({len(line)} bytes)" not in doc:
            problems.append(f"the doc's hash or size of example line {n} is wrong ({h}, {len(line)})")

    seal = lines[2].decode()
    ts = re.search(r'"ts":"([^"]+)"', seal).group(1)
    log_id = re.search(r'"log_id":"([0-9a-f]{32})"', lines[0].decode()).group(1)
    msg = (b"minions-audit/1 seal" + bytes.fromhex(log_id) + (2).to_bytes(8, "big") +
           hashlib.sha256(lines[1]).digest() + ts.encode())
    if "".join(block(doc, "example-message").split()) != msg.hex():
        problems.append("the doc's signed message of the example is wrong")

    edited = log.replace(b'"/clear"', b'"/clean"')
    try:
        verify_log.verify(edited, key)
        problems.append("the edited example verifies")
    except verify_log.Bad as b:
        if not str(b).startswith("tampered at line 2:"):
            problems.append(f"the edited example gives {b}, not what the doc says")

    for p in problems:
        print("check_doc:", p)
    print("check_doc:", "docs/logs.md matches" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
