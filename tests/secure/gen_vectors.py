#!/usr/bin/python3
"""Known-answer vectors for the minions-secure channel, version 1.

This is a second, independent implementation of docs/protocol.md (sections 2 and
4-9), written from the specification text only. It produces the vector files that
the C known-answer tests read:

    tests/secure/vectors/handshake.txt   ClientHello .. ClientFinish (sections 4-7)
    tests/secure/vectors/records.txt     sealed records (section 8)
    tests/secure/vectors/ratchet.txt     epoch keys (sections 8.2 and 9)

Usage (from the repository root):

    /usr/bin/python3 tests/secure/gen_vectors.py --out tests/secure/vectors
    /usr/bin/python3 tests/secure/gen_vectors.py --check tests/secure/vectors
    /usr/bin/python3 tests/secure/gen_vectors.py --selftest

Primitives: X25519, Ed25519 and ChaCha20-Poly1305 come from the `cryptography`
package (OpenSSL); BLAKE2b from `hashlib`. Nothing here is random: every "random"
input is derived from a fixed seed by `det()`, so the output is byte-for-byte
reproducible.
"""

import argparse
import hashlib
import hmac
import os
import struct
import sys

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import (
    Encoding, PublicFormat)


class ProtocolError(Exception):
    """Carries one MS_ERR_* name from the spec's check tables."""


# ---------------------------------------------------------------------------
# §2 Notation and primitives
# ---------------------------------------------------------------------------

def u8(v):
    return struct.pack(">B", v)


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def H32(x):
    """§2: BLAKE2b, 32-byte output, unkeyed."""
    return hashlib.blake2b(x, digest_size=32).digest()


def H64(x):
    """§2: BLAKE2b, 64-byte output, unkeyed."""
    return hashlib.blake2b(x, digest_size=64).digest()


def MAC(k, x):
    """§2: BLAKE2b, 32-byte output, keyed with the 32-byte key k."""
    assert len(k) == 32
    return hashlib.blake2b(x, key=k, digest_size=32).digest()


def ct_equal(a, b):
    """Constant-time comparison (§7.3 check 8, §7.4, §8.3 check 9)."""
    return hmac.compare_digest(a, b)


def _raw(pub):
    return pub.public_bytes(Encoding.Raw, PublicFormat.Raw)


def x25519_public(sk):
    """§2: X25519(sk, 9), the secret clamped inside X25519 as RFC 7748 says."""
    return _raw(X25519PrivateKey.from_private_bytes(sk).public_key())


def X25519(sk, pk):
    """§2 / §7.2: RFC 7748; an all-zero result is MS_ERR_HS_WEAK_KEY.

    OpenSSL itself refuses to return an all-zero result (ValueError), so both
    that refusal and an all-zero output map to MS_ERR_HS_WEAK_KEY.
    """
    try:
        out = X25519PrivateKey.from_private_bytes(sk).exchange(
            X25519PublicKey.from_public_bytes(pk))
    except ValueError:
        raise ProtocolError("MS_ERR_HS_WEAK_KEY")
    if out == bytes(32):
        raise ProtocolError("MS_ERR_HS_WEAK_KEY")
    return out


def ed25519_public(seed):
    return _raw(Ed25519PrivateKey.from_private_bytes(seed).public_key())


def ed25519_sign(seed, m):
    """§2: RFC 8032 pure Ed25519 (deterministic), secret key given as its seed."""
    return Ed25519PrivateKey.from_private_bytes(seed).sign(m)


def ed25519_verify(pk, m, sig):
    try:
        Ed25519PublicKey.from_public_bytes(pk).verify(sig, m)
        return True
    except InvalidSignature:
        return False


def AEAD(k, nonce, ad, pt):
    """§2: ChaCha20-Poly1305-IETF, 12-byte nonce; returns ciphertext || tag."""
    assert len(k) == 32 and len(nonce) == 12
    return ChaCha20Poly1305(k).encrypt(nonce, pt, ad)


def AEAD_open(k, nonce, ad, ct):
    """Inverse of AEAD(); None when the tag does not verify."""
    try:
        return ChaCha20Poly1305(k).decrypt(nonce, ct, ad)
    except InvalidTag:
        return None


# §2.1 Labels
L_TRANSCRIPT = b"minions-secure/1 transcript"
L_CLIENT_SIG = b"minions-secure/1 client signature"
L_EXTRACT = b"minions-secure/1 extract"
L_C2S_KEY = b"minions-secure/1 c2s key"
L_S2C_KEY = b"minions-secure/1 s2c key"
L_SERVER_FIN = b"minions-secure/1 server finished"
L_CLIENT_FIN = b"minions-secure/1 client finished"
L_RATCHET = b"minions-secure/1 ratchet"
L_BINDING = b"minions-secure/1 evidence binding"
LABELS = [L_TRANSCRIPT, L_CLIENT_SIG, L_EXTRACT, L_C2S_KEY, L_S2C_KEY,
          L_SERVER_FIN, L_CLIENT_FIN, L_RATCHET, L_BINDING]

# §2.2 Constants
VERSION_1 = 0x01
SUITE_1 = 0x0001
MAX_LIST = 8
MAX_EVIDENCE = 262144
MAX_RECORD_PLAINTEXT = 1048576
EPOCH_SHIFT = 16
EPOCH_BYTES = 2 ** 28
MAX_EPOCH_AHEAD = 8
WINDOW = 256
SEQ_LIMIT = 2 ** 64 - 1          # §8.2: never used as a sequence number

# §2.3 Evidence types (0x0000 and 0xFFFF are reserved)
EV_DEV_KEY = 0x0001
EV_TPM2_QUOTE = 0x0002
EV_SEV_SNP = 0x0003
EV_RESERVED = (0x0000, 0xFFFF)

# §4 / §5 / §7.4 message types, §4 flags, §5 evidence modes
MSG_CLIENT_HELLO = 0x01
MSG_SERVER_HELLO = 0x02
MSG_CLIENT_FINISH = 0x03
FLAG_STRICT = 0x01
MODE_FAST = 0x00
MODE_STRICT = 0x01
MODE_FAST_HELD = 0x02            # §6: FAST evidence named by its SHA-256
HELD_LEN = 32

# §5 ServerHello layout
SH_FIXED = 131                   # SH_core without the evidence
SH_CONFIRM_LEN = 32
SH_MIN = SH_FIXED + SH_CONFIRM_LEN   # 163: length is 163 + evidence_len
SH_OFF_STATIC_PK = 84

# §8.1 record types and directions
REC_MSG = 0x01
REC_STREAM_DATA = 0x02
REC_STREAM_FINAL = 0x03
REC_CLOSE = 0x04
DIR_C2S = 0x01
DIR_S2C = 0x02
HEADER_LEN = 40
TAG_LEN = 16


# ---------------------------------------------------------------------------
# Deterministic inputs
# ---------------------------------------------------------------------------

def det(name, field, n):
    """n deterministic bytes for vector `name`, input `field`.

    sha256("name/field")[:n] for n <= 32; longer outputs concatenate
    sha256("name/field/0"), sha256("name/field/1"), ... and truncate.
    """
    tag = ("%s/%s" % (name, field)).encode()
    if n <= 32:
        return hashlib.sha256(tag).digest()[:n]
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(tag + b"/%d" % i).digest()
        i += 1
    return out[:n]


class Reader:
    """Reads fields in order (§2 decoding rule); running out of input is
    MS_ERR_TRUNCATED, so the first problem in reading order decides."""

    def __init__(self, b):
        self.b, self.i = b, 0

    def take(self, n):
        if self.i + n > len(self.b):
            raise ProtocolError("MS_ERR_TRUNCATED")
        out = self.b[self.i:self.i + n]
        self.i += n
        return out

    def int(self, n):
        return int.from_bytes(self.take(n), "big")

    def end(self):
        if self.i != len(self.b):
            raise ProtocolError("MS_ERR_TRAILING")


# ---------------------------------------------------------------------------
# §4 ClientHello
# ---------------------------------------------------------------------------

def client_hello(versions, suites, client_eph_pk, challenge, evidence_types,
                 flags, client_id_pk):
    """Encode a ClientHello (§4). client_id_pk is b"" or 32 bytes."""
    for lst in (versions, suites, evidence_types):
        assert 1 <= len(lst) <= MAX_LIST
    assert flags & ~FLAG_STRICT == 0
    assert len(client_eph_pk) == 32 and len(challenge) == 32
    assert len(client_id_pk) in (0, 32)
    return (u8(MSG_CLIENT_HELLO)
            + u8(len(versions)) + bytes(versions)
            + u8(len(suites)) + b"".join(u16(s) for s in suites)
            + client_eph_pk
            + challenge
            + u8(len(evidence_types)) + b"".join(u16(t) for t in evidence_types)
            + u8(flags)
            + u8(len(client_id_pk)) + client_id_pk)


def decode_client_hello(b):
    """§4 decoding checks, each made as soon as its field has been read."""
    r = Reader(b)
    if r.int(1) != MSG_CLIENT_HELLO:
        raise ProtocolError("MS_ERR_HS_MSG_TYPE")

    def count():
        n = r.int(1)
        if not 1 <= n <= MAX_LIST:
            raise ProtocolError("MS_ERR_HS_COUNT")
        return n

    ch = {}
    ch["versions"] = [r.int(1) for _ in range(count())]
    ch["suites"] = [r.int(2) for _ in range(count())]
    ch["client_eph_pk"] = r.take(32)
    ch["challenge"] = r.take(32)
    ch["evidence_types"] = [r.int(2) for _ in range(count())]
    ch["flags"] = r.int(1)
    if ch["flags"] & ~FLAG_STRICT:
        raise ProtocolError("MS_ERR_HS_FLAGS")
    n = r.int(1)
    if n not in (0, 32):
        raise ProtocolError("MS_ERR_HS_CLIENT_ID")
    ch["client_id_pk"] = r.take(n)
    r.end()
    return ch


