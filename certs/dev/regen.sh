#!/usr/bin/env bash
# Regenerates the DEVELOPMENT-ONLY CA and server certificates (ECDSA P-256).
#   regen.sh [--out DIR] [NAME...]
# NAME: the server's host names and addresses (an IPv4 or IPv6 address becomes an IP
# entry of subjectAltName, anything else a DNS entry; the first is the CN). Default:
# localhost 127.0.0.1 ::1. DIR: default this folder (the certificates the tests use).
# For a real host use a real CA: scripts/tls-csr.sh and docs/deploy.md, "Certificates".
set -euo pipefail
out=$(dirname "$0")
if [ "${1:-}" = "--out" ]; then
  out=$2
  shift 2
fi
if [ $# -eq 0 ]; then
  set -- localhost 127.0.0.1 ::1
fi
mkdir -p "$out"
cd "$out"
DAYS=${DAYS:-3650}

san=""
for name in "$@"; do
  if [[ "$name" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ || "$name" =~ ^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*$ ]]; then
    kind=IP
  elif [[ "$name" =~ ^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
    kind=DNS
  else
    echo "regen.sh: not a host name or address: $name" >&2
    exit 2
  fi
  san="${san:+$san,}$kind:$name"
done
cn=$1

make_ca() { # dir name
  openssl ecparam -name prime256v1 -genkey -noout -out "$1/ca.key"
  openssl req -x509 -new -key "$1/ca.key" -sha256 -days "$DAYS" -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$1/ca.pem"
}

make_server() { # dir
  openssl ecparam -name prime256v1 -genkey -noout -out "$1/server.key"
  openssl req -new -key "$1/server.key" -subj "/CN=$cn" -out "$1/server.csr"
  printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' "$san" >"$1/ext.cnf"
  openssl x509 -req -in "$1/server.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" -CAcreateserial \
    -days "$DAYS" -sha256 -extfile "$1/ext.cnf" -out "$1/server.pem"
  rm -f "$1/server.csr" "$1/ext.cnf" "$1/ca.srl"
  chmod 600 "$1/server.key" "$1/ca.key"
}

make_ca . "minions-secure DEVELOPMENT CA (not for production)"
make_server .
# A second, unrelated CA and server certificate: tests use it as "the wrong certificate".
mkdir -p other
make_ca other "minions-secure OTHER development CA (test fixture)"
make_server other
echo "regenerated development certificates for $* (valid ${DAYS} days) in $(pwd)"
