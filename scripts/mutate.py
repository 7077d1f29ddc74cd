#!/usr/bin/env python3
"""Mutation testing of the security checks (docs/testing.md, "Mutation testing").

Each mutant changes one check in one security-critical file: an ENSURE/ENSURE_OUT whose
condition is made always true (its side effects kept), or one comparison inside such a
condition moved across its bound (< and <=, > and >=). Checks whose error is an argument,
allocation or I/O error are defensive and are not mutated. A mutant is killed when the tests
that reach its file fail (or hang); it survives when they pass. A surviving mutant is a check
no test holds: write the test, or, if the mutant is equivalent (another check refuses the
same input first, with the same error), list it in scripts/mutate-accepted.txt with a reason.

The source tree is never touched: files are mirrored into BUILD/src (unchanged files keep
their times, so builds stay incremental) and mutated there, one at a time.
"""
import argparse
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONF = os.path.join(ROOT, "scripts", "mutate.conf")
ACCEPTED = os.path.join(ROOT, "scripts", "mutate-accepted.txt")

# Errors of defensive checks (bad arguments, allocation, I/O): not mutated.
DEFENSIVE = {"MS_ERR_ARG", "MS_ERR_NOMEM", "MS_ERR_INTERNAL", "MS_ERR_IO", "MS_ERR_FILE_OPEN",
             "MS_ERR_OUT_SPACE", "MS_ERR_RANDOM", "MS_ERR_CRYPTO_INIT", "MS_ERR_STATE"}
CHECK_MACROS = ("ENSURE_OUT", "ENSURE")
BOUND_SWAP = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
MIRROR_SKIP = {".git", "node_modules"}


def die(msg):
    print("mutate: " + msg, file=sys.stderr)
    sys.exit(2)