def negotiate(ch, caps):
    """§4 negotiation on the supervisor: returns (evidence_type, evidence_mode).

    `caps` maps each evidence type this supervisor can produce to the set of
    modes ({MODE_FAST, MODE_STRICT}) it can produce it in. Reserved values
    (§2.3) are never chosen.
    """
    if VERSION_1 not in ch["versions"]:
        raise ProtocolError("MS_ERR_HS_VERSION")
    if SUITE_1 not in ch["suites"]:
        raise ProtocolError("MS_ERR_HS_SUITE")
    usable = [t for t in ch["evidence_types"]
              if t not in EV_RESERVED and caps.get(t)]
    if not usable:
        raise ProtocolError("MS_ERR_HS_EVIDENCE_TYPE")
    if ch["flags"] & FLAG_STRICT:
        # The first type, in the client's order, producible in STRICT mode.
        chosen = next((t for t in usable if MODE_STRICT in caps[t]), None)
        if chosen is None:
            raise ProtocolError("MS_ERR_HS_MODE")
        return chosen, MODE_STRICT
    # STRICT not asked: the first type producible in either mode, answered
    # FAST when that type can be made FAST, STRICT (unasked) otherwise.
    chosen = usable[0]
    return chosen, (MODE_FAST if MODE_FAST in caps[chosen] else MODE_STRICT)


# ---------------------------------------------------------------------------
# §5 ServerHello
# ---------------------------------------------------------------------------

def server_hello_core(version, suite, session_id, server_eph_pk,
                      tls_spki_sha256, static_pk, evidence_type, evidence_mode,
                      evidence_not_after, evidence):
    """SH_core (§5): the ServerHello up to and excluding server_confirm."""
    assert len(session_id) == 16 and len(server_eph_pk) == 32
    assert len(tls_spki_sha256) == 32 and len(static_pk) == 32
    assert len(evidence) <= MAX_EVIDENCE
    return (u8(MSG_SERVER_HELLO) + u8(version) + u16(suite)
            + session_id + server_eph_pk + tls_spki_sha256 + static_pk
            + u16(evidence_type) + u8(evidence_mode) + u64(evidence_not_after)
            + u32(len(evidence)) + evidence)


def decode_server_hello(b):
    """§5 decoding checks, each made as soon as its field has been read.

    version and suite are not decoding checks: the client checks them in
    §7.3 (checks 2 and 3).
    """
    r = Reader(b)
    if r.int(1) != MSG_SERVER_HELLO:
        raise ProtocolError("MS_ERR_HS_MSG_TYPE")
    sh = {"version": r.int(1), "suite": r.int(2), "session_id": r.take(16),
          "server_eph_pk": r.take(32), "tls_spki_sha256": r.take(32),
          "static_pk": r.take(32), "evidence_type": r.int(2)}
    sh["evidence_mode"] = r.int(1)
    if sh["evidence_mode"] not in (MODE_FAST, MODE_STRICT, MODE_FAST_HELD):
        raise ProtocolError("MS_ERR_HS_MODE")
    sh["evidence_not_after"] = r.int(8)
    n = r.int(4)
    if n > MAX_EVIDENCE:
        raise ProtocolError("MS_ERR_CAP_EXCEEDED")
    if sh["evidence_mode"] == MODE_FAST_HELD and n != HELD_LEN:
        raise ProtocolError("MS_ERR_HS_HELD_LEN")
    sh["evidence"] = r.take(n)
    sh["sh_core"] = b[:r.i]
    sh["server_confirm"] = r.take(SH_CONFIRM_LEN)
    r.end()
    assert len(b) == SH_MIN + n
    return sh


# ---------------------------------------------------------------------------
# §6 Evidence binding
# ---------------------------------------------------------------------------

def evidence_binding(evidence_type, evidence_mode, static_pk,
                     evidence_not_after, challenge, client_eph_pk,
                     server_eph_pk):
    """B (§6), 64 bytes. STRICT also covers the challenge and both eph keys."""
    x = (L_BINDING + u16(evidence_type) + u8(evidence_mode) + static_pk
         + u64(evidence_not_after))
    if evidence_mode == MODE_STRICT:
        x += challenge + client_eph_pk + server_eph_pk
    else:
        assert evidence_mode == MODE_FAST
    return H64(x)


# ---------------------------------------------------------------------------
# §7 Handshake cryptography
# ---------------------------------------------------------------------------

def transcript_hash(ch, sh_core):
    """TH (§7.1)."""
    return H32(L_TRANSCRIPT + u32(len(ch)) + ch + u32(len(sh_core)) + sh_core)


def key_schedule(ee, es, th):
    """§7.2: PRK = MAC(TH, L_EXTRACT || ee || es) and the four keys from it."""
    assert len(ee) == 32 and len(es) == 32
    prk = MAC(th, L_EXTRACT + ee + es)
    return {"prk": prk,
            "k_c2s": MAC(prk, L_C2S_KEY),
            "k_s2c": MAC(prk, L_S2C_KEY),
            "k_sfin": MAC(prk, L_SERVER_FIN),
            "k_cfin": MAC(prk, L_CLIENT_FIN)}


def server_dh(server_eph_sk, static_sk, client_eph_pk):
    """§7.2 supervisor side: ee first (checked first), then es."""
    ee = X25519(server_eph_sk, client_eph_pk)
    es = X25519(static_sk, client_eph_pk)
    return ee, es


def client_dh(client_eph_sk, server_eph_pk, static_pk):
    """§7.2 client side: ee first (checked first), then es."""
    ee = X25519(client_eph_sk, server_eph_pk)
    es = X25519(client_eph_sk, static_pk)
    return ee, es


def server_confirm(k_sfin, th):
    """§7.2: MAC(K_sfin, TH)."""
    return MAC(k_sfin, th)


def client_confirm(k_cfin, th, server_confirm_):
    """§7.2: MAC(K_cfin, TH || server_confirm)."""
    return MAC(k_cfin, th + server_confirm_)


def client_signature(client_id_seed, th):
    """§7.2: Ed25519.Sign(client_id_sk, L_CLIENT_SIG || TH)."""
    return ed25519_sign(client_id_seed, L_CLIENT_SIG + th)


def client_finish(session_id, client_confirm_, client_signature_):
    """§7.4 ClientFinish. client_signature_ is b"" or 64 bytes."""
    assert len(client_signature_) in (0, 64)
    return (u8(MSG_CLIENT_FINISH) + session_id + client_confirm_
            + u8(len(client_signature_)) + client_signature_)


# --- client -----------------------------------------------------------------

def client_start(versions, suites, client_eph_sk, challenge, evidence_types,
                 flags, client_id_seed):
    """The client's state after sending its ClientHello (§4)."""
    client_eph_pk = x25519_public(client_eph_sk)
    client_id_pk = ed25519_public(client_id_seed) if client_id_seed else b""
    ch = client_hello(versions, suites, client_eph_pk, challenge,
                      evidence_types, flags, client_id_pk)
    return {"versions": list(versions), "suites": list(suites),
            "evidence_types": list(evidence_types), "flags": flags,
            "client_eph_sk": client_eph_sk, "client_eph_pk": client_eph_pk,
            "challenge": challenge, "client_id_seed": client_id_seed,
            "client_hello": ch}


def client_process_server_hello(cs, sh_bytes, now, verifier, held=None):
    """§7.3 client checks 1-9, in order; returns the session's values.

    verifier(evidence_type, evidence_mode, evidence, static_pk,
    evidence_not_after, B, tls_spki_sha256) raises ProtocolError to refuse.
    held: the FAST evidence bytes the client holds and named in its
    Minions-Evidence-Held header (§6, §12.1), or None.
    """
    sh = decode_server_hello(sh_bytes)                                # 1
    if sh["version"] != VERSION_1 or sh["version"] not in cs["versions"]:
        raise ProtocolError("MS_ERR_HS_VERSION")                      # 2
    if sh["suite"] != SUITE_1 or sh["suite"] not in cs["suites"]:
        raise ProtocolError("MS_ERR_HS_SUITE")                        # 3
    if sh["evidence_type"] not in cs["evidence_types"]:
        raise ProtocolError("MS_ERR_HS_EVIDENCE_TYPE")                # 4
    if cs["flags"] & FLAG_STRICT and sh["evidence_mode"] != MODE_STRICT:
        raise ProtocolError("MS_ERR_HS_MODE")                         # 5
    mode, evidence = sh["evidence_mode"], sh["evidence"]
    if mode == MODE_FAST_HELD:                                        # 5a
        if held is None or hashlib.sha256(held).digest() != evidence:
            raise ProtocolError("MS_ERR_HS_HELD_EVIDENCE")
        mode, evidence = MODE_FAST, held
    if not now <= sh["evidence_not_after"]:
        raise ProtocolError("MS_ERR_ATTEST_EXPIRED")                  # 6
    th = transcript_hash(cs["client_hello"], sh["sh_core"])
    ee, es = client_dh(cs["client_eph_sk"], sh["server_eph_pk"],
                       sh["static_pk"])                               # 7
    ks = key_schedule(ee, es, th)
    if not ct_equal(sh["server_confirm"], server_confirm(ks["k_sfin"], th)):
        raise ProtocolError("MS_ERR_HS_SERVER_CONFIRM")               # 8
    binding = evidence_binding(sh["evidence_type"], mode,
                               sh["static_pk"], sh["evidence_not_after"],
                               cs["challenge"], cs["client_eph_pk"],
                               sh["server_eph_pk"])
    verifier(sh["evidence_type"], mode, evidence,
             sh["static_pk"], sh["evidence_not_after"], binding,
             sh["tls_spki_sha256"])                                   # 9
    cconf = client_confirm(ks["k_cfin"], th, sh["server_confirm"])
    csig = (client_signature(cs["client_id_seed"], th)
            if cs["client_id_seed"] else b"")
    out = {"sh": sh, "transcript_hash": th, "binding": binding, "ee": ee,
           "es": es, "client_confirm": cconf,
           "client_finish": client_finish(sh["session_id"], cconf, csig)}
    out.update(ks)
    return out


