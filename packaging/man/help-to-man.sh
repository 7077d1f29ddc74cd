#!/bin/sh
# Writes a gzip-compressed man page built from a program's own --help text, so the page
# never says something the program does not.
#   help-to-man.sh PROGRAM NAME SUMMARY OUT.1.gz [SUBCOMMAND...]
# Each SUBCOMMAND's "PROGRAM SUBCOMMAND --help" becomes a section of its own. The text
# is kept as the program prints it (no-fill), escaped for roff.
set -eu
prog=$1 name=$2 summary=$3 out=$4
shift 4
version=$("$prog" --version 2>/dev/null | head -n 1 | sed 's/^[^ ]* //; s/ .*//')
escape() { # roff: backslashes, and lines that would start a request
  sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/" -e 's/-/\\-/g'
}
tmp=$out.tmp
{
  printf '.TH %s 1 "" "%s %s" "User Commands"\n' \
    "$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')" "$name" "${version:-0}"
  printf '.SH NAME\n%s \\- %s\n' "$name" "$summary"
  printf '.SH DESCRIPTION\n.nf\n'
  "$prog" --help | escape
  printf '.fi\n'
  for sub in "$@"; do
    printf '.SH "%s %s"\n.nf\n' "$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')" \
      "$(printf '%s' "$sub" | tr '[:lower:]' '[:upper:]')"
    "$prog" "$sub" --help | escape
    printf '.fi\n'
  done
  printf '.SH SEE ALSO\nThe documents in /usr/share/doc/minions-secure/, docs/ in the source tree.\n'
} >"$tmp"
gzip -9n -c "$tmp" >"$out"
rm -f "$tmp"
