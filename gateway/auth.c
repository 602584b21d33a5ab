/* auth: bearer-token principals (see auth.h). */
#include "gateway/auth.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/config.h"
#include "core/duration.h"
#include "core/mem.h"
#include "core/hex.h"

void
gw_sha256(const void *s, size_t n, unsigned char out[32])
{
    unsigned int len = 32;
    EVP_Digest(s, n, out, &len, EVP_sha256(), NULL);
}

static bool
parse_digest(const char *hex, unsigned char out[32])
{
    if (strlen(hex) != 64)
        return false;
    for (int i = 0; i < 32; i++) {
        int hi = qg_hex_value((unsigned char)hex[2 * i]),
            lo = qg_hex_value((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

static bool
valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(((gw_principal *)0)->name))
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.' && *s != '@')
            return false;
    return true;
}

/* One KEY=VALUE option of a principal's line; false when it is not one. */
static bool
parse_option(const char *w, gw_principal *p)
{
    const char *eq = strchr(w, '=');
    if (!eq || !eq[1])
        return false;
    size_t k = (size_t)(eq - w);
    const char *v = eq + 1;
    uint64_t u;
    char *end;
    if (k == 6 && strncmp(w, "weight", k) == 0) {
        unsigned long n = strtoul(v, &end, 10);
        if (*end || n < 1 || n > 1000 || !isdigit((unsigned char)*v))
            return false;
        p->weight = (unsigned)n;
        return true;
    }
    if ((k == 10 && strncmp(w, "max-queued", k) == 0) ||
        (k == 11 && strncmp(w, "max-running", k) == 0)) {
        unsigned long n = strtoul(v, &end, 10);
        if (*end || n > 100000000 || !isdigit((unsigned char)*v))
            return false;
        *(k == 10 ? &p->max_queued : &p->max_running) = (long long)n;
        return true;
    }
    if (k == 12 && strncmp(w, "result-quota", k) == 0) {
        if (qg_parse_size(v, &u) != 0 || u > (uint64_t)1 << 60)
            return false;
        p->result_quota = (long long)u;
        return true;
    }
    if ((k == 7 && strncmp(w, "timeout", k) == 0) ||
        (k == 11 && strncmp(w, "max-timeout", k) == 0)) {
        if (qg_duration_parse(v, strlen(v), &u) != 0 || u > (uint64_t)1 << 62)
            return false;
        *(k == 7 ? &p->timeout_ns : &p->max_timeout_ns) = (long long)u;
        return true;
    }
    return false;
}

/* The words of one line after the digest: readonly and options. */
static bool
parse_rest(char **words, int nw, gw_principal *p)
{
    p->weight = 1;
    p->max_queued = p->max_running = p->result_quota = p->timeout_ns = p->max_timeout_ns = -1;
    for (int i = 2; i < nw; i++) {
        if (strcmp(words[i], "readonly") == 0)
            p->readonly = true;
        else if (!parse_option(words[i], p))
            return false;
    }
    return true;
}

int
gw_auth_load(const char *path, gw_auth *out, char *err, size_t errlen)
{
    out->v = NULL;
    out->n = 0;
    struct stat st;
    FILE *f = fopen(path, "r");
    if (!f || fstat(fileno(f), &st) != 0) {
        snprintf(err, errlen, "--auth-file %s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errlen,
                 "--auth-file %s: group or others may access it (mode %03o); chmod 600 it", path,
                 (unsigned)(st.st_mode & 0777));
        fclose(f);
        return -1;
    }
    char line[512];
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *words[16] = {0};
        int nw = 0;
        bool toolong = false;
        for (char *tok = strtok(line, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
            toolong |= nw == 16;
            words[nw < 16 ? nw++ : 15] = tok;
        }
        if (nw == 0)
            continue;
        gw_principal p = {0};
        bool ok = nw >= 2 && !toolong && valid_name(words[0]) && parse_digest(words[1], p.digest) &&
                  parse_rest(words, nw, &p);
        if (ok) {
            snprintf(p.name, sizeof(p.name), "%s", words[0]);
            for (size_t i = 0; i < out->n && ok; i++)
                ok = strcmp(out->v[i].name, p.name) != 0 &&
                     memcmp(out->v[i].digest, p.digest, 32) != 0;
        }
        if (!ok) {
            snprintf(err, errlen,
                     "--auth-file %s:%d: expected `NAME SHA256_HEX [readonly] [weight=N] "
                     "[max-queued=N] [max-running=N] [result-quota=SIZE] [timeout=DURATION] "
                     "[max-timeout=DURATION]` with a unique name and digest",
                     path, lineno);
            fclose(f);
            gw_auth_free(out);
            return -1;
        }
        out->v = qg_realloc(out->v, (out->n + 1) * sizeof(gw_principal));
        out->v[out->n++] = p;
    }
    fclose(f);
    return 0;
}

void
gw_auth_free(gw_auth *a)
{
    free(a->v);
    a->v = NULL;
    a->n = 0;
}

const gw_principal *
gw_auth_find(const gw_auth *a, const char *name)
{
    if (!a || !name)
        return NULL;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].name, name) == 0)
            return &a->v[i];
    return NULL;
}

const gw_principal *
gw_auth_check(const gw_auth *a, const char *authorization)
{
    if (!a || !authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return NULL;
    const char *token = authorization + 7;
    while (*token == ' ')
        token++;
    size_t n = strlen(token);
    while (n && token[n - 1] == ' ')
        n--;
    if (n == 0)
        return NULL;
    unsigned char d[32];
    gw_sha256(token, n, d);
    /* Compare with every principal, always all 32 bytes: the time taken
     * says nothing about which digest came close. */
    const gw_principal *found = NULL;
    for (size_t i = 0; i < a->n; i++) {
        unsigned char diff = 0;
        for (int k = 0; k < 32; k++)
            diff |= (unsigned char)(a->v[i].digest[k] ^ d[k]);
        volatile unsigned char v = diff;
        if (v == 0)
            found = &a->v[i];
    }
    return found;
}
