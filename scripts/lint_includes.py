#!/usr/bin/env python3
"""Includes point down the layers, and third-party headers stay with their owners.

Usage: lint_includes.py ROOT   (exit 1 with one line per violation; docs/architecture.md
explains the layers). Tests and benches are not checked: they may include anything.
"""
import fnmatch
import os
import re
import sys

# A folder -> what its files may include: folders (their own headers, not their
# subfolders') or single headers by path. A file belongs to the longest folder listed here
# that holds it.
LAYERS = {
    "common": ["common"],
    "common/llm": ["common", "common/llm"],
    "secure": ["common", "secure"],
    "secure/attest": ["common", "secure", "secure/attest"],
    "secure/audit": ["common", "secure", "secure/attest", "secure/audit"],
    "secure/client": ["common", "common/llm", "secure", "secure/attest", "secure/client"],
    "secure/supervisor": ["common", "common/llm", "secure", "secure/attest", "secure/audit",
                          "secure/supervisor"],
    # minions-secure serve's gateway: HTTP in front, attested sessions behind.
    "gateway": ["common", "common/llm", "secure", "secure/attest", "secure/client", "gateway"],
    # The protocols see engines only through their own worker interface: message types only.
    "protocols": ["common", "common/llm/chat.h", "protocols"],
    "apps/minions-secure": ["common", "common/llm", "secure", "secure/attest", "secure/audit",
                            "secure/client", "protocols", "gateway", "apps/minions-secure"],
    "apps/minions-supervisor": ["common", "secure", "secure/attest", "secure/audit",
                                "secure/supervisor", "apps/minions-supervisor"],
    "apps/minions-audit": ["common", "secure", "secure/attest", "secure/audit",
                           "apps/minions-audit"],
    "tools/channel-demo": ["common", "secure", "tools/channel-demo"],
    "tools/llm-sim": ["common", "tools/llm-sim"],
}

# A third-party header (prefix of the <...> name) -> the files or folders (with their
# subfolders) that may include it; a name with * is a shell pattern for files of one folder.
OWNERS = {
    "curl/": ["common/http*.c", "common/http_internal.h", "common/http_loop.h",
              "secure/client/link.c"],
    "microhttpd.h": ["secure/supervisor", "tools/llm-sim", "gateway/server.c"],
    "sodium.h": ["common", "secure"],
    "openssl/": ["secure/attest", "secure/aead.c"],
    "tss2/": ["secure/attest"],
    "cjson/": ["common/json*.c"],
    "poppler/": ["protocols/context_pdf.c"],
    "glib": ["protocols/context_pdf.c"],
    "histedit.h": ["apps/minions-secure/chat_input.c"],
}

SCANNED = ["common", "secure", "protocols", "gateway", "apps", "tools"]
OURS = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
THEIRS = re.compile(r"^\s*#\s*include\s*<([^>]+)>", re.M)


def inside(path, place):
    if "*" in place:
        return fnmatch.fnmatchcase(path, place) and "/" not in path[len(place.split("*")[0]):]
    return path == place or path.startswith(place + "/")


def layer_of(path):
    folder = os.path.dirname(path)
    best = None
    for key in LAYERS:
        if inside(folder, key) and (best is None or len(key) > len(best)):
            best = key
    return best


def check(root):
    problems = []
    for top in SCANNED:
        for dirpath, dirs, files in os.walk(os.path.join(root, top)):
            dirs.sort()
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root)
                with open(full, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                layer = layer_of(rel)
                for inc in OURS.findall(text):
                    if layer is None:
                        continue
                    allowed = LAYERS[layer]
                    if inc not in allowed and os.path.dirname(inc) not in allowed:
                        problems.append(f"{rel}: includes {inc}, which layer {layer} may not "
                                        f"(allowed: {' '.join(allowed)})")
                for inc in THEIRS.findall(text):
                    for prefix, owners in OWNERS.items():
                        if inc.startswith(prefix) and not any(inside(rel, o) for o in owners):
                            problems.append(f"{rel}: includes <{inc}>, which only "
                                            f"{' '.join(owners)} may include")
    return problems


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: lint_includes.py ROOT")
    problems = check(sys.argv[1])
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
