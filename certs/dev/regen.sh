#!/usr/bin/env bash
# Regenerates the DEVELOPMENT-ONLY CA and server certificates in this folder (ECDSA P-256).
set -euo pipefail
cd "$(dirname "$0")"
DAYS=${DAYS:-3650}

make_ca() { # dir name
  openssl ecparam -name prime256v1 -genkey -noout -out "$1/ca.key"
  openssl req -x509 -new -key "$1/ca.key" -sha256 -days "$DAYS" -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$1/ca.pem"
}

make_server() { # dir
  openssl ecparam -name prime256v1 -genkey -noout -out "$1/server.key"
  openssl req -new -key "$1/server.key" -subj "/CN=localhost" -out "$1/server.csr"
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >"$1/ext.cnf"
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
echo "regenerated development certificates (valid ${DAYS} days) in $(pwd)"
