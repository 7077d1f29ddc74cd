/* The one error table: every error code, its category and the message a person reads. */
/*
 * X-macro table, expanded by common/err.h (the enum) and common/err.c (strings).
 * Columns: code name, category, message.
 * Messages say what went wrong and, where it helps, what to do. They never carry data.
 * Codes are append-only within a category block: tests and logs refer to them by name.
 */
/* clang-format off */
#define MS_ERR_TABLE(X) \
  X(MS_OK,                        NONE,     "success") \
  /* USAGE: the caller passed something that cannot work */ \
  X(MS_ERR_ARG,                   USAGE,    "invalid argument") \
  X(MS_ERR_STATE,                 USAGE,    "operation not allowed in the object's current state") \
  X(MS_ERR_OUT_SPACE,             USAGE,    "output buffer too small") \
  /* INTERNAL */ \
  X(MS_ERR_NOMEM,                 INTERNAL, "out of memory") \
  X(MS_ERR_INTERNAL,              INTERNAL, "internal error (a bug: please report it)") \
  X(MS_ERR_RANDOM,                INTERNAL, "random number generator unavailable") \
  X(MS_ERR_CRYPTO_INIT,           INTERNAL, "libsodium failed to initialise") \
  /* LIMIT: a named cap from common/limits.h was reached */ \
  X(MS_ERR_CAP_EXCEEDED,          LIMIT,    "input or output exceeds a configured size limit") \
  /* DECODE: bytes that do not follow a format */ \
  X(MS_ERR_TRUNCATED,             DECODE,   "input ends before the field it should contain") \
  X(MS_ERR_TRAILING,              DECODE,   "unexpected bytes after the end of a message") \
  X(MS_ERR_HEX,                   DECODE,   "invalid hexadecimal text") \
  X(MS_ERR_BASE64,                DECODE,   "invalid base64 text") \
  X(MS_ERR_JSON_PARSE,            DECODE,   "text is not valid JSON") \
  X(MS_ERR_JSON_DEPTH,            DECODE,   "JSON nesting deeper than allowed") \
  X(MS_ERR_JSON_MISSING,          DECODE,   "a required JSON field is missing") \
  X(MS_ERR_JSON_TYPE,             DECODE,   "a JSON field has the wrong type") \
  X(MS_ERR_JSON_TOO_LONG,         DECODE,   "a JSON string or array is longer than allowed") \
  X(MS_ERR_JSON_ENUM,             DECODE,   "a JSON field has a value that is not one of the allowed values") \
  X(MS_ERR_JSON_RANGE,            DECODE,   "a JSON number is outside the allowed range") \
  /* PROTO: well-formed bytes that break the protocol (docs/protocol.md) */ \
  X(MS_ERR_HS_MSG_TYPE,           PROTO,    "handshake message has the wrong type byte") \
  X(MS_ERR_HS_COUNT,              PROTO,    "handshake list count is zero or above its limit") \
  X(MS_ERR_HS_VERSION,            PROTO,    "no protocol version in common with the peer") \
  X(MS_ERR_HS_SUITE,              PROTO,    "no cipher suite in common with the peer") \
  X(MS_ERR_HS_EVIDENCE_TYPE,      PROTO,    "no evidence type in common with the peer") \
  X(MS_ERR_HS_FLAGS,              PROTO,    "reserved handshake flag bits are set") \
  X(MS_ERR_HS_CLIENT_ID,          PROTO,    "client identity field has an invalid length or is missing its signature") \
  X(MS_ERR_HS_MODE,               PROTO,    "evidence mode is unknown or weaker than the client requested") \
  X(MS_ERR_HS_SESSION_ID,         PROTO,    "handshake message names another session") \
  X(MS_ERR_REC_VERSION,           PROTO,    "record has an unknown version") \
  X(MS_ERR_REC_TYPE,              PROTO,    "record has an unknown type") \
  X(MS_ERR_REC_DIRECTION,         PROTO,    "record travels in the wrong direction") \
  X(MS_ERR_REC_FLAGS,             PROTO,    "record has reserved flag bits set") \
  X(MS_ERR_REC_SESSION,           PROTO,    "record belongs to another session") \
  X(MS_ERR_REC_LENGTH,            PROTO,    "record length field is out of range") \
  X(MS_ERR_REC_FIELDS,            PROTO,    "record message id or chunk fields do not fit its type") \
  X(MS_ERR_REC_REPLAY,            PROTO,    "record was already received (replay)") \
  X(MS_ERR_REC_TOO_OLD,           PROTO,    "record is older than the receive window or key epoch") \
  X(MS_ERR_REC_TOO_NEW,           PROTO,    "record is too far ahead of the current key epoch") \
  X(MS_ERR_SEQ_EXHAUSTED,         PROTO,    "sequence numbers are exhausted: open a new session") \
  X(MS_ERR_CHANNEL_CLOSED,        PROTO,    "the channel was closed") \
  X(MS_ERR_STREAM_ORDER,          PROTO,    "stream record is missing, repeated or out of order") \
  X(MS_ERR_STREAM_MSG_ID,         PROTO,    "stream record belongs to another message") \
  X(MS_ERR_STREAM_TRUNCATED,      PROTO,    "stream ended without its authenticated FINAL record") \
  X(MS_ERR_STREAM_DONE,           PROTO,    "stream already ended with its FINAL record") \
  /* CRYPTO: a cryptographic check failed. Peers see these as one generic failure. */ \
  X(MS_ERR_HS_WEAK_KEY,           CRYPTO,   "peer ephemeral key is a low-order point") \
  X(MS_ERR_HS_SERVER_CONFIRM,     CRYPTO,   "supervisor key confirmation is invalid") \
  X(MS_ERR_HS_CLIENT_CONFIRM,     CRYPTO,   "client key confirmation is invalid") \
  X(MS_ERR_HS_CLIENT_SIGNATURE,   CRYPTO,   "client identity signature is invalid") \
  X(MS_ERR_REC_AUTH,              CRYPTO,   "record failed authentication (tampered, wrong key or wrong session)") \
  /* ATTEST: evidence did not prove what the policy requires */ \
  X(MS_ERR_ATTEST_EXPIRED,        ATTEST,   "attestation evidence has expired") \
  X(MS_ERR_ATTEST_REJECTED,       ATTEST,   "attestation evidence was rejected by the verifier") \
  X(MS_ERR_ATTEST_UNAVAILABLE,    ATTEST,   "the supervisor could not produce the requested evidence") \
  X(MS_ERR_ATTEST_FORMAT,         ATTEST,   "attestation evidence is malformed for its type") \
  X(MS_ERR_ATTEST_KEY,            ATTEST,   "attestation evidence is signed by a key other than the pinned one") \
  X(MS_ERR_ATTEST_SIGNATURE,      ATTEST,   "attestation evidence signature is invalid") \
  X(MS_ERR_ATTEST_POLICY,         ATTEST,   "the attestation policy does not accept this evidence type or mode") \
  X(MS_ERR_ATTEST_BINDING,        ATTEST,   "saved evidence's binding does not follow from its static key, expiry, type and mode") \
  /* ATTEST, TPM 2.0 quotes: one code per check (docs/attest-tpm2.md) */ \
  X(MS_ERR_TPM_FORMAT,            ATTEST,   "TPM quote bundle is malformed (bad structure, lengths or trailing bytes)") \
  X(MS_ERR_TPM_MAGIC,             ATTEST,   "TPM attestation lacks the TPM_GENERATED magic: not made by a TPM") \
  X(MS_ERR_TPM_TYPE,              ATTEST,   "TPM attestation is not a quote (e.g. a certify)") \
  X(MS_ERR_TPM_NONCE,             ATTEST,   "TPM quote is not over this session's binding (extraData differs)") \
  X(MS_ERR_TPM_PCR_SELECT,        ATTEST,   "TPM quote covers another PCR selection than the policy requires") \
  X(MS_ERR_TPM_PCR_DIGEST,        ATTEST,   "TPM quote's PCR digest does not match the PCR values sent with it") \
  X(MS_ERR_TPM_PCR_VALUE,         ATTEST,   "a quoted PCR value differs from the policy's expected value") \
  X(MS_ERR_TPM_SIGNATURE,         ATTEST,   "TPM quote signature does not verify under the attestation key") \
  X(MS_ERR_TPM_AK_ATTRS,          ATTEST,   "TPM attestation key is not a restricted, fixedTPM signing key") \
  X(MS_ERR_TPM_AK_NAME,           ATTEST,   "TPM attestation key is not the one pinned by the policy") \
  X(MS_ERR_TPM_DEVICE,            ATTEST,   "the TPM could not be reached or refused a command") \
  /* ATTEST, AMD SEV-SNP reports: one code per check (docs/attest-sev-snp.md) */ \
  X(MS_ERR_SNP_FORMAT,            ATTEST,   "SEV-SNP evidence is malformed (report or certificate bundle)") \
  X(MS_ERR_SNP_ARK,               ATTEST,   "SEV-SNP root certificate (ARK) is not the one pinned by the policy") \
  X(MS_ERR_SNP_CHAIN,             ATTEST,   "SEV-SNP certificate chain ARK -> ASK -> VCEK does not verify") \
  X(MS_ERR_SNP_SIGNATURE,         ATTEST,   "SEV-SNP report signature does not verify under the VCEK") \
  X(MS_ERR_SNP_TCB_MISMATCH,      ATTEST,   "SEV-SNP report's TCB differs from the VCEK certificate's") \
  X(MS_ERR_SNP_CHIP_ID,           ATTEST,   "SEV-SNP report's chip id differs from the VCEK certificate's") \
  X(MS_ERR_SNP_REPORT_DATA,       ATTEST,   "SEV-SNP report is not over this session's binding (report_data differs)") \
  X(MS_ERR_SNP_MEASUREMENT,       ATTEST,   "SEV-SNP launch measurement differs from the policy's") \
  X(MS_ERR_SNP_DEBUG,             ATTEST,   "SEV-SNP guest policy allows debugging: its memory is not protected") \
  X(MS_ERR_SNP_TCB_MIN,           ATTEST,   "SEV-SNP TCB is below the policy's minimum") \
  X(MS_ERR_SNP_DEVICE,            ATTEST,   "the SEV-SNP report could not be obtained from the kernel (configfs-tsm or /dev/sev-guest)") \
  /* ATTEST, SEV-SNP fields added by the attestation-without-gaps work (docs/attest-sev-snp.md) */ \
  X(MS_ERR_SNP_MEASURE_OVMF,      ATTEST,   "OVMF image is malformed for SEV-SNP measurement (footer table, SEV metadata or their bounds)") \
  X(MS_ERR_SNP_MEASURE_INPUT,     ATTEST,   "SEV-SNP measurement input is out of range (vCPU count or type, VMM type, sizes)") \
  X(MS_ERR_SNP_MEASURE_KERNEL,    ATTEST,   "a kernel was given but the OVMF image has no SEV kernel-hashes section (use an AmdSev build)") \
  X(MS_ERR_SNP_CERT_TIME,         ATTEST,   "an SEV-SNP certificate (ARK, ASK/ASVK or VCEK/VLEK) is not valid at the time judged") \
  X(MS_ERR_SNP_CRL,               ATTEST,   "the SEV-SNP CRL is not the ARK's (issuer or RSA-PSS signature does not verify)") \
  X(MS_ERR_SNP_REVOKED,           ATTEST,   "the SEV-SNP intermediate certificate (ASK/ASVK) is revoked by the ARK's CRL") \
  X(MS_ERR_SNP_SIGNING_KEY,       ATTEST,   "SEV-SNP report's signing key (VCEK or VLEK) is not the kind of the certificate sent") \
  X(MS_ERR_SNP_VMPL,              ATTEST,   "SEV-SNP report comes from another VMPL than the policy requires") \
  X(MS_ERR_SNP_MIGRATE_MA,        ATTEST,   "SEV-SNP guest policy allows a migration agent (MIGRATE_MA) and the policy does not") \
  X(MS_ERR_SNP_MIGRATION_AGENT,   ATTEST,   "SEV-SNP report names a bound migration agent (REPORT_ID_MA) and the policy does not allow one") \
  X(MS_ERR_SNP_SMT,               ATTEST,   "SEV-SNP guest policy allows SMT and the policy forbids it") \
  X(MS_ERR_SNP_SINGLE_SOCKET,     ATTEST,   "SEV-SNP guest policy does not require a single socket and the policy does") \
  X(MS_ERR_SNP_ABI_MIN,           ATTEST,   "SEV-SNP guest policy's ABI version is below the policy's minimum") \
  X(MS_ERR_SNP_POLICY_BITS,       ATTEST,   "SEV-SNP guest policy bits differ from those the policy pins") \
  X(MS_ERR_SNP_PLATFORM_INFO,     ATTEST,   "SEV-SNP platform info bits differ from those the policy pins") \
  X(MS_ERR_SNP_HOST_DATA,         ATTEST,   "SEV-SNP report's HOST_DATA differs from the policy's") \
  X(MS_ERR_SNP_FAMILY_ID,         ATTEST,   "SEV-SNP report's FAMILY_ID differs from the policy's") \
  X(MS_ERR_SNP_IMAGE_ID,          ATTEST,   "SEV-SNP report's IMAGE_ID differs from the policy's") \
  X(MS_ERR_SNP_ID_KEY,            ATTEST,   "SEV-SNP report's ID key digest differs from the policy's") \
  X(MS_ERR_SNP_AUTHOR_KEY,        ATTEST,   "SEV-SNP report's author key digest differs from the policy's") \
  /* ATTEST, TPM key provenance: EK certificate chain, AK activation (docs/attest-tpm2.md) */ \
  X(MS_ERR_TPM_EK_CERT,           ATTEST,   "TPM EK certificate is malformed or does not hold this TPM's endorsement key") \
  X(MS_ERR_TPM_EK_CHAIN,          ATTEST,   "TPM EK certificate does not chain to the pinned root, or is not valid now") \
  X(MS_ERR_TPM_ACTIVATION,        ATTEST,   "TPM attestation key was not activated by the endorsement key (credential not recovered)") \
  X(MS_ERR_TPM_AK_CERT,           ATTEST,   "TPM attestation key certificate is missing, not issued by the pinned CA, or not the quote's key") \
  /* ATTEST, Intel TDX quotes: one code per check (docs/attest-tdx.md) */ \
  X(MS_ERR_TDX_NO_PCK_CHAIN,      ATTEST,   "TDX quote carries no PCK certificate chain (certification data other than type 5) and none was given (pck_chain.pem with the collateral)") \
  X(MS_ERR_TDX_FORMAT,            ATTEST,   "TDX evidence is malformed (quote layout, lengths, caps or trailing bytes)") \
  X(MS_ERR_TDX_PCK_CHAIN,         ATTEST,   "TDX PCK certificate chain does not verify to the pinned Intel SGX Root CA") \
  X(MS_ERR_TDX_CRL,               ATTEST,   "TDX PCK or root CRL is missing, malformed, wrongly signed or out of date") \
  X(MS_ERR_TDX_PCK_REVOKED,       ATTEST,   "TDX PCK certificate or its CA is revoked") \
  X(MS_ERR_TDX_QE_SIGNATURE,      ATTEST,   "TDX quoting enclave report signature does not verify under the PCK key") \
  X(MS_ERR_TDX_QE_REPORT_DATA,    ATTEST,   "TDX QE report data is not SHA-256(attestation key || QE authentication data)") \
  X(MS_ERR_TDX_SIGNATURE,         ATTEST,   "TDX quote signature does not verify under the attestation key") \
  X(MS_ERR_TDX_NO_COLLATERAL,     ATTEST,   "TDX TCB info or QE identity is missing: the platform's TCB cannot be judged") \
  X(MS_ERR_TDX_TCB_STATUS,        ATTEST,   "TDX platform TCB status is not one the policy accepts") \
  X(MS_ERR_TDX_QE_STATUS,         ATTEST,   "TDX quoting enclave TCB status is not one the policy accepts") \
  X(MS_ERR_TDX_DEBUG,             ATTEST,   "TDX TD attributes allow debugging: its memory is not protected") \
  X(MS_ERR_TDX_MRTD,              ATTEST,   "TDX MRTD differs from the policy's") \
  X(MS_ERR_TDX_RTMR,              ATTEST,   "a TDX RTMR differs from the policy's") \
  X(MS_ERR_TDX_MRCONFIGID,        ATTEST,   "TDX MRCONFIGID differs from the policy's") \
  X(MS_ERR_TDX_MROWNER,           ATTEST,   "TDX MROWNER differs from the policy's") \
  X(MS_ERR_TDX_REPORT_DATA,       ATTEST,   "TDX quote is not over this session's binding (REPORTDATA differs)") \
  X(MS_ERR_TDX_DEVICE,            ATTEST,   "the TDX quote could not be obtained from the kernel (configfs-tsm)") \
  /* ATTEST, Intel DCAP collateral for TDX: PCK extensions, TCB info, QE identity (secure/attest/tdx_collateral.h) */ \
  X(MS_ERR_TDX_STALE_TCB_INFO,    ATTEST,   "the TDX collateral's TCB info (tcb_info.json) is past its nextUpdate: fetch a new one from Intel's PCS, or allow a grace period") \
  X(MS_ERR_TDX_STALE_QE_IDENTITY, ATTEST,   "the TDX collateral's QE identity (qe_identity.json) is past its nextUpdate: fetch a new one from Intel's PCS, or allow a grace period") \
  X(MS_ERR_TDX_STALE_PCK_CRL,     ATTEST,   "the TDX collateral's PCK CRL (pck_crl.der or .pem) is past its nextUpdate: fetch a new one from Intel's PCS, or allow a grace period") \
  X(MS_ERR_TDX_STALE_ROOT_CRL,    ATTEST,   "the TDX collateral's root CRL (root_crl.der or .pem) is past its nextUpdate: fetch a new one from Intel, or allow a grace period") \
  X(MS_ERR_TDX_PCK_EXT,           ATTEST,   "PCK certificate's SGX extensions are missing, duplicated or malformed") \
  X(MS_ERR_TDX_COLLATERAL_FORMAT, ATTEST,   "TDX collateral (TCB info or QE identity) is malformed or of an unsupported version") \
  X(MS_ERR_TDX_COLLATERAL_CHAIN,  ATTEST,   "Intel TCB signing certificate does not chain to the pinned Intel SGX Root CA") \
  X(MS_ERR_TDX_COLLATERAL_SIGNATURE, ATTEST, "TDX collateral signature does not verify under the Intel TCB signing key") \
  X(MS_ERR_TDX_COLLATERAL_EXPIRED, ATTEST,  "TDX collateral, its signing certificate or the root CRL is not valid at the verification time (stale or not yet issued)") \
  X(MS_ERR_TDX_COLLATERAL_REVOKED, ATTEST,  "Intel TCB signing certificate is revoked, or the root CA's CRL does not verify") \
  X(MS_ERR_TDX_FMSPC,             ATTEST,   "TCB info is for another platform (FMSPC or PCE ID differs from the PCK certificate's)") \
  X(MS_ERR_TDX_MODULE,            ATTEST,   "TDX module identity (MRSIGNERSEAM, SEAM attributes or module version) is not the one TCB info names") \
  X(MS_ERR_TDX_TCB_LEVEL,         ATTEST,   "no TCB level of the collateral is met by the platform's TCB") \
  X(MS_ERR_TDX_QE_IDENTITY,       ATTEST,   "TDX quoting enclave is not the one Intel's QE identity names (MRSIGNER, ISVPRODID, MISCSELECT or ATTRIBUTES)") \
  /* ATTEST, Azure confidential VMs: HCL report, variable data, vTPM (docs/attest-azure.md) */ \
  X(MS_ERR_AZ_FORMAT,             ATTEST,   "Azure HCL report is malformed (header, sizes, reserved or trailing bytes)") \
  X(MS_ERR_AZ_REPORT_TYPE,        ATTEST,   "Azure HCL report holds another hardware report than the evidence type needs") \
  X(MS_ERR_AZ_VAR_DATA_HASH,      ATTEST,   "Azure HCL report's report_data is not the hash of its variable data") \
  X(MS_ERR_AZ_VAR_DATA,           ATTEST,   "Azure HCL variable data is not a valid JSON key set") \
  X(MS_ERR_AZ_AKPUB,              ATTEST,   "Azure HCL variable data does not hold exactly one RSA key HCLAkPub") \
  X(MS_ERR_AZ_USER_DATA,          ATTEST,   "Azure HCL user data is not this session's binding") \
  X(MS_ERR_AZ_BUNDLE,             ATTEST,   "Azure vTPM evidence bundle is malformed (lengths, caps or trailing bytes)") \
  X(MS_ERR_AZ_QUOTE_SIGNATURE,    ATTEST,   "vTPM quote signature does not verify under the HCL report's attestation key") \
  /* ATTEST, NVIDIA GPU evidence: one code per check (docs/attest-nvidia.md) */ \
  X(MS_ERR_NVGPU_FORMAT,          ATTEST,   "NVIDIA GPU evidence is malformed (SPDM request/response, opaque data or certificate list)") \
  X(MS_ERR_NVGPU_NONCE,           ATTEST,   "NVIDIA GPU report is not over this session's binding (request nonce differs)") \
  X(MS_ERR_NVGPU_CHAIN,           ATTEST,   "NVIDIA GPU certificate chain does not verify to the pinned root at the given time") \
  X(MS_ERR_NVGPU_IDENTITY,        ATTEST,   "NVIDIA GPU attestation certificate is not bound to the device certificate that issued it") \
  X(MS_ERR_NVGPU_SIGNATURE,       ATTEST,   "NVIDIA GPU report signature does not verify under the attestation certificate's key") \
  X(MS_ERR_NVGPU_MEASUREMENT,     ATTEST,   "an NVIDIA GPU measurement is missing or differs from the policy's") \
  X(MS_ERR_NVGPU_CC_OFF,          ATTEST,   "NVIDIA GPU is not in confidential-computing mode") \
  X(MS_ERR_NVGPU_DEBUG,           ATTEST,   "NVIDIA GPU is in a debugging (dev-tools) mode the policy does not allow") \
  X(MS_ERR_NVGPU_COUNT,           ATTEST,   "NVIDIA GPU evidence holds another number of GPUs than the policy requires") \
  X(MS_ERR_NVGPU_DUPLICATE,       ATTEST,   "NVIDIA GPU evidence presents the same device twice") \
  X(MS_ERR_NVGPU_NVML,            ATTEST,   "the NVIDIA management library (libnvidia-ml) could not be loaded or did not answer") \
  /* ATTEST, composite evidence (docs/protocol.md §2.4) */ \
  X(MS_ERR_COMPOSITE_FORMAT,      ATTEST,   "composite evidence is malformed (format byte, item count, item lengths or trailing bytes)") \
  X(MS_ERR_COMPOSITE_TYPE,        ATTEST,   "composite evidence holds an item type, or a CPU TEE type, that the policy does not name") \
  X(MS_ERR_COMPOSITE_ORDER,       ATTEST,   "composite evidence's first item is not the CPU TEE's, or a CPU TEE item follows a GPU item") \
  X(MS_ERR_COMPOSITE_DUPLICATE,   ATTEST,   "composite evidence holds a second CPU TEE item, or two items from one GPU") \
  X(MS_ERR_COMPOSITE_MISSING,     ATTEST,   "composite evidence lacks GPU items that the policy requires") \
  X(MS_ERR_COMPOSITE_COUNT,       ATTEST,   "composite evidence holds more GPU items than the policy's combination") \
  /* IO: files, sockets, HTTP */ \
  X(MS_ERR_IO,                    IO,       "input/output error") \
  X(MS_ERR_FILE_OPEN,             IO,       "cannot open or create the file") \
  X(MS_ERR_FILE_PERMS,            IO,       "a secret key file must be readable by its owner only (mode 0600)") \
  X(MS_ERR_FILE_FORMAT,           IO,       "the file's contents are not in the expected format") \
  X(MS_ERR_HTTP_URL,              IO,       "the URL is invalid or its scheme is not allowed") \
  X(MS_ERR_HTTP_INSECURE,         IO,       "plain http:// is not allowed to this host: use https://, or a loopback address where plain HTTP is allowed") \
  X(MS_ERR_HTTP_CONNECT,          IO,       "cannot connect to the server") \
  X(MS_ERR_HTTP_TLS,              IO,       "TLS failed: the server's certificate did not verify against the trusted CA") \
  X(MS_ERR_HTTP_PIN,              IO,       "the server's TLS key is not the one named in the authenticated handshake") \
  X(MS_ERR_HTTP_TIMEOUT,          IO,       "the server did not answer in time") \
  X(MS_ERR_HTTP_STATUS,           IO,       "the server answered with an unexpected HTTP status") \
  X(MS_ERR_HTTP_BODY,             IO,       "the server's answer is too large or malformed") \
  /* PEER: what the supervisor said about our session */ \
  X(MS_ERR_PEER_REJECTED,         PROTO,    "the supervisor rejected the handshake or record") \
  X(MS_ERR_SESSION_UNKNOWN,       PROTO,    "the supervisor does not know this session (expired, closed or restarted)") \
  X(MS_ERR_SERVER_BUSY,           PROTO,    "the supervisor is busy (its session table is full, or fresh evidence was asked for too often): retry later") \
  X(MS_ERR_REPLY_MISMATCH,        PROTO,    "the reply does not answer this request (wrong message id or type)") \
  X(MS_ERR_PAYLOAD,               PROTO,    "a message inside the channel is not valid for its endpoint") \
  X(MS_ERR_STRICT_RATE,           PROTO,    "fresh (STRICT) evidence is asked for faster than the supervisor's --strict-rate allows: retry later") \
  /* BACKEND: the model engine */ \
  X(MS_ERR_BACKEND_UNAVAILABLE,   BACKEND,  "the model engine cannot be reached: is it running at the configured URL?") \
  X(MS_ERR_BACKEND_TIMEOUT,       BACKEND,  "the model engine did not answer in time") \
  X(MS_ERR_BACKEND_STATUS,        BACKEND,  "the model engine answered with an HTTP error") \
  X(MS_ERR_BACKEND_FORMAT,        BACKEND,  "the model engine's answer is not in the expected format") \
  X(MS_ERR_BACKEND_REMOTE,        BACKEND,  "the supervisor's model engine failed on this turn") \
  /* ENGINE, replies cut at the token limit (issue 18) */ \
  X(MS_ERR_BACKEND_CUT,           BACKEND,  "the model stopped at its token limit (finish_reason \"length\"): its reply is incomplete; allow more tokens") \
  /* HARDEN, client allow-list, handshake and per-address limits (issue 13) */ \
  X(MS_ERR_IDKEY_TYPE,            DECODE,   "an identity key line does not start with the key type ms-ed25519") \
  X(MS_ERR_IDKEY_KEY,             DECODE,   "an identity key line's key is not 44 characters of base64 holding 32 bytes") \
  X(MS_ERR_IDKEY_SPACE,           DECODE,   "an identity key line lacks the space or tab between its type, key and comment") \
  X(MS_ERR_IDKEY_CONTROL,         DECODE,   "an identity key line holds a control character") \
  X(MS_ERR_IDKEY_LINE_LONG,       LIMIT,    "an allowed-clients line is longer than MS_MAX_ALLOW_LINE") \
  X(MS_ERR_IDKEY_TOO_MANY,        LIMIT,    "the allowed-clients file lists more keys than MS_MAX_ALLOWED_CLIENTS") \
  X(MS_ERR_IDKEY_DUPLICATE,       DECODE,   "the allowed-clients file lists a key twice") \
  X(MS_ERR_IDKEY_EXISTS,          IO,       "the identity key file (or its .pub) exists already: keygen never overwrites one") \
  X(MS_ERR_CLIENT_NO_ID,          PROTO,    "the client sent no identity key, and the supervisor admits only clients on its allow-list") \
  X(MS_ERR_CLIENT_NOT_ALLOWED,    PROTO,    "the client's identity key is not on the supervisor's allow-list") \
  X(MS_ERR_PEER_HS_RATE,          PROTO,    "this address starts handshakes faster than the supervisor's --handshake-rate allows: retry later") \
  X(MS_ERR_PEER_PENDING,          PROTO,    "this address holds as many unfinished handshakes as --pending-per-address allows: retry later") \
  X(MS_ERR_PEER_TABLE_FULL,       LIMIT,    "the supervisor tracks as many client addresses as MS_MAX_PEERS: retry later") \
  /* HARDEN, session-log checkpoints and crash-safe logs (issue 13) */ \
  X(MS_ERR_ALOG_SEALED,           USAGE,    "the log is sealed: nothing may be added after its seal") \
  X(MS_ERR_ALOG_SYNC,             IO,       "the log could not be flushed to disk (fsync failed): a crash could lose its last checkpoint") \
  X(MS_ERR_ALOG_SIGNALS,          INTERNAL, "cannot set up sealing the session log on SIGINT and SIGTERM") \
  /* HARDEN, spec gaps and new-user errors (issue 13) */ \
  X(MS_ERR_HTTP_NOT_TLS,          IO,       "the server does not speak TLS (is it plain HTTP? llm-sim?): the TLS handshake got no TLS answer") \
  X(MS_ERR_HTTP_NO_REPLY,         IO,       "the server closed the connection without answering plain HTTP: if it serves HTTPS, use https://") \
  X(MS_ERR_TLS_KEY_MISMATCH,      USAGE,    "the TLS private key is not the key of the TLS certificate") \
  X(MS_ERR_LISTEN_IN_USE,         IO,       "the listen address's port is in use by another program") \
  X(MS_ERR_HTTP_PIN_NONE,         IO,       "the supervisor binds no TLS key (TLS ends at a proxy in front of it) and TLS proxies are not allowed") \
  /* COMPAT, the reference's interfaces (issue 17) */ \
  X(MS_ERR_COMPAT_HASHFILE,       USAGE,    "the launch-measurement hash file does not hold one SEV-SNP measurement (96 hex digits)") \
  X(MS_ERR_COMPAT_HASHFILE_POLICY, USAGE,   "a launch-measurement hash file needs a policy that accepts SEV-SNP evidence (a sev_snp section)") \
  X(MS_ERR_COMPAT_HASHFILE_TYPE,  ATTEST,   "the supervisor's evidence is not SEV-SNP: the pinned launch measurement cannot be checked") \
  X(MS_ERR_COMPAT_LOG_UNVERIFIED, USAGE,    "the reference's log JSON is printed only from a log that verifies as VALID") \
  /* SERVE, the local OpenAI-compatible gateway and web UI (issue 14) */ \
  X(MS_ERR_SERVE_CONTEXT_ROOT,    USAGE,    "a context path is not inside a folder the operator allowed with --context-root (a symbolic link out of one counts as outside)") \
  X(MS_ERR_SERVE_NO_CONTEXT_ROOT, USAGE,    "the request names context paths, but serve was started without --context-root: send the documents as text or uploads") \
  X(MS_ERR_SERVE_UPLOAD,          USAGE,    "an uploaded document is malformed: it needs a name (1..255 bytes of text, no '/') and base64 data, or text") \
  X(MS_ERR_SERVE_RUN_FIELD,       USAGE,    "a Minions API request may not choose the supervisor, its pin, policy or CA, or the log folder: the operator set those when starting serve") \
  X(MS_ERR_GW_LISTEN_REMOTE,      USAGE,    "serve listens on loopback or a unix socket only, unless --allow-remote says otherwise") \
  X(MS_ERR_GW_KEY_FILE,           USAGE,    "the API key file must be a private file (mode 0600, ours) holding one token of 32..256 printable characters") \
  X(MS_ERR_GW_REQUEST,            USAGE,    "the request is not a chat completion the gateway can serve (see the error's param)") \
  X(MS_ERR_GW_POOL_BUSY,          LIMIT,    "every attested session of serve is busy: retry later or raise --sessions") \
  /* PERF, buffers and concurrency (issue 15) */ \
  /* DEPLOY, install, service, package and scale-out (issue 16) */ \
  /* ATTEST, Azure TDX confidential VMs: az-tdx-vtpm (issue 11) */ \
  X(MS_ERR_HS_HELD_LEN,           PROTO,    "a FAST_HELD ServerHello's evidence is not a 32-byte SHA-256") \
  X(MS_ERR_HS_HELD_EVIDENCE,      PROTO,    "the supervisor referred to evidence this client does not hold") \
  X(MS_ERR_AZ_TDQUOTE_STATUS,     ATTEST,   "Azure's TD quote service answered with an HTTP status other than 200") \
  X(MS_ERR_AZ_TDQUOTE_RESPONSE,   ATTEST,   "Azure's TD quote service's answer is not one JSON object with a base64url \"quote\" within its caps") \
  X(MS_ERR_AZ_TD_MISMATCH,        ATTEST,   "Azure HCL report's TD report is not the TD body of the TDX quote (another TD, or another report)") \
  /* ATTEST, test-time stand-ins and benches (issues 11, 12, 19) */ \
  X(MS_ERR_STANDIN_TPM_FRAME,     DECODE,   "a TPM command or response frame is malformed (tag, or size outside 10..4096)") \
  X(MS_ERR_STANDIN_NV_WRITE,      DECODE,   "a TPM2_NV_Write command is malformed (handles, authorization area, data, offset or trailing bytes)") \
  /* CONFIG */ \
  X(MS_ERR_CONFIG,                USAGE,    "invalid configuration or command-line option") \
  /* PROTOCOLS: Minion and Minions (docs/protocols.md) */ \
  X(MS_ERR_MODEL_OUTPUT,          PROTO,    "a model's reply could not be used (no JSON of the expected form), even after the allowed re-asks") \
  X(MS_ERR_PLAN_INVALID,          PROTO,    "the supervisor's plan is not valid (unknown field, duplicate task id or inconsistent parameters)") \
  X(MS_ERR_PLAN_REFUSED,          LIMIT,    "the supervisor's plan was refused: it needs more than a cap allows (tasks, jobs, chunk size or top_k)")
/* clang-format on */
