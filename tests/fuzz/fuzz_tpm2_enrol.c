/* Fuzz the TPM enrolment decoders: a request (ms_tpm2_enrol_check, _challenge) and a challenge. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/limits.h"
#include "secure/attest/tpm2_enrol.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * swtpm_localca's root and issuer certificates from one swtpm_setup run (test-only CA,
 * keys discarded); corpus/fuzz_tpm2_enrol/request.bin is a request of the swtpm that run
 * made (written by `test_tpm2_ek --write-corpus DIR`), so mutations reach the chain check.
 */
static const char ROOTS[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIEEDCCAnigAwIBAgIULoPtH1dM9jwuh9lz7NJzuMsJJhYwDQYJKoZIhvcNAQEL\n"
    "BQAwHzEdMBsGA1UEAxMUc3d0cG0tbG9jYWxjYS1yb290Y2EwIBcNMjYxMjA2MDMx\n"
    "ODIwWhgPOTk5OTEyMzEyMzU5NTlaMB8xHTAbBgNVBAMTFHN3dHBtLWxvY2FsY2Et\n"
    "cm9vdGNhMIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEAvUmLkxCtpHVQ\n"
    "Uuom25pqsfoxzcngsUl7Yoc0lU1LVAjv/1w2SZvfTnbgrb5WVPlh8C5uWwocQVSm\n"
    "16jpl/nKKdtcjx+0S+jGZK10ykTnFlVLmg9xSYRq5clrV1MU0bDmMfufNwAW1Z+h\n"
    "r9kAMN1vAQ4pWEKcEhTP/WxGRuPk1KVR9ucKopfrJMHsOVzQ2YHQtuav9etPITu9\n"
    "ariK9fxpCWio71/EhdS61LXrhcx95pe1ljPfZIpaxF/k5gj14GybyiRgd01sRH2l\n"
    "GBRLWynOabAfD8VBZrOb6xqfoF4/94GyIl4KzM1owF+eUDOlqN3TLdonnWQ9Dj2G\n"
    "0w1OXzy7Ag5JTDQ0pKU3zV416bZ5dxRktCeEJkMtVMN7glyJArVtzDhX0xOwrP1l\n"
    "UuW6PkL+u17+XgUY3UgGQ5IiqYO8oLTiBbAkqU6l5o5WVsnw+dtNw9HAKoxoCk06\n"
    "LtP/AXvWHXD4qhSg2WHra2qscIX0GIglGuw1FsrurJya8Y+lTZ+TAgMBAAGjQjBA\n"
    "MA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgIEMB0GA1UdDgQWBBQ2aEGK\n"
    "Bd04W+/ZDabBiVLrUEGiazANBgkqhkiG9w0BAQsFAAOCAYEAnrqXqdvrwZOHJgBF\n"
    "vaYXRZKdHvlxEo9MxXjdQodd/VyI/JNicv68ighOZbLBTic2VhCHgriyKHmvf9fR\n"
    "xm23p40uBj9k/TMceqOTA/Dkb3egEvbuzPa+YhUcSkNrSUn8UyRk6ljw/iiAf7gx\n"
    "/cmHhtLZhgTNgYctbB9Duu//IQ1Wp5K1LvXaOMUuBxJSyMYpVWR4Npl3dFwPE6V6\n"
    "Z8QXOqjTVYuxlV7u43Gc0oXX6N4ihf7MceeOyhkwgvf4yPKer49qRvv6lets89jl\n"
    "1M7F+zv86TFm8WdKtBO+oBL1NuW+YjaGr9+ES2nVg7jMAAYgNU8fg10vnywcUnRm\n"
    "qk+rmMX7qOtluz/pr9L/FpaAKuEers/oQxAfRUg4tu4Ycqv/gtXlfjrrXPdJY1zk\n"
    "d/P/ulESdATgstZeD+xCA7ofGDQwClnZMPhNpEmtXZwA4wRnDNKjy/6PjABjbw1X\n"
    "Y22vZ0ZJjz4jvwYdIQI2cJcPYVwBv40LuVOjKfrNf/jXylIc\n"
    "-----END CERTIFICATE-----\n"
    "-----BEGIN CERTIFICATE-----\n"
    "MIIEKjCCApKgAwIBAgIUeXLVB8w9iRxPWM1+l6tgBjyOUt8wDQYJKoZIhvcNAQEL\n"
    "BQAwHzEdMBsGA1UEAxMUc3d0cG0tbG9jYWxjYS1yb290Y2EwIBcNMjYxMjA2MDMx\n"
    "ODIwWhgPOTk5OTEyMzEyMzU5NTlaMBgxFjAUBgNVBAMTDXN3dHBtLWxvY2FsY2Ew\n"
    "ggGiMA0GCSqGSIb3DQEBAQUAA4IBjwAwggGKAoIBgQCyrTO74lPUb7mZ2onAofaP\n"
    "83aGnalCwfxtDuRTfBFYvliwTaZSUD+nuB/+LVmRI+eok7/o1B5ivTkZA1WucbDx\n"
    "QV2CtoIlg0MFooZnj7oFB4eJ+agEJ4nA5pmTZFRsH30VZtwjltHOy/R0fUHN4+JC\n"
    "xE1FOsDzrULvB5/M3EjRm42m5rNWSzKeKq52odVl24t9fNwmuO4OUJSt2EQtlBwN\n"
    "YMckcRyNqiivoe8deCYfyRkmrgXCgiTVR/WYt2ufvvw0nbI/UaOcDJY39hlk9cFa\n"
    "i3efnUtenhPnGuAO1DJzyzBvNGHCRUlXB1MOh0R0yXrJ36IDPF11Iwar9Z1CzM2d\n"
    "ruXf34KWREtD1j67az0+vB41s+DrFIxvTaEXZv4SYyeywyRPliQV/LNDpdMUIBMT\n"
    "piAM9X7b2CzUhttvNjSUUJeHdByU1WZT4fCJO9qQG7MazuvpwDMFi2PcIBQ5HDYu\n"
    "o90jOydJ5DnWU412ulX65GBA67invlOgNQ5JTmHQqU8CAwEAAaNjMGEwDwYDVR0T\n"
    "AQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAgQwHQYDVR0OBBYEFOSbr4X+Qx2UyZ4b\n"
    "/FHwatRv9ZPhMB8GA1UdIwQYMBaAFDZoQYoF3Thb79kNpsGJUutQQaJrMA0GCSqG\n"
    "SIb3DQEBCwUAA4IBgQB2aOcclWw5gZOGfymd9sE59SCFjfsfYz3i1D/fj/js+fPy\n"
    "UALUVc03BkEVuF89k5KpLsEE2/J08+pPeQ8KzYqymFSsK19i32PJRKcfcVsMmyZC\n"
    "pw6FfMpE3qTM5ErC1hqtqbOQk5mdH337/JbiCh3pFwUkwAwW6RdqLUoi1T5m64Fg\n"
    "HPNfMLnibFWj1TN6WA14pDUjZ+LZg/oWs+eR2IGxlQOrmNT9FybSJE/6Z9FoxrWg\n"
    "Nja1hYl67X5PJcg1sg8VJm5tnLoHVMl5KgDFilSsOEtFLIMoDJiGKpHGsY+eVRUC\n"
    "2CVRopqEEXRAr82Ali2JVhHur0tSt1hKb0PiZE5s7a8wgsHpSuwvQrR6D7zNfumL\n"
    "zJ92Ao7QMrt/qCO12ZBQS7L+TnAftIrZF4uRoNbSwYLE5C4GVf5sYWOetySNppXN\n"
    "/d6w/siWjdti7BpeFhdVq9bMM/lQEKOIYenEP6QUL/f2Wi2mI8gA43mnzjrw+zWX\n"
    "J1iEckSYx3x/o6rs/OA=\n"
    "-----END CERTIFICATE-----\n";

#define NOW 1800000000 /* 2027: inside the seed's certificates' validity */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("TSS2_LOG", "all+none", 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t name[MS_TPM2_NAME_LEN], cred[MS_TPM2_ENROL_CRED_LEN];
    ms_buf out;
    memset(cred, 0x5a, sizeof cred);
    ms_err e = ms_tpm2_enrol_check(data, size, (const uint8_t *)ROOTS, sizeof ROOTS - 1, NOW, name);
    if (e != MS_OK && e != MS_ERR_TPM_FORMAT && e != MS_ERR_TPM_EK_CERT &&
        e != MS_ERR_TPM_EK_CHAIN && e != MS_ERR_TPM_AK_ATTRS) {
        __builtin_trap();
    }
    ms_buf_init(&out, MS_TPM2_MAX_ENROL);
    if (ms_tpm2_enrol_challenge(data, size, cred, &out) == MS_OK && out.len == 0) {
        __builtin_trap();
    }
    ms_buf_free(&out);
    /* The challenge decoder runs before the TPM is opened: a TCTI that cannot load ends it. */
    ms_buf_init(&out, 64);
    e = ms_tpm2_enrol_activate("fuzz-no-such-tcti", 0, data, size, &out);
    if (e != MS_ERR_TPM_FORMAT && e != MS_ERR_TPM_DEVICE) {
        __builtin_trap();
    }
    ms_buf_free(&out);
    return 0;
}