# --- supervisor ---------------------------------------------------------------

def server_respond(ch_bytes, caps, server_eph_sk, static_sk, session_id,
                   tls_spki_sha256, evidence_not_after, make_evidence,
                   held_hint=None):
    """§4 decoding and negotiation, then §5 / §6 / §7.2 on the supervisor.

    make_evidence(evidence_type, evidence_mode, B) returns the evidence bytes.
    held_hint: the client's Minions-Evidence-Held digest (§12.1), or None.
    Returns the pending session's state, including the ServerHello.
    """
    ch = decode_client_hello(ch_bytes)
    evidence_type, evidence_mode = negotiate(ch, caps)
    server_eph_pk = x25519_public(server_eph_sk)
    static_pk = x25519_public(static_sk)
    binding = evidence_binding(evidence_type, evidence_mode, static_pk,
                               evidence_not_after, ch["challenge"],
                               ch["client_eph_pk"], server_eph_pk)
    evidence = make_evidence(evidence_type, evidence_mode, binding)
    wire_mode, wire = evidence_mode, evidence
    if (evidence_mode == MODE_FAST and held_hint is not None
            and hashlib.sha256(evidence).digest() == held_hint):     # §6
        wire_mode, wire = MODE_FAST_HELD, held_hint
    sh_core = server_hello_core(VERSION_1, SUITE_1, session_id, server_eph_pk,
                                tls_spki_sha256, static_pk, evidence_type,
                                wire_mode, evidence_not_after, wire)
    th = transcript_hash(ch_bytes, sh_core)
    ee, es = server_dh(server_eph_sk, static_sk, ch["client_eph_pk"])
    ks = key_schedule(ee, es, th)
    sconf = server_confirm(ks["k_sfin"], th)
    sh = sh_core + sconf
    assert len(sh) == SH_MIN + len(wire)                              # §5
    out = {"ch": ch, "evidence_type": evidence_type,
           "evidence_mode": wire_mode, "evidence": evidence,
           "session_id": session_id, "server_hello": sh,
           "transcript_hash": th, "binding": binding, "ee": ee, "es": es,
           "server_confirm": sconf}
    out.update(ks)
    return out


def server_process_client_finish(ss, b):
    """§7.4 supervisor checks, in the order of the section's table."""
    r = Reader(b)
    if r.int(1) != MSG_CLIENT_FINISH:
        raise ProtocolError("MS_ERR_HS_MSG_TYPE")
    session_id, cconf = r.take(16), r.take(32)
    n = r.int(1)
    if n not in (0, 64):
        raise ProtocolError("MS_ERR_HS_CLIENT_ID")
    sig = r.take(n)
    r.end()
    if not ct_equal(session_id, ss["session_id"]):
        raise ProtocolError("MS_ERR_HS_SESSION_ID")
    client_id_pk = ss["ch"]["client_id_pk"]
    if (n == 64) != (len(client_id_pk) == 32):
        raise ProtocolError("MS_ERR_HS_CLIENT_ID")
    th = ss["transcript_hash"]
    if not ct_equal(cconf, client_confirm(ss["k_cfin"], th,
                                          ss["server_confirm"])):
        raise ProtocolError("MS_ERR_HS_CLIENT_CONFIRM")
    if n and not ed25519_verify(client_id_pk, L_CLIENT_SIG + th, sig):
        raise ProtocolError("MS_ERR_HS_CLIENT_SIGNATURE")
    return {"k_c2s": ss["k_c2s"], "k_s2c": ss["k_s2c"],
            "client_id_pk": client_id_pk, "client_signature": sig}


def fixed_evidence(evidence):
    """A make_evidence() giving fixed opaque bytes (the vectors' evidence is
    filler, not a real dev-key signature, quote or report)."""
    return lambda evidence_type, evidence_mode, binding: evidence


def expecting_verifier(binding, evidence):
    """A §7.3 check-9 verifier for the self-test: accepts exactly the binding
    and evidence the supervisor produced (a stand-in for a real verifier)."""
    def verify(evidence_type, evidence_mode, evidence_, static_pk,
               evidence_not_after, b, tls_spki_sha256):
        if b != binding or evidence_ != evidence:
            raise ProtocolError("MS_ERR_ATTEST_* (self-test verifier)")
    return verify


NOW = 1767225600                       # 2026-01-01T00:00:00Z, for §7.3 check 6


def handshake(v):
    """Run §4-§7 for one vector's inputs, both sides; returns the outputs."""
    cs = client_start(v["ch_versions"], v["ch_suites"], v["client_eph_sk"],
                      v["challenge"], v["ch_evidence_types"], v["ch_flags"],
                      v["client_id_seed"])
    held = v["evidence"] if v.get("held") else None
    ss = server_respond(cs["client_hello"], v["caps"], v["server_eph_sk"],
                        v["server_static_sk"], v["session_id"],
                        v["tls_spki_sha256"], v["evidence_not_after"],
                        fixed_evidence(v["evidence"]),
                        hashlib.sha256(held).digest() if held else None)
    co = client_process_server_hello(
        cs, ss["server_hello"], NOW,
        expecting_verifier(ss["binding"], v["evidence"]), held)
    fin = server_process_client_finish(ss, co["client_finish"])
    for k in ("transcript_hash", "binding", "ee", "es", "prk", "k_c2s",
              "k_s2c", "k_sfin", "k_cfin"):
        assert co[k] == ss[k], k
    assert (fin["k_c2s"], fin["k_s2c"]) == (co["k_c2s"], co["k_s2c"])

    out = {k: ss[k] for k in (
        "evidence_type", "evidence_mode", "server_hello", "transcript_hash",
        "binding", "ee", "es", "prk", "k_c2s", "k_s2c", "k_sfin", "k_cfin",
        "server_confirm")}
    out.update({"client_hello": cs["client_hello"],
                "client_confirm": co["client_confirm"],
                "client_finish": co["client_finish"]})
    return out


# ---------------------------------------------------------------------------
# §8 Records
# ---------------------------------------------------------------------------

def record_header(rtype, direction, session_id, seq, msg_id, chunk, pt_len):
    """The 40-byte record header (§8.1); flags are always 0."""
    assert len(session_id) == 16
    return (u8(VERSION_1) + u8(rtype) + u8(direction) + u8(0) + session_id
            + u64(seq) + u32(msg_id) + u32(chunk) + u32(pt_len + TAG_LEN))


def fields_fit_type(rtype, msg_id, chunk):
    """§8.5: msg_id and chunk allowed for each record type."""
    if rtype == REC_MSG:
        return chunk == 0
    if rtype in (REC_STREAM_DATA, REC_STREAM_FINAL):
        return msg_id != 0
    if rtype == REC_CLOSE:
        return msg_id == 0 and chunk == 0
    return False


def epoch(seq):
    """§8.2: epoch = seq >> EPOCH_SHIFT."""
    return seq >> EPOCH_SHIFT


def ratchet(k):
    """§8.2 / §9: K_dir,e = MAC(K_dir,e-1, L_RATCHET)."""
    return MAC(k, L_RATCHET)


def epoch_key(k0, e):
    """§9: K_dir,e from K_dir,0 by e ratchet steps."""
    k = k0
    for _ in range(e):
        k = ratchet(k)
    return k


def record_nonce(seq):
    """§8.2: nonce = 0x00000000 || u64 seq."""
    return bytes(4) + u64(seq)


def direction_key0(direction, k_c2s, k_s2c):
    """§8.2: K_dir,0 is K_c2s or K_s2c for the direction."""
    return {DIR_C2S: k_c2s, DIR_S2C: k_s2c}[direction]


def seal_record(k_c2s, k_s2c, session_id, direction, seq, rtype, msg_id,
                chunk, plaintext):
    """§8.2: record = header || AEAD(K_dir,epoch, nonce, header, plaintext)."""
    assert fields_fit_type(rtype, msg_id, chunk)
    assert len(plaintext) <= MAX_RECORD_PLAINTEXT and 0 <= seq
    if seq >= SEQ_LIMIT:
        raise ProtocolError("MS_ERR_SEQ_EXHAUSTED")
    k = epoch_key(direction_key0(direction, k_c2s, k_s2c), epoch(seq))
    hdr = record_header(rtype, direction, session_id, seq, msg_id, chunk,
                        len(plaintext))
    return hdr + AEAD(k, record_nonce(seq), hdr, plaintext)


