#!/usr/bin/env bash
# House-rule lint: banned C functions anywhere, and no raw memcmp in the libraries.
set -euo pipefail
cd "$(dirname "$0")/.."

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

# Only common/json.c may see cJSON, only the crypto helpers and secure/ include sodium directly.
if grep -rln --include='*.c' --include='*.h' 'cjson/cJSON.h' common secure tools bench | grep -v '^common/json\.c$'; then
  echo "lint: cJSON included outside common/json.c" >&2
  status=1
fi

# Arrows point down (DESIGN.md section 2). protocols/ runs over interfaces (protocol.h): it sees
# common/ (of common/llm only the chat types), never secure/, apps/, an engine client or HTTP.
# common/ and secure/ never see protocols/ or apps/.
if grep -rnE --include='*.c' --include='*.h' \
     '#include [<"](secure/|apps/|tools/|curl/|common/http|common/llm/)' protocols |
     grep -v 'common/llm/chat\.h"'; then
  echo "lint: protocols/ includes a layer it must not know (secure/, apps/, an engine or HTTP)" >&2
  status=1
fi
if grep -rnE --include='*.c' --include='*.h' '#include "(protocols|apps)/' common secure; then
  echo "lint: common/ or secure/ includes protocols/ or apps/ (arrows point down)" >&2
  status=1
fi

# tests/test.h keeps its pass/fail counters per file: a CHECK in a helper file (one without
# main) would count failures nobody reports. Helpers return results; the test file checks them.
for f in $(grep -rl --include='*.c' '#include "tests/test.h"' tests || true); do
  if ! grep -qE '^int main\(' "$f"; then
    echo "$f: includes tests/test.h without defining main (its CHECKs would never be reported)" >&2
    status=1
  fi
done

[ "$status" -eq 0 ] && echo "lint: clean"
exit "$status"
