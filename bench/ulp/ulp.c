/* Accuracy sweeps for the fastact transcendental kernels.
 * float: every finite float32 input, the three builds (baseline SSE2, AVX2+FMA
 * and AVX-512 loops from vec.c) against a double-precision reference.
 * double: random + binade inputs against long double (__float128 for gelu).
 * ULP = |y - ref| / ulp(ref), with an absolute floor FLT_MIN / DBL_MIN, and for
 * derivatives with a root (silu, swish, mish, gelu) an absolute floor
 * 2^-23 / 2^-52 (g = 1) within 0.3 of the root.
 * f32same: no reference; are the AVX-512 results bitwise the AVX2+FMA ones? */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <float.h>
#include <quadmath.h>
#include <omp.h>
#include "table.h"

#define R double
#define RN(n) n##_r
#define REXP exp
#define REXPM1 expm1
#define RLOG1P log1p
#define RTANH tanh
#define RERFC erfc
#define RSQRT sqrt
#define RFABS fabs
#define RPI 3.14159265358979323846
#include "ref_impl.h"
#undef R
#undef RN
#undef REXP
#undef REXPM1
#undef RLOG1P
#undef RTANH
#undef RERFC
#undef RSQRT
#undef RFABS
#undef RPI
#define R long double
#define RN(n) n##_l
#define REXP expl
#define REXPM1 expm1l
#define RLOG1P log1pl
#define RTANH tanhl
#define RERFC erfcl
#define RSQRT sqrtl
#define RFABS fabsl
#define RPI 3.141592653589793238462643383279502884L
#include "ref_impl.h"
#undef R
#undef RN
#undef REXP
#undef REXPM1
#undef RLOG1P
#undef RTANH
#undef RERFC
#undef RSQRT
#undef RFABS
#undef RPI
#define R __float128
#define RN(n) n##_q
#define REXP expq
#define REXPM1 expm1q
#define RLOG1P log1pq
#define RTANH tanhq
#define RERFC erfcq
#define RSQRT sqrtq
#define RFABS fabsq
#define RPI M_PIq
#include "ref_impl.h"

static const double ROOT[] = {[K_SILU] = -1.2784645, [K_SWISH] = -1.2784645, [K_MISH] = -1.1915740,
                              [K_GELU_ERF] = -0.7517916, [K_GELU_TANH] = -0.7524, [K_TANHSHRINK] = 1e9,
                              [K_SIGMOID] = 1e9, [K_TANH] = 1e9, [K_SOFTPLUS] = 1e9, [K_LOG_SIGMOID] = 1e9,
                              [K_ELU] = 1e9, [K_SELU] = 1e9, [K_CELU] = 1e9,
                              [K_CELU_NEG] = 1e9, [K_SQUAREPLUS] = 1e9};

typedef struct { double ulp, x, absmax, xabs; long bad; } stat;
static void upd(stat *s, double e, double x, double ae)
{
    if (e > s->ulp) { s->ulp = e; s->x = x; }
    if (ae > s->absmax) { s->absmax = ae; s->xabs = x; }
}
/* error of y vs ref r in ulps of type with p mantissa bits; tiny = MIN normal */
static double ulperr(double y, long double r, int p, long double tiny, long double maxv, double floor_, double *ae, long *bad)
{
    *ae = 0;
    if (isnan(r)) { if (!isnan(y)) (*bad)++; return 0; }
    if (isnan(y)) { (*bad)++; return 0; }
    if (fabsl(r) > maxv) { if (!(isinf(y) && (y > 0) == (r > 0))) (*bad)++; return 0; }
    long double d = fabsl((long double)y - r);
    *ae = (double)d;
    if (d <= tiny || d <= floor_) return 0;
    long double u = fabsl(r) >= tiny ? ldexpl(1.0L, ilogbl(r) - (p - 1)) : tiny * ldexpl(1.0L, -(p - 1));
    return (double)(d / u);
}

/* ulperr for float results against a double reference, in double arithmetic:
 * the reference and the float result both fit a double, so |y - r| is correct
 * to 2^-53 relative and the ulp of r comes from its exponent bits.  Same
 * definitions as ulperr with p = 24, tiny = FLT_MIN, maxv = FLT_MAX. */
