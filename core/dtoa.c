/*
 * dtoa: shortest round-trip decimals of doubles (see dtoa.h).
 *
 * The method is Raffaello Giulietti's "Schubfach" (The Schubfach way to
 * render doubles, 2020), written here from the paper. In short:
 *
 * A positive double is v = c 2^q (c the significand with its hidden bit, q
 * the exponent). The reals that round to v form an interval around it,
 * [v - 2^q / 2, v + 2^q / 2], ends included when c is even; when c is the
 * smallest normal significand (a power of two), the double below is half as
 * far and the lower end is v - 2^q / 4. Scaled by 4 (so that both ends are
 * integers) the ends are cbl = 4c - 2 (or 4c - 1) and cbr = 4c + 2.
 *
 * k is chosen so that the interval, multiplied by 10^-k, is between 1 and
 * 10 wide (k = floor(log10 2^q), or floor(log10 3/4 2^q) for the narrow
 * case). Then s = floor(v 10^-k) and s + 1 bracket v, and at least one of
 * them lies in the interval; at most one multiple of 10 does. So:
 *   - if exactly one of the multiples of 10 around s is inside, it is the
 *     shortest decimal (one digit fewer than s); when a multiple of 100 or
 *     more is inside, it is that one, and its trailing zeros go;
 *   - otherwise the shortest have as many digits as s: s or s + 1, and
 *     when both are inside, the closer to v (on a tie, the even one).
 *
 * The products v 10^-k are computed with a 126-bit g ~ 10^-k 2^-r (just
 * above it) and "round to odd": rop(x) = floor(x), with the lowest bit set
 * when bits below the point were dropped. The paper proves that for every
 * double, the rounded-to-odd products compare with the even integers
 * 4s, 4(s + 1), ... exactly as the real numbers do, which is all the
 * decisions above need. rop below computes exactly the paper's r_o'.
 *
 * The table of g for each k (617 pairs of 63-bit halves) is computed on the
 * first call from its definition, with exact integers: g = floor(10^-k
 * 2^-r) + 1, r chosen so that 2^125 <= g < 2^126.
 */
#include "core/dtoa.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

#define Q_MIN  (-1074)             /* v = c 2^Q_MIN for the subnormals */
#define C_MIN  ((uint64_t)1 << 52) /* the smallest normal significand */
#define K_MIN  (-324)
#define K_MAX  292
#define MASK63 (((uint64_t)1 << 63) - 1)

/* floor(q log10 2), floor(log10(3/4 2^q)) and floor(e log2 10) with
 * fixed-point constants, exact far beyond the exponents of doubles (the
 * paper gives |q| <= 5456721; checked against exact integers for |q| and
 * |e| up to 1200). Right shifts of negative values are arithmetic with
 * every compiler qgate builds with. */
static inline int
flog10_pow2(int q)
{
    return (int)((int64_t)q * 661971961083 >> 41);
}

static inline int
flog10_three_quarters_pow2(int q)
{
    return (int)(((int64_t)q * 661971961083 - 274743187321) >> 41);
}

static inline int
flog2_pow10(int e)
{
    return (int)((int64_t)e * 913124641741 >> 38);
}

/* g for k = K_MIN .. K_MAX, as g = hi 2^63 + lo. */
static struct {
    uint64_t hi, lo;
} g_table[K_MAX - K_MIN + 1];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* --- exact integers, for the table only ----------------------------------- */

/* 10^324 < 2^1077: 34 limbs of 32 bits hold every power of ten needed. */
#define BIG_LIMBS 36

typedef struct big {
    uint32_t w[BIG_LIMBS]; /* little-endian */
    int n;                 /* limbs in use; w[n - 1] != 0 */
} big;

static void
big_mul10(big *x)
{
    uint64_t carry = 0;
    for (int i = 0; i < x->n; i++) {
        uint64_t p = (uint64_t)x->w[i] * 10 + carry;
        x->w[i] = (uint32_t)p;
        carry = p >> 32;
    }
    if (carry)
        x->w[x->n++] = (uint32_t)carry;
}

static int
big_bitlen(const big *x)
{
    return (x->n - 1) * 32 + (32 - __builtin_clz(x->w[x->n - 1]));
}

/* floor(x / 2^s) mod 2^128. */
static u128
big_bits(const big *x, int s)
{
    u128 r = 0;
    for (int i = 0; i < 128; i++) {
        int b = s + i, limb = b / 32;
        if (limb < x->n && (x->w[limb] >> (b % 32) & 1))
            r |= (u128)1 << i;
    }
    return r;
}