class Receiver:
    """One direction's receiving side: §8.3 checks 1-15, §8.4 window, §9."""

    def __init__(self, k_c2s, k_s2c, session_id, direction):
        self.session_id = session_id
        self.direction = direction
        self.key = direction_key0(direction, k_c2s, k_s2c)
        self.epoch = 0
        self.top = 0          # one more than the highest seq accepted
        self.bitmap = 0       # bit i set: seq top-1-i received (i < WINDOW)
        self.closed = False

    def open(self, rec):
        """Opens the record at the start of rec; a failure changes nothing."""
        if len(rec) < HEADER_LEN:                                      # 1
            raise ProtocolError("MS_ERR_TRUNCATED")
        r = Reader(rec[:HEADER_LEN])
        version, rtype, direction, flags = (r.int(1), r.int(1), r.int(1),
                                            r.int(1))
        sid, seq, msg_id, chunk, ct_len = (r.take(16), r.int(8), r.int(4),
                                           r.int(4), r.int(4))
        if version != VERSION_1:                                       # 2
            raise ProtocolError("MS_ERR_REC_VERSION")
        if not REC_MSG <= rtype <= REC_CLOSE:                          # 3
            raise ProtocolError("MS_ERR_REC_TYPE")
        if direction != self.direction:                                # 4
            raise ProtocolError("MS_ERR_REC_DIRECTION")
        if flags != 0:                                                 # 5
            raise ProtocolError("MS_ERR_REC_FLAGS")
        if not TAG_LEN <= ct_len <= MAX_RECORD_PLAINTEXT + TAG_LEN:    # 6
            raise ProtocolError("MS_ERR_REC_LENGTH")
        if not fields_fit_type(rtype, msg_id, chunk) or seq >= SEQ_LIMIT:
            raise ProtocolError("MS_ERR_REC_FIELDS")                   # 7
        if ct_len > len(rec) - HEADER_LEN:                             # 8
            raise ProtocolError("MS_ERR_TRUNCATED")
        if not ct_equal(sid, self.session_id):                         # 9
            raise ProtocolError("MS_ERR_REC_SESSION")
        if self.closed:                                                # 10
            raise ProtocolError("MS_ERR_CHANNEL_CLOSED")
        if seq < self.top and self.top - seq > WINDOW:                 # 11
            raise ProtocolError("MS_ERR_REC_TOO_OLD")
        if seq < self.top and (self.bitmap >> (self.top - 1 - seq)) & 1:
            raise ProtocolError("MS_ERR_REC_REPLAY")                   # 12
        e = epoch(seq)
        if e < self.epoch:                                             # 13
            raise ProtocolError("MS_ERR_REC_TOO_OLD")
        if e > self.epoch + MAX_EPOCH_AHEAD:                           # 14
            raise ProtocolError("MS_ERR_REC_TOO_NEW")
        k = self.key
        for _ in range(e - self.epoch):         # §9: on a copy
            k = ratchet(k)
        pt = AEAD_open(k, record_nonce(seq), rec[:HEADER_LEN],
                       rec[HEADER_LEN:HEADER_LEN + ct_len])
        if pt is None:                                                 # 15
            raise ProtocolError("MS_ERR_REC_AUTH")
        # Only now does the receiver's state change.
        if seq >= self.top:
            self.bitmap = ((self.bitmap << (seq + 1 - self.top)) | 1) \
                & ((1 << WINDOW) - 1)
            self.top = seq + 1
        else:
            self.bitmap |= 1 << (self.top - 1 - seq)
        if e > self.epoch:
            self.key, self.epoch = k, e
        if rtype == REC_CLOSE:
            self.closed = True
        return {"type": rtype, "direction": direction, "seq": seq,
                "msg_id": msg_id, "chunk": chunk, "plaintext": pt,
                "rest": rec[HEADER_LEN + ct_len:]}


def open_record(k_c2s, k_s2c, session_id, recv_direction, rec):
    """§8.3 for a fresh receiver (epoch 0, empty window, not closed)."""
    return Receiver(k_c2s, k_s2c, session_id, recv_direction).open(rec)


# ---------------------------------------------------------------------------
# Vector definitions
# ---------------------------------------------------------------------------

NOT_AFTER_2100 = 4102444800            # 2100-01-01T00:00:00Z
NOT_AFTER_BIG = 0x0000000123456789      # > 2^32: exercises the top bytes of u64

FAST_ONLY = frozenset([MODE_FAST])
BOTH_MODES = frozenset([MODE_FAST, MODE_STRICT])


def handshake_inputs(name, versions, suites, evidence_types, flags,
                     with_client_id, caps, evidence_len, tls_bound, not_after,
                     held=False):
    return {
        "held": held,
        "name": name,
        "ch_versions": versions,
        "ch_suites": suites,
        "ch_evidence_types": evidence_types,
        "ch_flags": flags,
        "client_eph_sk": det(name, "client_eph_sk", 32),
        "challenge": det(name, "challenge", 32),
        "client_id_seed": det(name, "client_id_seed", 32) if with_client_id else b"",
        "server_eph_sk": det(name, "server_eph_sk", 32),
        "session_id": det(name, "session_id", 16),
        "tls_spki_sha256": det(name, "tls_spki_sha256", 32) if tls_bound else bytes(32),
        "server_static_sk": det(name, "server_static_sk", 32),
        "evidence_not_after": not_after,
        "evidence": det(name, "evidence", evidence_len),
        "caps": caps,
    }


HANDSHAKE_CASES = [
    # (a) the smallest handshake: one of everything, FAST, no client id,
    #     empty dev-key evidence, no TLS key bound.
    handshake_inputs("minimal fast dev-key",
                     [VERSION_1], [SUITE_1], [EV_DEV_KEY], 0, False,
                     caps={EV_DEV_KEY: FAST_ONLY},
                     evidence_len=0, tls_bound=False, not_after=NOT_AFTER_2100),
    # (b) client identity, STRICT requested and given, 100 bytes of tpm2-quote.
    handshake_inputs("client id strict tpm2-quote",
                     [VERSION_1], [SUITE_1], [EV_TPM2_QUOTE], FLAG_STRICT, True,
                     caps={EV_DEV_KEY: FAST_ONLY, EV_TPM2_QUOTE: BOTH_MODES},
                     evidence_len=100, tls_bound=False, not_after=NOT_AFTER_2100),
    # (c) several offers including unknown ones; the supervisor cannot make
    #     sev-snp, so it takes tpm2-quote, the first it can make in the
    #     client's order, FAST.
    handshake_inputs("multiple offers with unknown values",
                     [7, VERSION_1], [0x00aa, SUITE_1],
                     [EV_SEV_SNP, EV_TPM2_QUOTE, EV_DEV_KEY], 0, False,
                     caps={EV_DEV_KEY: FAST_ONLY, EV_TPM2_QUOTE: FAST_ONLY},
                     evidence_len=32, tls_bound=False, not_after=NOT_AFTER_2100),
    # (d) 1000 bytes of sev-snp evidence, a TLS key bound, not_after > 2^32;
    #     STRICT possible but not asked, so FAST.
    handshake_inputs("large evidence with tls key",
                     [VERSION_1], [SUITE_1], [EV_SEV_SNP], 0, False,
                     caps={EV_SEV_SNP: BOTH_MODES},
                     evidence_len=1000, tls_bound=True, not_after=NOT_AFTER_BIG),
    # (e) the largest ClientHello (142 bytes, §4): full lists, client id,
    #     STRICT sev-snp (dev-key, later in the client's order, is FAST only),
    #     TLS key bound.
    handshake_inputs("full lists strict sev-snp with client id",
                     [9, 8, 7, 6, 5, 4, 3, VERSION_1],
                     [0x0102, 0x0a0b, 0x7fff, 0x8000, 0x00aa, 0x0002, 0xfffe, SUITE_1],
                     [0x0010, 0x0004, EV_SEV_SNP, EV_TPM2_QUOTE, EV_DEV_KEY,
                      0x0100, 0x8001, 0xfffe],
                     FLAG_STRICT, True,
                     caps={EV_DEV_KEY: FAST_ONLY, EV_SEV_SNP: BOTH_MODES},
                     evidence_len=64, tls_bound=True, not_after=NOT_AFTER_2100),
    # (f) §6 held evidence: the client holds the supervisor's 1000-byte FAST
    #     evidence and names its SHA-256; the ServerHello carries that digest
    #     (mode FAST_HELD, 32 bytes) instead of the bytes; TLS key bound.
    handshake_inputs("fast held evidence by digest",
                     [VERSION_1], [SUITE_1], [EV_SEV_SNP], 0, False,
                     caps={EV_SEV_SNP: BOTH_MODES},
                     evidence_len=1000, tls_bound=True, not_after=NOT_AFTER_2100,
                     held=True),
]

HANDSHAKE_KEYS = [
    "name", "ch_versions", "ch_suites", "ch_evidence_types", "ch_flags",
    "client_eph_sk", "challenge", "client_id_seed", "server_eph_sk",
    "session_id", "tls_spki_sha256", "server_static_sk", "evidence_type",
    "evidence_mode", "evidence_not_after", "evidence",
    "client_hello", "server_hello", "transcript_hash", "binding", "ee", "es",
    "prk", "k_c2s", "k_s2c", "k_sfin", "k_cfin",
    "server_confirm", "client_confirm", "client_finish",
]
HANDSHAKE_INT_KEYS = {"ch_flags", "evidence_type", "evidence_mode",
                      "evidence_not_after"}

HANDSHAKE_HEADER = """\
# minions-secure channel v1: handshake known-answer vectors
# (docs/protocol.md sections 4-7).
# Generated by tests/secure/gen_vectors.py (an independent Python implementation of
# the spec); do not edit by hand.
#
# Format: blocks separated by a line '---'; each line 'key: value'; values are lowercase
# hex, except name (free text) and the decimal integers ch_flags, evidence_type,
# evidence_mode and evidence_not_after. An empty hex value is written 'key:'.
#
# Inputs:
#   name               description
#   ch_versions        the ClientHello versions, one byte each (u8 list)
#   ch_suites          the ClientHello suites, u16 big-endian each, concatenated
#   ch_evidence_types  the ClientHello evidence types, u16 big-endian each, concatenated
#   ch_flags           the ClientHello flags byte (1 = STRICT)
#   client_eph_sk      client X25519 ephemeral secret (32, as given to X25519; not pre-clamped)
#   challenge          ClientHello challenge (32)
#   client_id_seed     client Ed25519 identity seed (32), or empty for no client id
#   server_eph_sk      supervisor X25519 ephemeral secret (32, not pre-clamped)
#   session_id         ServerHello session id (16)
#   tls_spki_sha256    ServerHello tls_spki_sha256 (32; all zero = no TLS key bound)
#   server_static_sk   supervisor X25519 static secret (32, not pre-clamped); its public
#                      key is the ServerHello's static_pk
#   evidence_type      the evidence type the supervisor chose
#   evidence_mode      0 FAST, 1 STRICT, 2 FAST_HELD: the client holds `evidence` and
#                      names its SHA-256 (Minions-Evidence-Held), and the ServerHello
#                      carries that digest instead of the bytes (section 6)
#   evidence_not_after Unix time
#   evidence           the evidence bytes (may be empty); opaque filler, not a real
#                      dev-key signature, TPM quote or SEV-SNP report
# Expected outputs:
#   client_hello       the full ClientHello (section 4)
#   server_hello       the full ServerHello, SH_core || server_confirm (section 5)
#   transcript_hash    TH (section 7.1)
#   binding            B (section 6), for evidence_mode (FAST's for FAST_HELD)
#   ee                 X25519(client_eph_sk, server_eph_pk) = X25519(server_eph_sk, client_eph_pk)
#   es                 X25519(client_eph_sk, static_pk) = X25519(server_static_sk, client_eph_pk)
#   prk, k_c2s, k_s2c, k_sfin, k_cfin   key schedule (section 7.2), PRK = MAC(TH, L_EXTRACT || ee || es)
#   server_confirm     MAC(K_sfin, TH)
#   client_confirm     MAC(K_cfin, TH || server_confirm)
#   client_finish      the full ClientFinish (section 7.4), with the client signature
#                      Ed25519(client_id_seed, L_CLIENT_SIG || TH) when client_id_seed
#                      is not empty
# Public keys (client_eph_pk, client_id_pk, server_eph_pk, static_pk) are not listed
# separately: they appear inside client_hello and server_hello.
"""


