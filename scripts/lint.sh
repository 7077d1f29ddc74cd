#!/usr/bin/env bash
# House-rule lint: banned C functions, no raw memcmp in the libraries, includes only point
# down the layers (docs/architecture.md), third-party headers only in their owners' files,
# tests/test.h only in files with a main(), and every line of scripts/mutate-accepted.txt names
# a mutant that scripts/mutate.py still makes.
#   scripts/lint.sh             lint this tree
#   scripts/lint.sh --root DIR  lint the tree at DIR (used by the self-test)
#   scripts/lint.sh --selftest  plant violations in a copy of this tree; each must be caught
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root=$here

selftest() {
  local work rc=0
  work=$(mktemp -d "${TMPDIR:-/tmp}/ms-lint.XXXXXX")
  trap 'rm -rf "$work"' RETURN
  # $1: a name; $2: a file (relative); $3: a line to add to it; $4: what the report must say
  # One copy of the tree; each plant adds its line to a file and puts the file back after.
  mkdir -p "$work/tree"
  (cd "$here" && cp -R common secure protocols apps tools bench tests scripts "$work/tree/")
  if [ -d "$here/gateway" ]; then cp -R "$here/gateway" "$work/tree/"; fi # in mutate.conf
  plant() {
    if [ -n "$2" ]; then
      cp -p "$work/tree/$2" "$work/saved"
      printf '%s\n' "$3" >>"$work/tree/$2"
    fi
    local out status=0
    out=$("$work/tree/scripts/lint.sh" --root "$work/tree" 2>&1) || status=$?
    if [ -n "$2" ]; then mv "$work/saved" "$work/tree/$2"; fi
    if [ -z "$2" ]; then
      if [ "$status" -ne 0 ]; then
        echo "lint selftest: $1: the clean copy fails:" >&2; echo "$out" >&2; rc=1
      else
        echo "lint selftest: $1: passes"
      fi
    elif [ "$status" -eq 0 ] || ! grep -qF "$4" <<<"$out"; then
      echo "lint selftest: $1: NOT caught (want \"$4\")" >&2; echo "$out" >&2; rc=1
    else
      echo "lint selftest: $1: caught"
    fi
  }
  plant "clean copy" "" "" ""
  plant "upward include (common -> secure)" common/buf.c '#include "secure/record.h"' \
    "common/buf.c: includes secure/record.h"
  plant "upward include (protocols -> secure/audit)" protocols/plan.c \
    '#include "secure/audit/alog.h"' "protocols/plan.c: includes secure/audit/alog.h"
  plant "library includes a program" secure/client/client.c \
    '#include "apps/minions-secure/cli.h"' "secure/client/client.c: includes apps/minions-secure/cli.h"
  plant "curl outside its owners" protocols/plan.c '#include <curl/curl.h>' \
    "protocols/plan.c: includes <curl/curl.h>"
  plant "curl in the engine pool" common/llm/pool.c '#include <curl/curl.h>' \
    "common/llm/pool.c: includes <curl/curl.h>"
  plant "microhttpd outside its owners" secure/client/link.c '#include <microhttpd.h>' \
    "secure/client/link.c: includes <microhttpd.h>"
  plant "OpenSSL outside secure/attest" secure/supervisor/server.c '#include <openssl/evp.h>' \
    "secure/supervisor/server.c: includes <openssl/evp.h>"
  plant "cJSON outside common/json" protocols/plan.c '#include <cjson/cJSON.h>' \
    "protocols/plan.c: includes <cjson/cJSON.h>"
  plant "sodium in a program" apps/minions-audit/main.c '#include <sodium.h>' \
    "apps/minions-audit/main.c: includes <sodium.h>"
  plant "banned function" common/buf.c 'static void f(char *d) { strcpy(d, "x"); }' \
    "banned function"
  plant "orphaned accepted mutant" scripts/mutate-accepted.txt \
    'secure/record.c:gone:drop:00000000:1  # its check was edited' \
    "names no mutant (the check changed or left: re-run the file, then fix or remove the line): secure/record.c:gone:drop:00000000:1"
  return "$rc"
}

case "${1:-}" in
--selftest) selftest; exit $? ;;
--root) root=$(cd "$2" && pwd) ;;
'') ;;
*) echo "usage: lint.sh [--root DIR | --selftest]" >&2; exit 2 ;;
esac
cd "$root"

status=0
src_dirs=(common secure protocols apps tools bench tests)
existing=()
for d in "${src_dirs[@]}"; do [ -d "$d" ] && existing+=("$d"); done

# Unbounded or unchecked string and number functions: use snprintf, strtoull with checks, cursors.
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|strtok|strncpy)[[:space:]]*\('
if grep -rnE --include='*.c' --include='*.h' "$banned" "${existing[@]}"; then
  echo "lint: banned function used (see STYLE: strcpy, sprintf, atoi, strtok, ...)" >&2
  status=1
fi

# Library code compares secrets and MACs in constant time (ms_ct_equal); tests may use memcmp.
lib_dirs=()
for d in common secure protocols; do [ -d "$d" ] && lib_dirs+=("$d"); done
if grep -rnE --include='*.c' --include='*.h' '(^|[^_a-z])memcmp[[:space:]]*\(' "${lib_dirs[@]}"; then
  echo "lint: raw memcmp in library code: use ms_ct_equal (constant time)" >&2
  status=1
fi

# Layers (which folders a folder's files may include) and the owners of each third-party
# header: the table and the check are in scripts/lint_includes.py.
if ! /usr/bin/python3 "$here/scripts/lint_includes.py" "$root"; then
  status=1
fi

# tests/test.h keeps its pass/fail counters per file: a CHECK in a helper file (one without
# main) would count failures nobody reports. Helpers return results; the test file checks them.
if [ -d tests ]; then
  # One grep for all of them (a grep per file is ~100 processes, seconds on a loaded machine).
  mapfile -t with_test_h < <(grep -rl --include='*.c' '#include "tests/test.h"' tests || true)
  if [ "${#with_test_h[@]}" -gt 0 ]; then
    for f in $(grep -LE '^int main\(' "${with_test_h[@]}" || true); do
      echo "$f: includes tests/test.h without defining main (its CHECKs would never be reported)" >&2
      status=1
    done
  fi
fi

# Every accepted survivor in scripts/mutate-accepted.txt names a mutant that mutate.py still
# makes (no build: it reads the files of mutate.conf). A name hashes its check's text, so an
# edited check silently orphans its line.
if [ -f scripts/mutate.py ] && ! /usr/bin/python3 scripts/mutate.py --check-accepted; then
  status=1
fi

[ "$status" -eq 0 ] && echo "lint: clean"
exit "$status"
