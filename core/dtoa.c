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

/* --- decimal text to double ------------------------------------------------------ */

/* Powers of ten a double holds exactly. */
static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* m 10^e (m > 0) rounded to the nearest double, ties to even; false when
 * undecided (see qg_atod).
 *
 * With m and 10^e both exact doubles (m < 2^53, |e| <= 22), one IEEE
 * multiplication or division rounds correctly (Clinger's fast path).
 * Otherwise, as in to_decimal, g(-e) = 10^e 2^(125 - f) + eps with
 * f = floor(e log2 10) and 0 < eps <= 1, so with m shifted to m' =
 * m 2^z (top bit set):
 *     m 10^e = T 2^(f - 125 - z),   T = m' g - m' eps,
 * and the exact product P = m' g (190 bits at most) is above T by less
 * than 2^64. P's top 53 bits, rounded by the bits below them, are T's
 * unless those bits lie within 2^64 above the halfway point: then T may
 * be a tie or on either side of one, and it is left to strtod. (Below
 * the halfway point, T rounds down to the same 53 bits even when it is
 * slightly below P's: the bits it borrows are far more than half.) */
static bool
scaled_to_double(uint64_t m, int e, double *out)
{
    if (m < (uint64_t)1 << 53 && e >= -22 && e <= 22) {
        *out = e < 0 ? (double)m / exact_pow10[-e] : (double)m * exact_pow10[e];
        return true;
    }
    if (-e < K_MIN || -e > K_MAX)
        return false;
    pthread_once(&g_once, table_init);
    int z = __builtin_clzll(m);
    uint64_t mm = m << z;
    uint64_t g1 = g_table[-e - K_MIN].hi, g0 = g_table[-e - K_MIN].lo;
    /* P = mm g1 2^63 + mm g0, in three words p2:p1:p0 (p0 only matters
     * by its carry) */
    u128 a = (u128)mm * g0, b = (u128)mm * g1;
    uint64_t blo = (uint64_t)b, bhi = (uint64_t)(b >> 64);
    uint64_t carry = (uint64_t)(((u128)(blo << 63) + (uint64_t)a) >> 64);
    u128 mid = (u128)((blo >> 1) | (bhi << 63)) + (uint64_t)(a >> 64) + carry;
    uint64_t p1 = (uint64_t)mid;
    uint64_t p2 = (bhi >> 1) + (uint64_t)(mid >> 64);

    /* p2 >= 2^60: the top 53 bits are all in it */
    int bl2 = 64 - __builtin_clzll(p2), s = bl2 - 53;
    uint64_t mant = p2 >> s, rest = p2 & (((uint64_t)1 << s) - 1), half = (uint64_t)1 << (s - 1);
    if (rest == half && p1 <= 1)
        return false; /* within 2^64 (in P's units) of a tie */
    if (rest > half || (rest == half && p1 > 1))
        mant++;
    /* v = mant 2^E */
    int exp2 = 128 + s + flog2_pow10(e) - 125 - z;
    if (mant == (uint64_t)1 << 53) {
        mant >>= 1;
        exp2++;
    }
    int biased = exp2 + 1075; /* mant has 53 bits: v = 1.x 2^(exp2 + 52) */
    if (biased < 1 || biased > 2046)
        return false; /* subnormal or infinite: strtod */
    uint64_t bits = (uint64_t)biased << 52 | (mant & (C_MIN - 1));
    memcpy(out, &bits, sizeof(bits));
    return true;
}

bool
qg_atod(const char *s, size_t n, double *out)
{
    size_t i = 0;
    bool neg = i < n && s[i] == '-';
    i += neg;
    uint64_t m = 0;
    int digits = 0, scale = 0; /* significant digits kept; digits dropped or after the point */
    bool any = false;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        any = true;
        if (digits < 19) {
            m = m * 10 + (uint64_t)(s[i] - '0');
            digits += m != 0;
        } else {
            return false; /* too many digits to hold */
        }
    }
    if (i < n && s[i] == '.') {
        i++;
        size_t f = i;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (digits >= 19)
                return false;
            m = m * 10 + (uint64_t)(s[i] - '0');
            digits += m != 0;
            scale--;
        }
        if (i == f)
            return false; /* "1." : leave it to strtod */
    }
    if (!any && scale == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = i < n && s[i] == '-';
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t d = i;
        int x = 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (x < 100000)
                x = x * 10 + (s[i] - '0');
        if (i == d)
            return false;
        scale += eneg ? -x : x;
    }
    if (i != n)
        return false;
    double v = 0;
    if (m != 0 && !scaled_to_double(m, scale, &v))
        return false;
    *out = neg ? -v : v;
    return true;
}