# The records use two sessions: "hs" takes its keys and session id from the
# first handshake vector (so the files chain together); "seeded" uses
# independent keys.
def record_cases(hs_session):
    seeded = {"k_c2s": det("records seeded session", "k_c2s", 32),
              "k_s2c": det("records seeded session", "k_s2c", 32),
              "session_id": det("records seeded session", "session_id", 16)}
    e8 = (8 << EPOCH_SHIFT) + 0x1234
    big = det("records 1500-byte stream chunk", "plaintext", 1500)
    C, S = DIR_C2S, DIR_S2C
    # (name, session, direction, seq, type, msg_id, chunk, plaintext)
    return [
        ("c2s msg seq 0 msg_id 0", hs_session, C, 0, REC_MSG, 0, 0,
         b"hello, supervisor"),
        ("s2c msg seq 0 msg_id 1", hs_session, S, 0, REC_MSG, 1, 0,
         b'{"ok":true}'),
        ("c2s msg seq 1 msg_id 1", hs_session, C, 1, REC_MSG, 1, 0,
         b"request one"),
        ("c2s msg empty plaintext", hs_session, C, 2, REC_MSG, 2, 0, b""),
        ("s2c stream data chunk 0 1500 bytes", hs_session, S, 1,
         REC_STREAM_DATA, 1, 0, big),
        ("s2c stream data chunk 1", hs_session, S, 2, REC_STREAM_DATA, 1, 1,
         b"second chunk"),
        ("s2c stream final chunk 2 empty", hs_session, S, 3, REC_STREAM_FINAL,
         1, 2, b""),
        ("c2s close empty", hs_session, C, 3, REC_CLOSE, 0, 0, b""),
        ("s2c close with reason", hs_session, S, 4, REC_CLOSE, 0, 0,
         "shutting down \u2013 bye".encode("utf-8")),
        ("c2s msg seq 65535 last of epoch 0", seeded, C, 65535, REC_MSG,
         0x01020304, 0, b"last record of epoch 0"),
        ("c2s msg seq 65536 first of epoch 1", seeded, C, 65536, REC_MSG,
         0x01020305, 0, b"first record of epoch 1"),
        ("s2c msg seq 65535 last of epoch 0", seeded, S, 65535, REC_MSG,
         0x01020304, 0, b"reply at the end of epoch 0"),
        ("s2c stream data seq 131077 epoch 2", seeded, S, 131072 + 5,
         REC_STREAM_DATA, 0xdeadbeef, 0x00010203, b"epoch two chunk"),
        ("c2s stream final seq in epoch 8", seeded, C, e8, REC_STREAM_FINAL,
         0xffffffff, 0xfffffffe, b"epoch eight final"),
        ("s2c msg seq in epoch 8 msg_id max", seeded, S, e8 + 1, REC_MSG,
         0xffffffff, 0, b"epoch eight reply"),
    ]


RECORD_KEYS = ["name", "k_c2s", "k_s2c", "session_id", "direction", "seq",
               "type", "msg_id", "chunk", "plaintext", "record"]
RECORD_INT_KEYS = {"direction", "seq", "type", "msg_id", "chunk"}

RECORDS_HEADER = """\
# minions-secure channel v1: record known-answer vectors
# (docs/protocol.md sections 8 and 9).
# Generated by tests/secure/gen_vectors.py (an independent Python implementation of
# the spec); do not edit by hand.
#
# Format: blocks separated by a line '---'; each line 'key: value'; values are lowercase
# hex, except the decimal integers direction, seq, type, msg_id and chunk. An empty hex
# value is written 'key:'.
#
#   name        description
#   k_c2s       epoch-0 client -> supervisor key (32)
#   k_s2c       epoch-0 supervisor -> client key (32)
#   session_id  (16)
#   direction   1 client -> supervisor (key k_c2s), 2 supervisor -> client (key k_s2c)
#   seq         sequence number; the key is the direction's epoch-0 key ratcheted
#               seq >> 16 times (sections 8.2 and 9)
#   type        1 MSG, 2 STREAM_DATA, 3 STREAM_FINAL, 4 CLOSE
#   msg_id      header msg_id
#   chunk       header chunk
#   plaintext   (may be empty)
#   record      expected record: 40-byte header || ciphertext || 16-byte tag, with
#               nonce 00000000 || u64 seq and the header as associated data
# Blocks whose k_c2s/k_s2c/session_id equal the first handshake vector's use that
# session's keys; the others use an independent session.
"""

RATCHET_KEYS = ["name", "k0", "k1", "k2", "k3", "k8"]

RATCHET_HEADER = """\
# minions-secure channel v1: key ratchet known-answer vectors
# (docs/protocol.md sections 8.2 and 9).
# Generated by tests/secure/gen_vectors.py (an independent Python implementation of
# the spec); do not edit by hand.
#
# Format: blocks separated by a line '---'; each line 'key: value'; values are lowercase
# hex.
#
#   name   description
#   k0     epoch-0 key of one direction (32)
#   kN     epoch-N key: K_N = MAC(K_(N-1), "minions-secure/1 ratchet"), i.e.
#          BLAKE2b-256 keyed with K_(N-1) over the label (N = 1, 2, 3, 8)
"""


# ---------------------------------------------------------------------------
# Vector files
# ---------------------------------------------------------------------------

def format_value(key, value, int_keys):
    if key == "name":
        assert ":" not in value and "\n" not in value
        return value
    if key in int_keys:
        assert isinstance(value, int) and value >= 0
        return str(value)
    assert isinstance(value, (bytes, bytearray)), key
    return value.hex()


def format_file(header, keys, int_keys, blocks):
    """Header comment, then blocks of 'key: value' separated by '---'."""
    out = [header.rstrip("\n")]
    for i, blk in enumerate(blocks):
        assert list(blk) == keys, (list(blk), keys)
        if i:
            out.append("---")
        for k in keys:
            v = format_value(k, blk[k], int_keys)
            out.append("%s: %s" % (k, v) if v else "%s:" % k)
    return "\n".join(out) + "\n"


def handshake_blocks():
    blocks = []
    for v in HANDSHAKE_CASES:
        o = handshake(v)
        blk = {
            "name": v["name"],
            "ch_versions": bytes(v["ch_versions"]),
            "ch_suites": b"".join(u16(s) for s in v["ch_suites"]),
            "ch_evidence_types": b"".join(u16(t) for t in v["ch_evidence_types"]),
            "ch_flags": v["ch_flags"],
        }
        for k in ("client_eph_sk", "challenge", "client_id_seed",
                  "server_eph_sk", "session_id", "tls_spki_sha256",
                  "server_static_sk"):
            blk[k] = v[k]
        blk["evidence_type"] = o["evidence_type"]
        blk["evidence_mode"] = o["evidence_mode"]
        blk["evidence_not_after"] = v["evidence_not_after"]
        blk["evidence"] = v["evidence"]
        for k in HANDSHAKE_KEYS[HANDSHAKE_KEYS.index("client_hello"):]:
            blk[k] = o[k]
        blocks.append(blk)
    return blocks


def record_blocks(hs_first):
    hs_session = {"k_c2s": hs_first["k_c2s"], "k_s2c": hs_first["k_s2c"],
                  "session_id": hs_first["session_id"]}
    blocks = []
    for (name, s, d, seq, t, mid, chunk, pt) in record_cases(hs_session):
        rec = seal_record(s["k_c2s"], s["k_s2c"], s["session_id"], d, seq, t,
                          mid, chunk, pt)
        blocks.append({"name": name, "k_c2s": s["k_c2s"], "k_s2c": s["k_s2c"],
                       "session_id": s["session_id"], "direction": d,
                       "seq": seq, "type": t, "msg_id": mid, "chunk": chunk,
                       "plaintext": pt, "record": rec})
    return blocks


def ratchet_blocks(hs_first):
    starts = [
        ("handshake minimal k_c2s", hs_first["k_c2s"]),
        ("handshake minimal k_s2c", hs_first["k_s2c"]),
        ("seeded key", det("ratchet seeded key", "k0", 32)),
        ("all-zero key", bytes(32)),
    ]
    return [{"name": name, "k0": k0, "k1": epoch_key(k0, 1),
             "k2": epoch_key(k0, 2), "k3": epoch_key(k0, 3),
             "k8": epoch_key(k0, 8)} for name, k0 in starts]


def generate():
    """All vector files, as {file name: text}."""
    hs = handshake_blocks()
    return {
        "handshake.txt": format_file(HANDSHAKE_HEADER, HANDSHAKE_KEYS,
                                     HANDSHAKE_INT_KEYS, hs),
        "records.txt": format_file(RECORDS_HEADER, RECORD_KEYS,
                                   RECORD_INT_KEYS, record_blocks(hs[0])),
        "ratchet.txt": format_file(RATCHET_HEADER, RATCHET_KEYS, set(),
                                   ratchet_blocks(hs[0])),
    }