static double ulperr_f(float y, double r, double floor_, double *ae, long *bad)
{
    *ae = 0;
    if (isnan(r)) { if (!isnan(y)) (*bad)++; return 0; }
    if (isnan(y)) { (*bad)++; return 0; }
    /* FLT_MAX + half an ulp and above rounds to inf; below it, to FLT_MAX */
    if (fabs(r) >= 0x1.ffffffp127) { if (!(isinf(y) && (y > 0) == (r > 0))) (*bad)++; return 0; }
    double d = fabs((double)y - r);
    *ae = d;
    if (d <= FLT_MIN || d <= floor_) return 0;
    uint64_t b; double ar = fabs(r); memcpy(&b, &ar, 8);
    /* 2^(exponent(r) - 23): keep the exponent field, clear the mantissa */
    b &= 0x7ff0000000000000ull;
    double u; memcpy(&u, &b, 8);
    u = ar >= FLT_MIN ? u * 0x1p-23 : FLT_MIN * 0x1p-23;
    return d / u;
}

static int use_kid(const char *only, const kent *k)
{
    if (!only || !*only) return 1;
    /* ",name," selects every kind of a kernel, ",name kind," one (e.g. ",tanh bwd,") */
    char key[80]; snprintf(key, sizeof key, ",%s,", k->name);
    if (strstr(only, key)) return 1;
    snprintf(key, sizeof key, ",%s %s,", k->name, k->kind);
    return strstr(only, key) != NULL;
}

/* The _v4 loops are AVX-512 code: call them only where the CPU (and OS) has the
 * features the package's x86_64_v4 target requires, else print n/a. */
static int have_v4(void)
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}
static int NV;   /* builds swept: 2 (baseline, AVX2+FMA) or 3 (+ AVX-512) */

static void merge(stat *s, const stat *l)
{
    if (l->ulp > s->ulp) { s->ulp = l->ulp; s->x = l->x; }
    if (l->absmax > s->absmax) { s->absmax = l->absmax; s->xabs = l->xabs; }
    s->bad += l->bad;
}

/* s[0] baseline, s[1] AVX2+FMA, s[2] AVX-512 (if NV == 3) */
static void sweep_float(const kent *k, long stride, stat *s)
{
    const long CH = 1 << 16;
    const long NCH = (1L << 32) / CH;
    double pf[4];   /* the kernel sees the parameters rounded to float */
    for (int i = 0; i < 4; i++) pf[i] = (double)(float)k->p[i];
    memset(s, 0, 3 * sizeof *s);
    #pragma omp parallel
    {
        float *x = malloc(CH * 4), *g = malloc(CH * 4), *xi = malloc(CH * 4), *y[3];
        for (int v = 0; v < 3; v++) y[v] = malloc(CH * 4);
        loop_f fn[3] = {k->fb, k->fv, k->fw};
        stat l[3] = {{0}};
        long lastbad = 0;
        #pragma omp for schedule(dynamic, 16)
        for (long c = 0; c < NCH; c++) {
            long n = 0;
            for (long i = 0; i < CH; i += stride) {
                uint32_t u = (uint32_t)(c * CH + i);
                if ((u & 0x7f800000u) == 0x7f800000u) continue;
                memcpy(&x[n], &u, 4); g[n] = 1.0f; n++;
            }
            if (!n) continue;
            const float *in = x;
            if (k->kindid == 2) { for (long i = 0; i < n; i++) xi[i] = (float)ref_r(k->kid, 0, x[i], pf, 1); in = xi; }
            for (int v = 0; v < NV; v++) fn[v](n, in, g, y[v], k->p[0], k->p[1], k->p[2], k->p[3]);
            for (long i = 0; i < n; i++) {
                /* bwdy: an overflowed y = +-inf no longer says which x it came from */
                if (k->kindid == 2 && isinf(xi[i])) continue;
                double r = ref_r(k->kid, k->kindid ? 1 : 0, x[i], pf, 1);
                double xb = k->kid == K_SWISH ? k->p[0] * x[i] : x[i];
                double fl = (k->kindid && fabs(xb - ROOT[k->kid]) < 0.3) ? 0x1p-23 : 0;
                double ae = 0, e = 0;
                for (int v = 0; v < NV; v++) {
                    /* a build that gave the previous build's bits has its error */
                    if (v == 0 || memcmp(&y[v][i], &y[v - 1][i], 4)) {
                        long b0 = l[v].bad;
                        e = ulperr_f(y[v][i], r, fl, &ae, &l[v].bad);
                        lastbad = l[v].bad - b0;
                    } else l[v].bad += lastbad;
                    upd(&l[v], e, x[i], ae);
                }
            }
        }
        #pragma omp critical
        for (int v = 0; v < NV; v++) merge(&s[v], &l[v]);
        free(x); free(g); free(xi);
        for (int v = 0; v < 3; v++) free(y[v]);
    }
}

