/* hmac: HMAC-SHA256 through OpenSSL's EVP_MAC (see hmac.h). */
#include "core/hmac.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

void
qg_hmac_sha256_hex(const void *key, size_t keylen, const void *a, size_t an, const void *b,
                   size_t bn, const void *c, size_t cn, char out[65])
{
    unsigned char mac[32];
    size_t maclen = 0;
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    /* an empty key is a key of zero bytes; OpenSSL wants a pointer */
    static const unsigned char none[1];
    if (!ctx || !EVP_MAC_init(ctx, keylen ? key : none, keylen, params) ||
        (an && !EVP_MAC_update(ctx, a, an)) || (bn && !EVP_MAC_update(ctx, b, bn)) ||
        (cn && !EVP_MAC_update(ctx, c, cn)) || !EVP_MAC_final(ctx, mac, &maclen, sizeof(mac)) ||
        maclen != sizeof(mac))
        abort(); /* libcrypto without HMAC-SHA256: nothing sensible can follow */
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(m);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[64] = '\0';
}