# ---------------------------------------------------------------------------
# Self-test: parse the generated text back (strictly, as README.md describes
# the format) and check it with the receiving side of each step.
# ---------------------------------------------------------------------------

def parse_file(text, int_keys):
    """Strict parser for the vector format; returns a list of dicts."""
    assert text.endswith("\n") and "\r" not in text
    text.encode("ascii")
    blocks, cur = [], {}
    for line in text[:-1].split("\n"):
        if line.startswith("#"):
            assert not blocks and not cur, "comments only in the header"
            continue
        if line == "---":
            assert cur, "empty block"
            blocks.append(cur)
            cur = {}
            continue
        key, sep, rest = line.partition(":")
        assert sep and key and " " not in key, "bad line %r" % line
        assert rest == "" or (rest.startswith(" ") and len(rest) > 1
                              and not rest.endswith(" ")), "bad value %r" % line
        value = rest[1:]
        assert key not in cur, "duplicate key %s" % key
        if key == "name":
            assert value, "empty name"
            cur[key] = value
        elif key in int_keys:
            assert value.isdigit() and str(int(value)) == value
            cur[key] = int(value)
        else:
            assert value == value.lower() and len(value) % 2 == 0
            cur[key] = bytes.fromhex(value)
    assert cur
    blocks.append(cur)
    for b in blocks:
        assert "name" in b
    return blocks