def read_conf():
    """FILE: TEST ... lines: the security-critical files and the tests that reach each."""
    files = {}
    with open(CONF, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if ":" not in line:
                die("%s:%d: expected 'FILE: TEST ...'" % (CONF, n))
            path, tests = line.split(":", 1)
            path, tests = path.strip(), tests.split()
            if not os.path.isfile(os.path.join(ROOT, path)) or not tests:
                die("%s:%d: no such file or no tests: %s" % (CONF, n, path))
            files[path] = tests
    return files


def read_accepted():
    acc = {}
    if os.path.exists(ACCEPTED):
        with open(ACCEPTED, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                if "#" not in line or not line.split("#", 1)[1].strip():
                    die("%s:%d: an accepted survivor needs a reason after '#'" % (ACCEPTED, n))
                mid, why = line.split("#", 1)
                acc[mid.strip()] = why.strip()
    return acc


def skip_comments_and_strings(src):
    """A copy of src with comments and string/char literals blanked (same offsets)."""
    out = list(src)
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            j += 1
            for k in range(i + 1, min(j - 1, n)):
                out[k] = " "
            i = j
            continue
        else:
            i += 1
            continue
        for k in range(i, j):
            if out[k] != "\n":
                out[k] = " "
        i = j
    return "".join(out)


def split_args(code, open_paren):
    """Offsets of the top-level commas and the closing paren of the call at open_paren."""
    depth, commas = 0, []
    for i in range(open_paren, len(code)):
        ch = code[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return commas, i
        elif ch == "," and depth == 1:
            commas.append(i)
    return None, None


FUNC_RE = re.compile(r"^[A-Za-z_][\w \*]*?\b(\w+)\s*\([^;]*$", re.M)


def enclosing_function(code, pos):
    best = "?"
    for m in FUNC_RE.finditer(code, 0, pos):
        best = m.group(1)
    return best


def bound_mutants(code, cond, func, text, line):
    """One `bound` mutant per relational operator inside the condition code[cond[0]:cond[1]]."""
    out = []
    for om in re.finditer(r"(?<![<>=!\-])(<=|>=|<|>)(?![<>=])", code[cond[0]:cond[1]]):
        a = cond[0] + om.start()
        op = om.group(1)
        out.append(dict(op="bound", start=a, end=a + len(op), new=BOUND_SWAP[op], func=func,
                        text=text + " [" + op + "@" + str(om.start()) + "]", line=line))
    return out


def mutants_of(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        src = f.read()
    code = skip_comments_and_strings(src)
    found = []
    for m in re.finditer(r"\b(ENSURE_OUT|ENSURE)\s*\(", code):
        if code[m.start() - 8:m.start()].endswith("define "):
            continue
        open_paren = m.end() - 1
        commas, close = split_args(code, open_paren)
        if commas is None or len(commas) != 1:
            continue
        cond = (open_paren + 1, commas[0])
        err = src[commas[0] + 1:close].strip()
        if err in DEFENSIVE:
            continue
        func = enclosing_function(code, m.start())
        text = " ".join(src[cond[0]:cond[1]].split())
        line = src.count("\n", 0, m.start()) + 1
        found.append(dict(op="drop", start=cond[0], end=cond[1],
                          new="((void)(%s), 1)" % src[cond[0]:cond[1]],
                          func=func, text=text, line=line))
        found.extend(bound_mutants(code, cond, func, text, line))
    # `if (cond) { ...refusal... }`: a refusal is a return of a non-defensive error (or of
    # "no route"), the line verifier's `*problem = ...`, the gateway's 4xx answer
    # (ms_gw_error(resp, 4xx, ...)), or a non-defensive error stored in a run's `*_err` field
    # (secure/attest/tdx_tcb.c: r->tcb_err = MS_ERR_...); the mutant makes cond false.
    for m in re.finditer(r"\bif\s*\(", code):
        open_paren = m.end() - 1
        _, close = split_args(code, open_paren)
        if close is None:
            continue
        rest = code[close + 1:]
        body_start = len(rest) - len(rest.lstrip())
        if rest[body_start:body_start + 1] == "{":
            _, body_end = split_args(rest, body_start)
        else:
            body_end = rest.find(";", body_start)
        if body_end is None or body_end < 0:
            continue
        body = src[close + 1:close + 1 + body_end + 1]
        errs = re.findall(r"return\s+\(?(MS_ERR_\w+|MS_ROUTE_NONE)\b", body)
        # the gateway's refusals answer the client with a 4xx (gateway/auth.c); a 5xx is ours
        gw_refusal = re.search(r"\bms_gw_error\s*\(\s*\w+\s*,\s*4\d\d\b", body)
        errs += re.findall(r"(?:->|\.)\s*\w+_err\s*=\s*\(?(MS_ERR_\w+)\b", body)
        refusal = (any(e not in DEFENSIVE for e in errs) or gw_refusal
                   or re.search(r"\*\s*(problem|why)\s*=", body))
        if not refusal:
            continue
        cond = (open_paren + 1, close)
        func = enclosing_function(code, m.start())
        text = "if " + " ".join(src[cond[0]:cond[1]].split())
        line = src.count("\n", 0, m.start()) + 1
        found.append(dict(op="if", start=cond[0], end=cond[1],
                          new="((void)(%s), 0)" % src[cond[0]:cond[1]],
                          func=func, text=text, line=line))
        found.extend(bound_mutants(code, cond, func, text, line))
    seen = {}
    for mu in found:
        h = hashlib.sha1(mu["text"].encode()).hexdigest()[:8]
        key = (mu["func"], mu["op"], h)
        seen[key] = seen.get(key, 0) + 1
        mu["id"] = "%s:%s:%s:%s:%d" % (path, mu["func"], mu["op"], h, seen[key])
        mu["file"] = path
    return src, found


def mirror(dst):
    """Copy the tree into dst; files whose bytes did not change are left alone. A copied file
    gets a fresh mtime (not the source's): a mutant left behind by a killed run is newer than
    the original, and the build must see the restored file as changed."""
    for base, dirs, files in os.walk(ROOT):
        rel = os.path.relpath(base, ROOT)
        dirs[:] = [d for d in dirs
                   if d not in MIRROR_SKIP and not (rel == "." and d.startswith("build"))]
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for name in files:
            s, d = os.path.join(base, name), os.path.join(dst, rel, name)
            if os.path.islink(s):
                if not os.path.lexists(d):
                    os.symlink(os.readlink(s), d)
                continue
            with open(s, "rb") as f:
                data = f.read()
            try:
                with open(d, "rb") as f:
                    if f.read() == data:
                        continue
            except OSError:
                pass
            shutil.copyfile(s, d)
            shutil.copymode(s, d)
    # ../shared beside the tree (test vectors)
    shared = os.path.join(os.path.dirname(ROOT), "shared")
    link = os.path.join(os.path.dirname(dst), "shared")
    if os.path.isdir(shared) and not os.path.lexists(link):
        os.symlink(shared, link)


def run(cmd, cwd, timeout=None, quiet=True):
    """(returncode, output); returncode None when it ran past timeout. The command runs in a
    process group of its own, killed whole on a timeout: ctest's --timeout yields to a test's
    own TIMEOUT property, and killing ctest alone would leave a looping mutant running."""
    p = subprocess.Popen(cmd, cwd=cwd, start_new_session=True,
                         stdout=subprocess.PIPE if quiet else None,
                         stderr=subprocess.STDOUT if quiet else None)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, (out or b"").decode(errors="replace")
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return None, ""


class Lab:
    """The mirror (BUILD/src) and its build: Ninja when it is installed (a one-file rebuild
    and relink is a few seconds; make's recursive dependency scan costs ~15 s on a loaded
    machine), Unix Makefiles otherwise."""

    def __init__(self, build, jobs):
        self.top = os.path.abspath(build)
        self.src = os.path.join(self.top, "src")
        self.ninja = shutil.which("ninja") is not None
        self.bin = os.path.join(self.top, "ninja" if self.ninja else "bin")
        self.jobs = jobs
        self.base = {}  # test -> seconds of its unmutated run

    def prepare(self):
        os.makedirs(self.top, exist_ok=True)
        mirror(self.src)
        if not os.path.exists(os.path.join(self.bin, "CMakeCache.txt")):
            gen = ["-G", "Ninja"] if self.ninja else []
            rc, out = run(["cmake"] + gen + ["-S", self.src, "-B", self.bin,
                                             "-DCMAKE_BUILD_TYPE=Debug"], ROOT)
            if rc != 0:
                die("cmake failed:\n" + out)

    def build(self, targets):
        return run(["cmake", "--build", self.bin, "-j", str(self.jobs), "--target"] + targets,
                   ROOT)

    def test_one(self, test, timeout):
        """(rc, seconds) of one ctest run; rc None when it hung past timeout."""
        t = time.time()
        rc, _ = run(["ctest", "-R", "^%s$" % re.escape(test), "--timeout", str(timeout)],
                    self.bin, timeout=timeout + 5)
        return rc, time.time() - t

    def baseline(self, tests, timeout):
        """Each test once, unmutated: it must pass; its time sets its timeout per mutant."""
        for test in tests:
            rc, secs = self.test_one(test, timeout)
            if rc != 0:
                rc, out = run(["ctest", "-R", "^%s$" % re.escape(test), "--output-on-failure",
                               "--timeout", str(timeout)], self.bin, timeout=timeout + 30)
                die("%s fails without any mutant; fix it first:\n%s" % (test, out[-3000:]))
            self.base[test] = secs

    def timeout_of(self, test, cap):
        # A mutant that makes a test loop is a hang: 5x the test's normal time (at least
        # 15 s, for a loaded machine) rather than the cap.
        return int(min(cap, max(15, 5 * self.base.get(test, cap))))

    def kill(self, tests, first, cap):
        """Build and run the tests one at a time, the likeliest killer first (the test that
        killed this file's last mutant, then the fastest); stop at the first failure.
        Returns (verdict, test that decided it)."""
        order = sorted(tests, key=lambda t: (t != first, self.base.get(t, 0)))
        for i, test in enumerate(order):
            rc, _ = self.build([test])
            if rc != 0:
                return ("unbuildable" if i == 0 else "killed"), test
            rc, _ = self.test_one(test, self.timeout_of(test, cap))
            if rc is None:
                return "hung", test
            if rc != 0:
                return "killed", test
        return "survived", None


def main():
    ap = argparse.ArgumentParser(
        description="Mutation testing of the security checks: each mutant removes or loosens "
                    "one check; the tests that reach its file must fail.")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--all", action="store_true", help="every mutant of every listed file")
    g.add_argument("--sample", type=int, metavar="N", help="N mutants drawn with --seed")
    ap.add_argument("--seed", type=int, default=1, help="seed of --sample (default 1)")
    ap.add_argument("--files", metavar="F,F", help="only these files (paths as in mutate.conf)")
    ap.add_argument("--only", metavar="NAME,NAME", help="only these mutants (names as --list prints)")
    ap.add_argument("--list", action="store_true", help="print the mutants and exit")
    ap.add_argument("--check-accepted", action="store_true",
                    help="check that every line of mutate-accepted.txt names a mutant --list "
                         "prints (no build; scripts/lint.sh runs it)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build-mutate"),
                    help="work folder (default build-mutate)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=int, default=300,
                    help="seconds per test at most (a hang kills; a mutant's test gets 5x its "
                         "unmutated time, at least 15 s)")
    a = ap.parse_args()

    conf = read_conf()
    accepted = read_accepted()
    if a.check_accepted:
        # A name hashes its check's text: an edited check orphans its accepted line.
        orphans = sorted(set(accepted) - {m["id"] for m in mutants_of_all(conf)})
        for name in orphans:
            print("mutate: scripts/mutate-accepted.txt names no mutant (the check changed or "
                  "left: re-run the file, then fix or remove the line): " + name, file=sys.stderr)
        return 1 if orphans else 0
    files = list(conf)
    if a.files:
        files = [f.strip() for f in a.files.split(",")]
        for f in files:
            if f not in conf:
                die("not in scripts/mutate.conf: " + f)
    pool, sources = [], {}
    for f in files:
        sources[f], ms = mutants_of(f)
        pool.extend(ms)
    known = {m["id"] for m in mutants_of_all(conf)} if accepted else set()
    stale = sorted(set(accepted) - known) if not a.files else []
    if a.only:
        want = {x.strip() for x in a.only.split(",")}
        pool = [m for m in pool if m["id"] in want]
        missing = want - {m["id"] for m in pool}
        if missing:
            die("no such mutant: " + ", ".join(sorted(missing)))
    if a.sample is not None:
        # The N mutants ranked first by a hash of (seed, name): a mutant added or removed
        # elsewhere displaces at most one, so a sample stays put while the code grows.
        pool.sort(key=lambda m: hashlib.sha256(("%d:%s" % (a.seed, m["id"])).encode()).digest())
        pool = pool[:a.sample]
        pool.sort(key=lambda m: (m["file"], m["line"], m["id"]))
    elif not a.all and not a.list and not a.only:
        ap.error("say --all, --sample N, --only NAMES or --list")
    if a.list:
        for m in pool:
            print("%-5s %s:%d  %s" % (m["op"], m["file"], m["line"], m["id"]))
        print("%d mutants" % len(pool))
        return 0

    lab = Lab(a.build, a.jobs)
    lab.prepare()
    need = sorted({t for m in pool for t in conf[m["file"]]})
    t0 = time.time()
    rc, out = lab.build(need)
    if rc != 0:
        die("the unmutated build failed:\n" + out[-3000:])
    lab.baseline(need, a.timeout)
    print("mutate: %d mutants, %d tests, baseline %.0f s (%s)"
          % (len(pool), len(need), time.time() - t0,
             ", ".join("%s %.1f s" % (t, lab.base[t]) for t in need)), flush=True)

    results = []
    killer = {}  # file -> the test that killed its last mutant (tried first next time)
    try:
        for i, m in enumerate(pool, 1):
            src = sources[m["file"]]
            mutated = src[:m["start"]] + m["new"] + src[m["end"]:]
            dst = os.path.join(lab.src, m["file"])
            with open(dst, "w", encoding="utf-8") as f:
                f.write(mutated)
            t = time.time()
            verdict, by = lab.kill(conf[m["file"]], killer.get(m["file"]), a.timeout)
            if verdict in ("killed", "hung"):
                killer[m["file"]] = by
            if verdict == "survived" and m["id"] in accepted:
                verdict = "accepted"
            results.append((m, verdict))
            print("[%d/%d] %-11s %5.0f s  %s:%d %s%s"
                  % (i, len(pool), verdict, time.time() - t, m["file"], m["line"], m["id"],
                     "  (" + by + ")" if verdict in ("killed", "hung") else ""), flush=True)
            with open(dst, "w", encoding="utf-8") as f:
                f.write(src)
    finally:
        for f in files:
            with open(os.path.join(lab.src, f), "w", encoding="utf-8") as fh:
                fh.write(sources[f])

    print()
    print("%-40s %7s %7s %7s %7s %7s" % ("file", "mutants", "killed", "accept", "surviv", "score"))
    new_survivors = []
    for f in files:
        rs = [(m, v) for m, v in results if m["file"] == f]
        if not rs:
            continue
        k = sum(v in ("killed", "hung") for _, v in rs)
        acc = sum(v == "accepted" for _, v in rs)
        sv = sum(v == "survived" for _, v in rs)
        counted = k + acc + sv
        score = 100.0 * (k + acc) / counted if counted else 100.0
        print("%-40s %7d %7d %7d %7d %6.1f%%" % (f, len(rs), k, acc, sv, score))
        new_survivors += [m for m, v in rs if v == "survived"]
    k = sum(v in ("killed", "hung") for _, v in results)
    acc = sum(v == "accepted" for _, v in results)
    counted = sum(v != "unbuildable" for _, v in results)
    print("score: %d killed + %d accepted of %d (%.1f%%), %d unbuildable, %.0f s"
          % (k, acc, counted, 100.0 * (k + acc) / max(1, counted),
             len(results) - counted, time.time() - t0))
    for s in stale:
        print("mutate: accepted survivor no longer exists (remove it): " + s)
    if new_survivors:
        print("\nsurvivors (a check no test holds; add a test or accept it with a reason):")
        for m in new_survivors:
            print("  %s:%d  %s\n      %s" % (m["file"], m["line"], m["id"], m["text"][:150]))
        return 1
    return 0


def mutants_of_all(conf):
    out = []
    for f in conf:
        out.extend(mutants_of(f)[1])
    return out


if __name__ == "__main__":
    sys.exit(main())
