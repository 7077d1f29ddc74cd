#!/usr/bin/env bash
# The supervisor's TLS key and a certificate signing request (CSR) for a real CA or ACME.
#   tls-csr.sh [--dir DIR] [--next] NAME...
# NAME: the host names and addresses clients use (the first is the CN; an IPv4 or IPv6
# address becomes an IP entry of subjectAltName, anything else a DNS entry).
# DIR: default /var/lib/minions-supervisor/tls, the service's state directory. Writes
# DIR/server.key (ECDSA P-256, mode 0600; an existing key is kept) and DIR/server.csr.
# --next: for a rotation, DIR/next/server.key (always new) and DIR/next/server.csr; the
# key in use is left alone until the new certificate is installed (docs/operations.md).
# Run it as the service's user so the key is its own:
#   runuser -u minions-supervisor -- /usr/libexec/minions-secure/tls-csr.sh host.example.org
# then have the CA sign server.csr and put the chain (server first) in DIR/server.pem.
set -euo pipefail
dir=/var/lib/minions-supervisor/tls
next=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --next) next=1; shift ;;
    --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "tls-csr.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -eq 0 ]; then
  echo "tls-csr.sh: give the host's names (try --help)" >&2
  exit 2
fi
san=""
for name in "$@"; do
  if [[ "$name" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ || "$name" =~ ^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*$ ]]; then
    san="${san:+$san,}IP:$name"
  elif [[ "$name" =~ ^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
    san="${san:+$san,}DNS:$name"
  else
    echo "tls-csr.sh: not a host name or address: $name" >&2
    exit 2
  fi
done
if [ "$next" = 1 ]; then
  dir=$dir/next
fi
umask 077
mkdir -p "$dir"
key=$dir/server.key
if [ "$next" = 1 ] || [ ! -e "$key" ]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key.tmp"
  chmod 600 "$key.tmp"
  mv -f "$key.tmp" "$key"
  echo "tls-csr.sh: new key $key"
else
  echo "tls-csr.sh: keeping the key $key"
fi
openssl req -new -key "$key" -sha256 -subj "/CN=$1" -addext "subjectAltName=$san" \
  -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=serverAuth" \
  -out "$dir/server.csr"
chmod 644 "$dir/server.csr"
echo "tls-csr.sh: request $dir/server.csr for $san"
echo "tls-csr.sh: the key's SPKI (what each session's handshake names):"
openssl pkey -in "$key" -pubout -outform DER | openssl dgst -sha256 | sed 's/^.*= */  sha256:/'
