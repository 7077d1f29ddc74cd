#!/usr/bin/env bash
# Builds the Debian package minions-secure_VERSION_ARCH.deb with Debian's own tools
# (dpkg-buildflags, dpkg-shlibdeps, fakeroot, dpkg-deb); no debhelper.
#   scripts/package-deb.sh [--build-dir DIR] [--out DIR] [--compress xz|gzip]
# By default: a Release build in build-deb/ with Debian's hardening flags, the package in
# dist/, xz-compressed. --build-dir packages an existing build of this tree instead (the
# package test does, to build nothing twice, with gzip: a tenth of xz's time). The staging
# root is `cmake --install --prefix /usr` (packaging/CMakeLists.txt); packaging/debian/
# holds the postinst and copyright. It refuses to package a private key. Check it with:
#   dpkg-deb -c dist/minions-secure_*.deb; lintian dist/minions-secure_*.deb
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=""
out=$here/dist
compress=xz
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$(cd "$2" && pwd); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --compress) compress=$2; shift 2
      case "$compress" in xz|gzip) ;; *) echo "package-deb.sh: --compress xz or gzip" >&2; exit 2 ;; esac ;;
    --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package-deb.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
for tool in dpkg-deb dpkg-shlibdeps dpkg-buildflags fakeroot; do
  command -v "$tool" >/dev/null || { echo "package-deb.sh: $tool is missing (scripts/install-deps.sh)" >&2; exit 2; }
done
umask 022
name=minions-secure
version=$(sed -n 's/^project([a-z_]* VERSION \([0-9.]*\).*/\1/p' "$here/CMakeLists.txt")
arch=$(dpkg --print-architecture)
if [ -z "$build" ]; then
  build=$here/build-deb
  export DEB_BUILD_MAINT_OPTIONS=hardening=+all # PIE, bindnow, fortify, stack protector, CET
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMS_TESTS=OFF \
    -DCMAKE_C_FLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
    -DCMAKE_EXE_LINKER_FLAGS="$(dpkg-buildflags --get LDFLAGS)" >/dev/null
  cmake --build "$build" -j "${JOBS:-2}" \
    --target minions-secure minions-supervisor minions-audit llm-sim man_pages
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ms-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/debian/$name # where dpkg-shlibdeps expects a package's files
mkdir -p "$root/DEBIAN"
chmod 0755 "$root"
DESTDIR=$root cmake --install "$build" --prefix /usr --strip >"$work/install.log"
doc=$root/usr/share/doc/$name
install -m 0644 "$here/packaging/debian/copyright" "$doc/copyright"
date=$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)}")
printf '%s (%s) unstable; urgency=medium\n\n  * Built by scripts/package-deb.sh from the source tree (see its git log).\n\n -- Secure Minions C project <minions-secure@example.org>  %s\n' \
  "$name" "$version" "$date" | gzip -9n >"$doc/changelog.gz"

# Never a private key in the package (a PEM block of one, in any file).
if grep -rlzP -- '-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=]{40,}' "$root" >"$work/keys"; then
  echo "package-deb.sh: refusing to package a private key:" >&2
  sed "s|^$root||" "$work/keys" >&2
  exit 1
fi

# Depends from the ELF files' shared libraries (shlibs), as dpkg-shlibdeps finds them.
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$name" "$name" >"$work/debian/control"
mapfile -t elves < <(find "$root/usr/bin" "$root/usr/libexec" -type f -perm -u+x \
  -exec sh -c 'head -c 4 "$1" | grep -q "ELF" && echo "$1"' _ {} \;)
strip --remove-section=.comment "${elves[@]}" # the compiler's version strings
depends=$(cd "$work" && dpkg-shlibdeps -O "${elves[@]}" 2>"$work/shlibdeps.log" |
  sed -n 's/^shlibs:Depends=//p') || { cat "$work/shlibdeps.log" >&2; exit 1; }
[ -n "$depends" ] || { echo "package-deb.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
    -e "s/@DEPENDS@/$depends/" "$here/packaging/debian/control.in" >"$root/DEBIAN/control"
install -m 0755 "$here/packaging/debian/postinst" "$root/DEBIAN/postinst"
(cd "$root" && find etc -type f | sed 's|^|/|' | LC_ALL=C sort) >"$root/DEBIAN/conffiles"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

mkdir -p "$out"
deb=$out/${name}_${version}_${arch}.deb
fakeroot dpkg-deb --build -Z"$compress" "$root" "$deb" >/dev/null
echo "package-deb.sh: $deb"