/* f32same: v4 vs v3 bit for bit on every float32 bit pattern (stride 1),
 * NaN and inf included, g = 1.  bwdy takes y as its input, so its rows are
 * fed every bit pattern as y too (all inputs it can get, not only the
 * correctly rounded f(x) of the accuracy sweep): no reference is needed. */
#define NSAMP 4
typedef struct { long ndiff, nnan; uint32_t maxd; long ns; uint32_t in[NSAMP], b3[NSAMP], b4[NSAMP]; } same;
static void same_add(same *s, uint32_t in, uint32_t b3, uint32_t b4)
{
    /* keep the NSAMP lowest input bit patterns (chunks may come out of order) */
    if (s->ns == NSAMP && in >= s->in[NSAMP - 1]) return;
    long j = s->ns < NSAMP ? s->ns++ : NSAMP - 1;
    for (; j > 0 && s->in[j - 1] > in; j--) { s->in[j] = s->in[j - 1]; s->b3[j] = s->b3[j - 1]; s->b4[j] = s->b4[j - 1]; }
    s->in[j] = in; s->b3[j] = b3; s->b4[j] = b4;
}
static void same_float(const kent *k, long stride, same *s)
{
    const long CH = 1 << 16;
    const long NCH = (1L << 32) / CH;
    memset(s, 0, sizeof *s);
    #pragma omp parallel
    {
        uint32_t *x = malloc(CH * 4), *y3 = malloc(CH * 4), *y4 = malloc(CH * 4);
        float *g = malloc(CH * 4);
        for (long i = 0; i < CH; i++) g[i] = 1.0f;
        same l = {0};
        #pragma omp for schedule(dynamic, 16)
        for (long c = 0; c < NCH; c++) {
            long n = 0;
            for (long i = 0; i < CH; i += stride) x[n++] = (uint32_t)(c * CH + i);
            k->fv(n, (const float *)x, g, (float *)y3, k->p[0], k->p[1], k->p[2], k->p[3]);
            k->fw(n, (const float *)x, g, (float *)y4, k->p[0], k->p[1], k->p[2], k->p[3]);
            for (long i = 0; i < n; i++) {
                if (y3[i] == y4[i]) continue;
                /* both NaN: only the payload or sign differs; counted apart */
                if ((y3[i] & 0x7fffffffu) > 0x7f800000u && (y4[i] & 0x7fffffffu) > 0x7f800000u) { l.nnan++; continue; }
                l.ndiff++;
                /* distance in float ulps when both are finite and of one sign */
                if ((y3[i] ^ y4[i]) >> 31 == 0 && (y3[i] & 0x7fffffffu) < 0x7f800000u && (y4[i] & 0x7fffffffu) < 0x7f800000u) {
                    uint32_t d = y3[i] > y4[i] ? y3[i] - y4[i] : y4[i] - y3[i];
                    if (d > l.maxd) l.maxd = d;
                } else l.maxd = UINT32_MAX;
                same_add(&l, x[i], y3[i], y4[i]);
            }
        }
        #pragma omp critical
        {
            s->ndiff += l.ndiff; s->nnan += l.nnan;
            if (l.maxd > s->maxd) s->maxd = l.maxd;
            for (long j = 0; j < l.ns; j++) same_add(s, l.in[j], l.b3[j], l.b4[j]);
        }
        free(x); free(y3); free(y4); free(g);
    }
}

static uint64_t rng_s = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) { rng_s ^= rng_s << 13; rng_s ^= rng_s >> 7; rng_s ^= rng_s << 17; return rng_s; }