static int
big_cmp(const big *a, const big *b)
{
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (int i = a->n - 1; i >= 0; i--)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

/* a -= b, with a >= b. */
static void
big_sub(big *a, const big *b)
{
    int64_t borrow = 0;
    for (int i = 0; i < a->n; i++) {
        int64_t d = (int64_t)a->w[i] - (i < b->n ? b->w[i] : 0) - borrow;
        borrow = d < 0;
        a->w[i] = (uint32_t)(d + (borrow ? (int64_t)1 << 32 : 0));
    }
    while (a->n > 1 && a->w[a->n - 1] == 0)
        a->n--;
}

static void
big_shl1(big *a)
{
    uint32_t carry = 0;
    for (int i = 0; i < a->n; i++) {
        uint32_t top = a->w[i] >> 31;
        a->w[i] = a->w[i] << 1 | carry;
        carry = top;
    }
    if (carry)
        a->w[a->n++] = carry;
}

/* floor(2^n / d), for a d that is not a power of two and a quotient below
 * 2^128: binary long division, starting where the first quotient bit can
 * appear (2^j < d for j = bitlen(d) - 1). */
static u128
big_div_pow2(const big *d, int n)
{
    int j = big_bitlen(d) - 1;
    big r = {{0}, j / 32 + 1};
    r.w[j / 32] = (uint32_t)1 << (j % 32);
    u128 q = 0;
    for (int i = j; i < n; i++) {
        big_shl1(&r);
        q <<= 1;
        if (big_cmp(&r, d) >= 0) {
            big_sub(&r, d);
            q |= 1;
        }
    }
    return q;
}

static void
table_set(int k, u128 g)
{
    g_table[k - K_MIN].hi = (uint64_t)(g >> 63);
    g_table[k - K_MIN].lo = (uint64_t)g & MASK63;
}

/* g(k) = floor(10^-k 2^(125 - f)) + 1 with f = floor(-k log2 10), so that
 * 10^-k 2^(125 - f) lies in [2^125, 2^126). */
static void
table_init(void)
{
    big p = {{1}, 1}; /* 10^m */
    for (int m = 0; m <= -K_MIN; m++) {
        if (m > 0)
            big_mul10(&p);
        /* k = -m: 10^m 2^(125 - f); 10^m < 2^(f + 1) */
        int f = flog2_pow10(m);
        u128 g = f <= 125 ? big_bits(&p, 0) << (125 - f) : big_bits(&p, f - 125);
        table_set(-m, g + 1);
        /* k = m: 2^(125 - f) / 10^m, f = floor(-m log2 10) */
        if (m >= 1 && m <= K_MAX)
            table_set(m, big_div_pow2(&p, 125 - flog2_pow10(-m)) + 1);
    }
}

/* --- the conversion ------------------------------------------------------------ */

/* Round to odd of g cp 2^-127 as the paper defines r_o': the bits of the
 * product below 2^64 are not looked at (they only hold the error of g). */
static inline uint64_t
rop(uint64_t g1, uint64_t g0, uint64_t cp)
{
    uint64_t x1 = (uint64_t)((u128)g0 * cp >> 64);
    u128 y = (u128)g1 * cp;
    uint64_t z = ((uint64_t)y >> 1) + x1;
    uint64_t vbp = (uint64_t)(y >> 64) + (z >> 63);
    return vbp | (((z & MASK63) + MASK63) >> 63);
}

static const uint64_t pow10_u64[] = {
    1,
    10,
    100,
    1000,
    10000,
    100000,
    1000000,
    10000000,
    100000000,
    1000000000,
    10000000000,
    100000000000,
    1000000000000,
    10000000000000,
    100000000000000,
    1000000000000000,
    10000000000000000,
    100000000000000000,
    1000000000000000000,
};

/* d 10^e without d's trailing zeros, with its digit count. */
static qg_decimal
decimal(uint64_t d, int e)
{
    while (d % 10 == 0) {
        d /= 10;
        e++;
    }
    int n = 1;
    while (n < 18 && d >= pow10_u64[n])
        n++;
    return (qg_decimal){d, e, n};
}

/* The shortest decimal in the rounding interval of c 2^q. */
static qg_decimal
to_decimal(int q, uint64_t c)
{
    uint64_t out = c & 1; /* 1: the interval's ends are excluded */
    uint64_t cb = c << 2, cbr = cb + 2, cbl;
    int k;
    if (c != C_MIN || q == Q_MIN) {
        cbl = cb - 2;
        k = flog10_pow2(q);
    } else {
        cbl = cb - 1;
        k = flog10_three_quarters_pow2(q);
    }
    /* cb << h < 2^59: h is 1 to 4 */
    int h = q + flog2_pow10(-k) + 2;
    uint64_t g1 = g_table[k - K_MIN].hi, g0 = g_table[k - K_MIN].lo;
    uint64_t vb = rop(g1, g0, cb << h);
    uint64_t vbl = rop(g1, g0, cbl << h);
    uint64_t vbr = rop(g1, g0, cbr << h);

    /* One digit fewer: the multiples of 10 around s. (The paper's Java
     * code looks only when s >= 100, because Java wants two digits at
     * least; the shortest may have one: 5e-324. sp10 may be 0 then, which
     * is never inside.) */
    uint64_t s = vb >> 2;
    uint64_t sp10 = s / 10 * 10, tp10 = sp10 + 10;
    bool upin = vbl + out <= sp10 << 2;
    bool wpin = (tp10 << 2) + out <= vbr;
    if (upin != wpin)
        return decimal(upin ? sp10 : tp10, k);
    uint64_t t = s + 1;
    bool uin = vbl + out <= s << 2;
    bool win = (t << 2) + out <= vbr;
    if (uin != win)
        return decimal(uin ? s : t, k);
    /* both inside: the closer to v, whose 4-fold is vb; the midpoint of s
     * and t is 4s + 2 */
    uint64_t mid = (s + t) << 1;
    bool below = vb < mid || (vb == mid && (s & 1) == 0);
    return decimal(below ? s : t, k);
}

qg_decimal
qg_dtoa(double v)
{
    pthread_once(&g_once, table_init);
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    uint64_t t = bits & (C_MIN - 1);
    int bq = (int)(bits >> 52) & 0x7FF;
    if (bq != 0) {
        int mq = 1075 - bq; /* -q */
        uint64_t c = C_MIN | t;
        /* an integer below 2^53: its own digits */
        if (mq > 0 && mq < 53) {
            uint64_t f = c >> mq;
            if (f << mq == c)
                return decimal(f, 0);
        }
        return to_decimal(-mq, c);
    }
    return to_decimal(Q_MIN, t);
}