def check_primitives():
    """Published answers for the primitives, to catch misuse of the libraries."""
    # RFC 7748 §6.1
    a = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    b = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    assert x25519_public(a).hex() == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    assert x25519_public(b).hex() == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
    assert X25519(a, x25519_public(b)).hex() == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
    assert X25519(b, x25519_public(a)) == X25519(a, x25519_public(b))
    # An all-zero X25519 result (a low-order public key) is refused.
    for low in (bytes(32), b"\x01" + bytes(31)):
        expect_error("MS_ERR_HS_WEAK_KEY", X25519, a, low)
    # RFC 8032 §7.1 TEST 1
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    assert ed25519_public(seed).hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert ed25519_sign(seed, b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    # RFC 8439 §2.8.2 (tag only)
    ct = AEAD(bytes(range(0x80, 0xa0)), bytes.fromhex("070000004041424344454647"),
              bytes.fromhex("50515253c0c1c2c3c4c5c6c7"),
              b"Ladies and Gentlemen of the class of '99: If I could offer you "
              b"only one tip for the future, sunscreen would be it.")
    assert ct[-16:].hex() == "1ae10b594f09e26a7e902ecbd0600691"
    # RFC 7693 Appendix A (BLAKE2b-512 of "abc")
    assert H64(b"abc").hex().startswith("ba80a53f981c4d0d6a2797b69f12f6e9")
    # §2.1: no label is a prefix of another
    for x in LABELS:
        for y in LABELS:
            assert x == y or not y.startswith(x), (x, y)


def expect_error(name, fn, *args):
    """fn(*args) must raise ProtocolError(name)."""
    try:
        fn(*args)
    except ProtocolError as e:
        assert str(e) == name, (str(e), name)
        return
    raise AssertionError("expected %s" % name)


def sh_with(sh_bytes, offset, new):
    """A copy of a ServerHello with bytes at offset replaced."""
    return sh_bytes[:offset] + new + sh_bytes[offset + len(new):]


def selftest_negotiation():
    """§4 negotiation: first type in the client's order producible in the
    mode asked for; HS_EVIDENCE_TYPE versus HS_MODE as the table says."""
    def ch(types, flags, versions=(VERSION_1,), suites=(SUITE_1,)):
        return {"versions": list(versions), "suites": list(suites),
                "evidence_types": list(types), "flags": flags}
    A, B, C = EV_DEV_KEY, EV_TPM2_QUOTE, EV_SEV_SNP
    S = frozenset([MODE_STRICT])
    caps = {A: FAST_ONLY, B: S, C: BOTH_MODES}
    assert negotiate(ch([A, C], 0), caps) == (A, MODE_FAST)
    assert negotiate(ch([C, A], 0), caps) == (C, MODE_FAST)
    assert negotiate(ch([B, A], 0), caps) == (B, MODE_STRICT)   # STRICT unasked
    assert negotiate(ch([A, B, C], FLAG_STRICT), caps) == (B, MODE_STRICT)
    assert negotiate(ch([A, C, B], FLAG_STRICT), caps) == (C, MODE_STRICT)
    expect_error("MS_ERR_HS_MODE", negotiate, ch([A, 0x0007], FLAG_STRICT), caps)
    expect_error("MS_ERR_HS_EVIDENCE_TYPE", negotiate,
                 ch([0x0007], FLAG_STRICT), caps)
    expect_error("MS_ERR_HS_EVIDENCE_TYPE", negotiate, ch([0x0007], 0), caps)
    # Reserved values match nothing, even if a capability table names them.
    expect_error("MS_ERR_HS_EVIDENCE_TYPE", negotiate,
                 ch([0x0000, 0xFFFF], 0), {0x0000: BOTH_MODES, 0xFFFF: BOTH_MODES})
    # Table order: version, then suite, then evidence type, then mode.
    expect_error("MS_ERR_HS_VERSION", negotiate,
                 ch([0x0007], FLAG_STRICT, versions=[2], suites=[2]), caps)
    expect_error("MS_ERR_HS_SUITE", negotiate,
                 ch([0x0007], FLAG_STRICT, suites=[2]), caps)


def selftest_client_hello(chb):
    """§4 decoding, first problem in reading order."""
    assert 75 <= len(chb) <= 142
    expect_error("MS_ERR_HS_MSG_TYPE", decode_client_hello, b"\x02")
    expect_error("MS_ERR_TRUNCATED", decode_client_hello, b"")
    expect_error("MS_ERR_TRUNCATED", decode_client_hello, chb[:-1])
    expect_error("MS_ERR_TRAILING", decode_client_hello, chb + b"\x00")
    expect_error("MS_ERR_HS_COUNT", decode_client_hello, b"\x01\x00")
    expect_error("MS_ERR_HS_COUNT", decode_client_hello, b"\x01\x09")
    # The flags byte is the one before client_id_len.
    cid = 32 if len(decode_client_hello(chb)["client_id_pk"]) else 0
    flags_at = len(chb) - cid - 2
    expect_error("MS_ERR_HS_FLAGS", decode_client_hello,
                 chb[:flags_at] + b"\x02")       # bad flags, then truncated
    expect_error("MS_ERR_HS_CLIENT_ID", decode_client_hello,
                 chb[:flags_at + 1] + b"\x10")   # bad length, then truncated


def selftest_handshake(b):
    """Rebuild both sides from the block's inputs; §7.3 and §7.4 checks,
    including the failures each check exists for."""
    name = b["name"]
    cs = client_start(list(b["ch_versions"]),
                      [int.from_bytes(b["ch_suites"][i:i + 2], "big")
                       for i in range(0, len(b["ch_suites"]), 2)],
                      b["client_eph_sk"], b["challenge"],
                      [int.from_bytes(b["ch_evidence_types"][i:i + 2], "big")
                       for i in range(0, len(b["ch_evidence_types"]), 2)],
                      b["ch_flags"], b["client_id_seed"])
    assert cs["client_hello"] == b["client_hello"]
    selftest_client_hello(b["client_hello"])

    # Supervisor side, with capabilities that allow exactly the block's choice
    # (FAST_HELD: FAST evidence, and the client's digest of it).
    is_held = b["evidence_mode"] == MODE_FAST_HELD
    held = b["evidence"] if is_held else None
    hint = hashlib.sha256(b["evidence"]).digest() if is_held else None
    ss = server_respond(b["client_hello"],
                        {b["evidence_type"]: frozenset(
                            [MODE_FAST if is_held else b["evidence_mode"]])},
                        b["server_eph_sk"], b["server_static_sk"],
                        b["session_id"], b["tls_spki_sha256"],
                        b["evidence_not_after"], fixed_evidence(b["evidence"]), hint)
    assert ss["server_hello"] == b["server_hello"]
    shb = b["server_hello"]
    assert len(shb) == SH_MIN + (HELD_LEN if is_held else len(b["evidence"]))
    if is_held:
        assert shb[SH_FIXED:SH_FIXED + HELD_LEN] == hint
    # Without the hint, the same supervisor sends the bytes (an old client).
    old = server_respond(b["client_hello"], {b["evidence_type"]: BOTH_MODES},
                         b["server_eph_sk"], b["server_static_sk"],
                         b["session_id"], b["tls_spki_sha256"],
                         b["evidence_not_after"], fixed_evidence(b["evidence"]))
    assert old["server_hello"][SH_FIXED:-SH_CONFIRM_LEN] == b["evidence"]
    static_pk = x25519_public(b["server_static_sk"])
    assert shb[SH_OFF_STATIC_PK:SH_OFF_STATIC_PK + 32] == static_pk

    # Client side: §7.3 checks 1-9 pass, and every value matches the block.
    verifier = expecting_verifier(b["binding"], b["evidence"])
    co = client_process_server_hello(cs, shb, NOW, verifier, held)
    for k in ("transcript_hash", "binding", "ee", "es", "prk", "k_c2s",
              "k_s2c", "k_sfin", "k_cfin", "client_confirm", "client_finish"):
        assert co[k] == b[k], (name, k)
        if k in ss:
            assert ss[k] == b[k], (name, k)
    assert co["sh"]["server_confirm"] == b["server_confirm"]
    assert server_confirm(b["k_sfin"], b["transcript_hash"]) == b["server_confirm"]
    assert len({b[k] for k in ("ee", "es", "prk", "k_c2s", "k_s2c", "k_sfin",
                               "k_cfin")}) == 7
    # Expiry boundary (check 6): now = not_after passes, one second later not.
    client_process_server_hello(cs, shb, b["evidence_not_after"], verifier, held)
    expect_error("MS_ERR_ATTEST_EXPIRED", client_process_server_hello, cs, shb,
                 b["evidence_not_after"] + 1, verifier, held)

    def client(sh_bytes, verifier_=verifier, held_=held):
        return client_process_server_hello(cs, sh_bytes, NOW, verifier_, held_)

    ch = decode_client_hello(b["client_hello"])
    core = shb[:-SH_CONFIRM_LEN]
    n = len(shb) - SH_MIN

    # Check 5a (§6): a FAST_HELD reference only to what this client holds.
    strict = ch["flags"] & FLAG_STRICT
    if is_held:
        expect_error("MS_ERR_HS_HELD_EVIDENCE", client, shb, verifier, None)
        expect_error("MS_ERR_HS_HELD_EVIDENCE", client, shb, verifier,
                     held[:-1] + bytes([held[-1] ^ 1]))
        expect_error("MS_ERR_HS_HELD_LEN", client, sh_with(shb, 127, u32(HELD_LEN + 1)))
    expect_error("MS_ERR_HS_HELD_LEN" if n != HELD_LEN else
                 "MS_ERR_HS_MODE" if strict else "MS_ERR_HS_HELD_EVIDENCE",
                 client, sh_with(shb, 118, u8(MODE_FAST_HELD)), verifier, None)

    # Decoding (§5), in reading order.
    expect_error("MS_ERR_HS_MSG_TYPE", client, b"\x01")
    expect_error("MS_ERR_TRUNCATED", client, shb[:118])       # mode not read
    expect_error("MS_ERR_HS_MODE", client, shb[:118] + b"\x03")
    expect_error("MS_ERR_HS_MODE", client,                    # mode before cap
                 sh_with(sh_with(shb, 118, b"\x03"), 127, u32(MAX_EVIDENCE + 1)))
    expect_error("MS_ERR_CAP_EXCEEDED", client,
                 sh_with(shb, 127, u32(MAX_EVIDENCE + 1)))
    expect_error("MS_ERR_TRUNCATED", client, shb[:-1])
    expect_error("MS_ERR_TRUNCATED", client, core)
    expect_error("MS_ERR_TRAILING", client, shb + b"\x00")
    expect_error("MS_ERR_TRAILING", client,                   # an old-layout SH
                 core + bytes(64) + shb[-SH_CONFIRM_LEN:])
    # Checks 2-5: before any cryptography.
    for v in (0x00, 0x02, 0x07):
        expect_error("MS_ERR_HS_VERSION", client, sh_with(shb, 1, u8(v)))
    for s in (0x0000, 0x0002, 0x00aa):
        expect_error("MS_ERR_HS_SUITE", client, sh_with(shb, 2, u16(s)))
    expect_error("MS_ERR_HS_EVIDENCE_TYPE", client, sh_with(shb, 116, u16(0x0006)))
    if ch["flags"] & FLAG_STRICT:
        expect_error("MS_ERR_HS_MODE", client, sh_with(shb, 118, u8(MODE_FAST)))
    else:
        # STRICT unasked is acceptable to checks 1-5; it then fails check 8
        # (the mode byte is covered by TH).
        expect_error("MS_ERR_HS_SERVER_CONFIRM", client,
                     sh_with(shb, 118, u8(MODE_STRICT)))
    # Check 7: low-order keys, ee checked first then es; before check 8.
    expect_error("MS_ERR_HS_WEAK_KEY", client, sh_with(shb, 20, bytes(32)))
    expect_error("MS_ERR_HS_WEAK_KEY", client, sh_with(shb, 84, bytes(32)))
    expect_error("MS_ERR_HS_WEAK_KEY", client,
                 sh_with(sh_with(shb, 20, bytes(32)), 84, bytes(32)))
    expect_error("MS_ERR_HS_WEAK_KEY", server_dh, b["server_eph_sk"],
                 b["server_static_sk"], bytes(32))

    # Check 8: the supervisor proves it holds the static key and the eph key.
    th = b["transcript_hash"]
    wrong_static_sk = det(name, "wrong static", 32)
    wrong_eph_sk = det(name, "wrong server eph", 32)
    # (i) an impostor that knows static_pk but not its secret: same SH_core,
    #     keys from a different static secret.
    ee, es = server_dh(b["server_eph_sk"], wrong_static_sk, ch["client_eph_pk"])
    assert ee == b["ee"] and es != b["es"]
    bad = core + server_confirm(key_schedule(ee, es, th)["k_sfin"], th)
    expect_error("MS_ERR_HS_SERVER_CONFIRM", client, bad)
    # (ii) a different ephemeral secret than the server_eph_pk sent.
    ee, es = server_dh(wrong_eph_sk, b["server_static_sk"], ch["client_eph_pk"])
    assert ee != b["ee"] and es == b["es"]
    bad = core + server_confirm(key_schedule(ee, es, th)["k_sfin"], th)
    expect_error("MS_ERR_HS_SERVER_CONFIRM", client, bad)
    # (iii) static_pk or server_eph_pk swapped in transit, confirm unchanged.
    expect_error("MS_ERR_HS_SERVER_CONFIRM", client,
                 sh_with(shb, 84, x25519_public(wrong_static_sk)))
    expect_error("MS_ERR_HS_SERVER_CONFIRM", client,
                 sh_with(shb, 20, x25519_public(wrong_eph_sk)))
    # (iv) a flipped bit in a field without an earlier check of its own
    #     (session_id, server_eph_pk, tls_spki_sha256, static_pk,
    #     evidence_not_after, evidence, server_confirm) fails check 8.
    offs = [4, 19, 20, 51, 52, 83, 84, 115, 126, len(shb) - 32, len(shb) - 1]
    if n:
        offs += [SH_FIXED, SH_FIXED + n - 1]
    for off in offs:
        x = bytearray(shb)
        x[off] ^= 0x01
        # A changed digest is another reference: check 5a, before check 8.
        expect_error("MS_ERR_HS_HELD_EVIDENCE"
                     if is_held and SH_FIXED <= off < SH_FIXED + n
                     else "MS_ERR_HS_SERVER_CONFIRM", client, bytes(x))
    # (v) the old construction MAC(K_sfin, TH || 64-byte signature) is not it.
    assert server_confirm(b["k_sfin"], th) != MAC(b["k_sfin"], th + bytes(64))
    # Check 9: an impostor with its own static key passes check 8, but the
    # binding B then covers a different static_pk and the verifier refuses.
    imp_pk = x25519_public(wrong_static_sk)
    imp_core = sh_with(core, 84, imp_pk)
    imp_th = transcript_hash(b["client_hello"], imp_core)
    ee, es = server_dh(b["server_eph_sk"], wrong_static_sk, ch["client_eph_pk"])
    imp = imp_core + server_confirm(key_schedule(ee, es, imp_th)["k_sfin"], imp_th)
    expect_error("MS_ERR_ATTEST_* (self-test verifier)", client, imp)
    client(imp, lambda *a: None)    # (a verifier that accepts anything would pass)

    # §7.4 on the supervisor, in the table's order.
    cfb = b["client_finish"]
    with_id = bool(b["client_id_seed"])
    fin = server_process_client_finish(ss, cfb)
    assert (fin["k_c2s"], fin["k_s2c"]) == (b["k_c2s"], b["k_s2c"])
    assert len(cfb) == 50 + (64 if with_id else 0) and cfb[49] == (64 if with_id else 0)

    def sv(x):
        return server_process_client_finish(ss, x)

    expect_error("MS_ERR_TRUNCATED", sv, b"")
    expect_error("MS_ERR_HS_MSG_TYPE", sv, b"\x01" + cfb[1:])
    expect_error("MS_ERR_TRUNCATED", sv, cfb[:-1])
    expect_error("MS_ERR_HS_CLIENT_ID", sv, cfb[:49] + b"\x20" + bytes(32))
    expect_error("MS_ERR_TRAILING", sv, cfb + b"\x00")
    wrong_sid = bytes([cfb[1] ^ 1]) + cfb[2:17]
    expect_error("MS_ERR_HS_SESSION_ID", sv, cfb[:1] + wrong_sid + cfb[17:])
    if with_id:
        expect_error("MS_ERR_HS_CLIENT_ID", sv, cfb[:49] + b"\x00")
    else:
        expect_error("MS_ERR_HS_CLIENT_ID", sv, cfb[:49] + b"\x40" + bytes(64))
    x = bytearray(cfb)
    x[17] ^= 0x80
    expect_error("MS_ERR_HS_CLIENT_CONFIRM", sv, bytes(x))
    if with_id:
        x = bytearray(cfb)
        x[-1] ^= 0x01
        expect_error("MS_ERR_HS_CLIENT_SIGNATURE", sv, bytes(x))
        assert ed25519_verify(ch["client_id_pk"], L_CLIENT_SIG + th, cfb[50:])
        other = client_signature(det(name, "other client id", 32), th)
        expect_error("MS_ERR_HS_CLIENT_SIGNATURE", sv, cfb[:50] + other)
    return 1 if with_id else 0


def selftest_record(b):
    """Open the record as the receiver of its direction (§8.3)."""
    recv = b["direction"]
    other = DIR_S2C if recv == DIR_C2S else DIR_C2S
    args = (b["k_c2s"], b["k_s2c"], b["session_id"])
    rec = b["record"]
    o = open_record(*args, recv, rec)
    assert o["plaintext"] == b["plaintext"] and o["rest"] == b""
    assert (o["type"], o["seq"], o["msg_id"], o["chunk"]) == (
        b["type"], b["seq"], b["msg_id"], b["chunk"])
    assert len(rec) == HEADER_LEN + len(b["plaintext"]) + TAG_LEN
    assert seal_record(*args, recv, b["seq"], b["type"], b["msg_id"],
                       b["chunk"], b["plaintext"]) == rec
    # Records may be concatenated: bytes after 40 + ct_len are not opened.
    assert open_record(*args, recv, rec + b"next")["rest"] == b"next"
    # The other receiver refuses it (check 4).
    expect_error("MS_ERR_REC_DIRECTION", open_record, *args, other, rec)
    # The other direction's key, the previous or the next epoch's key fail
    # the tag (check 15).
    hdr, body = rec[:HEADER_LEN], rec[HEADER_LEN:]
    e = epoch(b["seq"])
    k0 = direction_key0(recv, b["k_c2s"], b["k_s2c"])
    wrong = [epoch_key(direction_key0(other, b["k_c2s"], b["k_s2c"]), e),
             epoch_key(k0, e + 1)]
    if e:
        wrong.append(epoch_key(k0, e - 1))
    for k in wrong:
        assert AEAD_open(k, record_nonce(b["seq"]), hdr, body) is None
    # A flipped header bit fails the tag; so does a flipped body bit.
    for off in (27, len(rec) - 1):
        bad = bytearray(rec)
        bad[off] ^= 0x01
        expect_error("MS_ERR_REC_AUTH", open_record, *args, recv, bytes(bad))
    # A cut body is check 8, after the header checks 2-7.
    expect_error("MS_ERR_TRUNCATED", open_record, *args, recv, rec[:-1])
    expect_error("MS_ERR_REC_FLAGS", open_record, *args, recv,
                 (rec[:3] + b"\x01" + rec[4:])[:-1])
    expect_error("MS_ERR_TRUNCATED", open_record, *args, recv, rec[:HEADER_LEN - 1])


def selftest_receiver():
    """§8.3 order and §8.4 window on one stateful receiver, and §8.2 limits."""
    k_c2s = det("selftest receiver", "k_c2s", 32)
    k_s2c = det("selftest receiver", "k_s2c", 32)
    sid = det("selftest receiver", "session_id", 16)
    C = DIR_C2S

    def rec(seq, rtype=REC_MSG, msg_id=0, chunk=0, pt=b"x"):
        return seal_record(k_c2s, k_s2c, sid, C, seq, rtype, msg_id, chunk, pt)

    r = Receiver(k_c2s, k_s2c, sid, C)
    good = rec(0)
    # Checks 2-9 on crafted headers (the tag is never reached).
    expect_error("MS_ERR_REC_VERSION", r.open, b"\x02" + good[1:])
    expect_error("MS_ERR_REC_TYPE", r.open, good[:1] + b"\x05" + good[2:])
    expect_error("MS_ERR_REC_TYPE", r.open, good[:1] + b"\x00" + good[2:])
    expect_error("MS_ERR_REC_FLAGS", r.open, good[:3] + b"\x80" + good[4:])
    expect_error("MS_ERR_REC_LENGTH", r.open, good[:36] + u32(15) + good[40:])
    expect_error("MS_ERR_REC_LENGTH", r.open,
                 good[:36] + u32(MAX_RECORD_PLAINTEXT + 17) + good[40:])
    expect_error("MS_ERR_REC_FIELDS", r.open, good[:32] + u32(1) + good[36:])
    expect_error("MS_ERR_REC_FIELDS", r.open,                  # seq 2^64 - 1
                 good[:20] + u64(SEQ_LIMIT) + good[28:])
    expect_error("MS_ERR_REC_FIELDS", r.open,                  # before check 8
                 (good[:20] + u64(SEQ_LIMIT) + good[28:])[:-1])
    expect_error("MS_ERR_REC_SESSION", r.open,
                 good[:4] + bytes(16) + good[20:])
    expect_error("MS_ERR_SEQ_EXHAUSTED", seal_record, k_c2s, k_s2c, sid, C,
                 SEQ_LIMIT, REC_MSG, 0, 0, b"")
    for t, m, c in ((REC_MSG, 0, 1), (REC_STREAM_DATA, 0, 0),
                    (REC_STREAM_FINAL, 0, 5), (REC_CLOSE, 1, 0),
                    (REC_CLOSE, 0, 1)):
        x = good[:1] + u8(t) + good[2:28] + u32(m) + u32(c) + good[36:]
        expect_error("MS_ERR_REC_FIELDS", r.open, x)
    assert (r.top, r.bitmap, r.epoch) == (0, 0, 0), "failures changed state"

    # Window (§8.4).
    r.open(rec(300))
    assert r.top == 301
    expect_error("MS_ERR_REC_REPLAY", r.open, rec(300))
    expect_error("MS_ERR_REC_TOO_OLD", r.open, rec(44))   # 301 - 44 = 257 > 256
    r.open(rec(45))                                       # 301 - 45 = 256: inside
    expect_error("MS_ERR_REC_REPLAY", r.open, rec(45))
    r.open(rec(299))
    r.open(rec(301))
    expect_error("MS_ERR_REC_TOO_OLD", r.open, rec(45))   # now below the window
    # A tag failure changes nothing.
    x = bytearray(rec(302))
    x[-1] ^= 1
    expect_error("MS_ERR_REC_AUTH", r.open, bytes(x))
    assert r.top == 302
    r.open(rec(302))
    # Epochs (§8.3 checks 13-14, §9).
    e9 = (MAX_EPOCH_AHEAD + 1) << EPOCH_SHIFT
    expect_error("MS_ERR_REC_TOO_NEW", r.open, rec(e9))
    e1 = 1 << EPOCH_SHIFT
    r.open(rec(e1 + 3))
    assert r.epoch == 1 and r.key == epoch_key(k_c2s, 1)
    r.open(rec(e1))                                       # same epoch, in window
    expect_error("MS_ERR_REC_TOO_OLD", r.open, rec(e1 - 1))    # check 11
    r2 = Receiver(k_c2s, k_s2c, sid, C)
    r2.open(rec(e1 + 2))
    expect_error("MS_ERR_REC_TOO_OLD", r2.open, rec(e1 - 1))   # check 13, in window
    expect_error("MS_ERR_REC_REPLAY", r2.open, rec(e1 + 2))
    r2.open(rec(e1 + 1))
    r2.open(rec(e9 + 5))                                  # 8 ahead of epoch 1
    assert r2.epoch == MAX_EPOCH_AHEAD + 1
    # Close (§8.6, check 10): after a CLOSE nothing more, not even a replay.
    r.open(rec(e1 + 10, REC_CLOSE, pt=b""))
    expect_error("MS_ERR_CHANNEL_CLOSED", r.open, rec(e1 + 11))
    expect_error("MS_ERR_CHANNEL_CLOSED", r.open, rec(e1 + 10, REC_CLOSE, pt=b""))
    expect_error("MS_ERR_REC_SESSION", r.open,        # check 9 before check 10
                 seal_record(k_c2s, k_s2c, bytes(16), C, e1 + 12, REC_MSG, 0, 0, b""))


def selftest_ratchet(b):
    k = b["k0"]
    for e in range(1, 9):
        k = ratchet(k)
        if e in (1, 2, 3, 8):
            assert k == b["k%d" % e]
    assert epoch_key(b["k3"], 5) == b["k8"]


def selftest():
    check_primitives()
    selftest_negotiation()
    selftest_receiver()
    files = generate()
    assert files == generate(), "generation is not deterministic"
    hs = parse_file(files["handshake.txt"], HANDSHAKE_INT_KEYS)
    recs = parse_file(files["records.txt"], RECORD_INT_KEYS)
    rats = parse_file(files["ratchet.txt"], set())
    assert [list(b) for b in hs] == [HANDSHAKE_KEYS] * len(hs)
    assert [list(b) for b in recs] == [RECORD_KEYS] * len(recs)
    assert [list(b) for b in rats] == [RATCHET_KEYS] * len(rats)
    names = [b["name"] for b in hs + recs + rats]
    assert len(names) == len(set(names)), "duplicate names"
    sigs = sum(selftest_handshake(b) for b in hs)
    for b in recs:
        selftest_record(b)
    for b in rats:
        selftest_ratchet(b)
    # The first two ratchet blocks start from the first handshake's keys, and
    # the records of that session use them.
    assert rats[0]["k0"] == hs[0]["k_c2s"] and rats[1]["k0"] == hs[0]["k_s2c"]
    assert sum(1 for b in recs if b["session_id"] == hs[0]["session_id"]
               and b["k_c2s"] == hs[0]["k_c2s"]) == 9
    print("selftest ok: primitives; negotiation; receiver; %d handshakes "
          "(%d client signatures verified, server_confirm refused for a wrong "
          "static or ephemeral key); %d records opened; %d ratchet chains"
          % (len(hs), sigs, len(recs), len(rats)))


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--out", metavar="DIR", help="write the vector files to DIR")
    g.add_argument("--check", metavar="DIR",
                   help="regenerate in memory; exit 1 if DIR's files differ")
    g.add_argument("--selftest", action="store_true",
                   help="check the primitives and the generated vectors")
    args = ap.parse_args(argv)

    if args.selftest:
        selftest()
        return 0

    files = generate()
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        for name, text in sorted(files.items()):
            with open(os.path.join(args.out, name), "w", encoding="utf-8",
                      newline="\n") as f:
                f.write(text)
            print("wrote %s (%d blocks)"
                  % (os.path.join(args.out, name), text.count("\n---\n") + 1))
        return 0

    status = 0
    for name, text in sorted(files.items()):
        path = os.path.join(args.check, name)
        try:
            with open(path, encoding="utf-8", newline="") as f:
                have = f.read()
        except OSError as e:
            print("%s: %s" % (path, e), file=sys.stderr)
            status = 1
            continue
        if have != text:
            want_lines, have_lines = text.split("\n"), have.split("\n")
            n = next((i for i, (a, b) in enumerate(zip(want_lines, have_lines))
                      if a != b), min(len(want_lines), len(have_lines)))
            print("%s: differs from the generator, first at line %d"
                  % (path, n + 1), file=sys.stderr)
            status = 1
        else:
            print("%s: ok" % path)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