static double *dpts; static long ndp;
static void make_dpts(long nrand)
{
    ndp = 0; dpts = malloc((nrand + 2 * 2100 * 64 + 16) * sizeof(double));
    for (long i = 0; i < nrand; i++) {
        uint64_t r = rnd(); double v;
        switch (i % 4) {
        case 0: memcpy(&v, &r, 8); if (!isfinite(v)) continue; break;                 /* all binades */
        case 1: v = ((double)(r >> 11) * 0x1p-53 - 0.5) * 80; break;                  /* [-40, 40] */
        case 2: v = ((double)(r >> 11) * 0x1p-53 - 0.5) * 4; break;                   /* [-2, 2] */
        default: v = -((double)(r >> 11) * 0x1p-53) * 750; break;                     /* [-750, 0] */
        }
        dpts[ndp++] = v;
    }
    for (int e = -1074; e <= 1023; e++)
        for (int j = 0; j < 64; j++) {
            double m = 1 + j / 64.0 + (double)(rnd() >> 11) * 0x1p-59;
            double v = e < -1022 ? ldexp(1.0, e) * (1 + j) : ldexp(m, e);
            dpts[ndp++] = v; dpts[ndp++] = -v;
        }
}

static void sweep_double(const kent *k, stat *s)
{
    const long CH = 4096;
    memset(s, 0, 3 * sizeof *s);
    int useq = k->kid == K_GELU_ERF || k->kid == K_GELU_TANH || k->kid == K_TANHSHRINK;
    #pragma omp parallel
    {
        double *g = malloc(CH * 8), *xi = malloc(CH * 8), *y[3];
        for (int v = 0; v < 3; v++) y[v] = malloc(CH * 8);
        loop_d fn[3] = {k->db, k->dv, k->dw};
        stat l[3] = {{0}};
        for (long i = 0; i < CH; i++) g[i] = 1.0;
        #pragma omp for schedule(dynamic, 4)
        for (long c = 0; c < ndp; c += CH) {
            long n = ndp - c < CH ? ndp - c : CH;
            const double *x = dpts + c, *in = x;
            if (k->kindid == 2) { for (long i = 0; i < n; i++) xi[i] = (double)ref_l(k->kid, 0, x[i], k->p, 0); in = xi; }
            for (int v = 0; v < NV; v++) fn[v](n, in, g, y[v], k->p[0], k->p[1], k->p[2], k->p[3]);
            for (long i = 0; i < n; i++) {
                long double r = useq ? (long double)ref_q(k->kid, k->kindid ? 1 : 0, x[i], k->p, 0)
                                     : ref_l(k->kid, k->kindid ? 1 : 0, x[i], k->p, 0);
                double xb = k->kid == K_SWISH ? k->p[0] * x[i] : x[i];
                double fl = (k->kindid && fabs(xb - ROOT[k->kid]) < 0.3) ? 0x1p-52 : 0;
                double ae;
                for (int v = 0; v < NV; v++) {
                    double e = ulperr(y[v][i], r, 53, DBL_MIN, DBL_MAX, fl, &ae, &l[v].bad); upd(&l[v], e, x[i], ae);
                }
            }
        }
        #pragma omp critical
        for (int v = 0; v < NV; v++) merge(&s[v], &l[v]);
        free(g); free(xi);
        for (int v = 0; v < 3; v++) free(y[v]);
    }
}

static void pname(const kent *k, char *buf)
{
    int np = k->p[0] != 0 || k->p[1] != 0;
    if (np) sprintf(buf, "%s %s (%g,%g)", k->name, k->kind, k->p[0], k->p[1]);
    else sprintf(buf, "%s %s", k->name, k->kind);
}

/* the AVX-512 column: max ULP and where, or n/a on a CPU without it */
static void pv4(const stat *s, const char *xfmt)
{
    if (NV < 3) { printf(" n/a (no AVX-512 here) | n/a |"); return; }
    printf(" %.3f | ", s->ulp); printf(xfmt, s->x); printf(" |");
}

int main(int argc, char **argv)
{
    /* usage: ulp [f32|f32same|f64|all] [stride] [name-filter] */
    const char *mode = argc > 1 ? argv[1] : "all";
    long stride = argc > 2 ? atol(argv[2]) : 1;
    const char *only = argc > 3 ? argv[3] : NULL;
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) { fprintf(stderr, "needs AVX2+FMA CPU\n"); return 1; }
    NV = have_v4() ? 3 : 2;
    char nm[128];
    if (!strcmp(mode, "f32same")) {
        printf("## float32: AVX-512 (x86_64_v4) vs AVX2+FMA results, bit for bit, %s (stride %ld), g = 1\n\n",
               stride == 1 ? "every one of the 2^32 bit patterns (NaN, inf included)" : "strided bit patterns", stride);
        if (NV < 3) { printf("n/a (no AVX-512 here)\n"); return 0; }
        printf("bwdy rows take every bit pattern as y. 'NaN payload only': both NaN, bits differ.\n"
               "'max ulp apart': largest distance in float ulps among the differing finite same-sign pairs\n"
               "(inf if some pair is not). First differing inputs (lowest bit pattern first): input, v3 bits, v4 bits.\n\n");
        printf("| kernel | v4 vs v3 | NaN payload only | max ulp apart | first differing inputs |\n|---|---|---|---|---|\n");
        for (size_t i = 0; i < NKTAB; i++) {
            if (!use_kid(only, &KTAB[i])) continue;
            same s; double t0 = omp_get_wtime();
            same_float(&KTAB[i], stride, &s);
            pname(&KTAB[i], nm);
            if (!s.ndiff) printf("| %s | identical | %ld | | |\n", nm, s.nnan);
            else {
                printf("| %s | %ld differ | %ld | ", nm, s.ndiff, s.nnan);
                if (s.maxd == UINT32_MAX) printf("inf |"); else printf("%u |", s.maxd);
                for (long j = 0; j < s.ns; j++) {
                    float xf; memcpy(&xf, &s.in[j], 4);
                    printf(" %.9g (0x%08x): 0x%08x / 0x%08x;", xf, s.in[j], s.b3[j], s.b4[j]);
                }
                printf(" |\n");
            }
            fflush(stdout);
            fprintf(stderr, "%s: %.1f s\n", nm, omp_get_wtime() - t0);
        }
        return 0;
    }
    if (!strcmp(mode, "f32") || !strcmp(mode, "all")) {
        printf("## float32: %s finite inputs (stride %ld), reference = double\n\n",
               stride == 1 ? "all 2^32 - 2^24" : "strided", stride);
        printf("| kernel | max ULP baseline (no FMA) | at x | max ULP AVX2+FMA | at x | max ULP AVX-512 | at x | max abs err (FMA) | bad specials (base/v3/v4) |\n|---|---|---|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < NKTAB; i++) {
            if (!use_kid(only, &KTAB[i])) continue;
            stat s[3]; double t0 = omp_get_wtime();
            sweep_float(&KTAB[i], stride, s);
            pname(&KTAB[i], nm);
            printf("| %s | %.3f | %.9g | %.3f | %.9g |", nm, s[0].ulp, s[0].x, s[1].ulp, s[1].x);
            pv4(&s[2], "%.9g");
            printf(" %.3g at %.6g | %ld/%ld/", s[1].absmax, s[1].xabs, s[0].bad, s[1].bad);
            if (NV < 3) printf("n/a |\n"); else printf("%ld |\n", s[2].bad);
            fflush(stdout);
            fprintf(stderr, "%s: %.1f s\n", nm, omp_get_wtime() - t0);
        }
    }
    if (!strcmp(mode, "f64") || !strcmp(mode, "all")) {
        long nr = argc > 4 ? atol(argv[4]) : 10000000;
        make_dpts(nr);
        printf("\n## float64: %ld inputs (random bit patterns, uniform [-40,40], [-2,2], [-750,0], binade sweep), reference = long double (gelu: __float128)\n\n", ndp);
        printf("| kernel | max ULP baseline | at x | max ULP AVX2+FMA | at x | max ULP AVX-512 | at x | max abs err (FMA) | bad specials (base/v3/v4) |\n|---|---|---|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < NKTAB; i++) {
            if (!use_kid(only, &KTAB[i])) continue;
            stat s[3];
            double t0 = omp_get_wtime();
            sweep_double(&KTAB[i], s);
            pname(&KTAB[i], nm);
            printf("| %s | %.3f | %.17g | %.3f | %.17g |", nm, s[0].ulp, s[0].x, s[1].ulp, s[1].x);
            pv4(&s[2], "%.17g");
            printf(" %.3g at %.6g | %ld/%ld/", s[1].absmax, s[1].xabs, s[0].bad, s[1].bad);
            if (NV < 3) printf("n/a |\n"); else printf("%ld |\n", s[2].bad);
            fflush(stdout);
            fprintf(stderr, "%s: %.1f s\n", nm, omp_get_wtime() - t0);
        }
    }
    return 0;
}
