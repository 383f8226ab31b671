/* Accuracy sweeps for the fastact transcendental kernels.
 * float: every finite float32 input, both builds (baseline SSE2 and AVX2+FMA
 * loops from vec.c) against a double-precision reference.
 * double: random + binade inputs against long double (__float128 for gelu).
 * ULP = |y - ref| / ulp(ref), with an absolute floor FLT_MIN / DBL_MIN, and for
 * derivatives with a root (silu, swish, mish, gelu) an absolute floor
 * 2^-23 / 2^-52 (g = 1) within 0.3 of the root. */
#include <stdio.h>
#include <stdlib.h>
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
                              [K_ELU] = 1e9, [K_SELU] = 1e9, [K_CELU] = 1e9};

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

static int use_kid(const char *only, const kent *k)
{
    if (!only || !*only) return 1;
    char key[80]; snprintf(key, sizeof key, ",%s,", k->name);
    return strstr(only, key) != NULL;
}

static void sweep_float(const kent *k, long stride, stat *sb, stat *sv)
{
    const long CH = 1 << 16;
    const long NCH = (1L << 32) / CH;
    double pf[4];   /* the kernel sees the parameters rounded to float */
    for (int i = 0; i < 4; i++) pf[i] = (double)(float)k->p[i];
    memset(sb, 0, sizeof *sb); memset(sv, 0, sizeof *sv);
    #pragma omp parallel
    {
        float *x = malloc(CH * 4), *g = malloc(CH * 4), *yb = malloc(CH * 4), *yv = malloc(CH * 4), *xi = malloc(CH * 4);
        stat lb = {0}, lv = {0};
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
            if (k->kindid == 0) { k->fb(n, in, g, yb, k->p[0], k->p[1], k->p[2], k->p[3]); k->fv(n, in, g, yv, k->p[0], k->p[1], k->p[2], k->p[3]); }
            else { k->fb(n, in, g, yb, k->p[0], k->p[1], k->p[2], k->p[3]); k->fv(n, in, g, yv, k->p[0], k->p[1], k->p[2], k->p[3]); }
            for (long i = 0; i < n; i++) {
                double r = ref_r(k->kid, k->kindid ? 1 : 0, x[i], pf, 1);
                double xb = k->kid == K_SWISH ? k->p[0] * x[i] : x[i];
                double fl = (k->kindid && fabs(xb - ROOT[k->kid]) < 0.3) ? 0x1p-23 : 0;
                double ae;
                double e = ulperr(yb[i], r, 24, FLT_MIN, FLT_MAX, fl, &ae, &lb.bad); upd(&lb, e, x[i], ae);
                e = ulperr(yv[i], r, 24, FLT_MIN, FLT_MAX, fl, &ae, &lv.bad); upd(&lv, e, x[i], ae);
            }
        }
        #pragma omp critical
        {
            if (lb.ulp > sb->ulp) { sb->ulp = lb.ulp; sb->x = lb.x; }
            if (lb.absmax > sb->absmax) { sb->absmax = lb.absmax; sb->xabs = lb.xabs; }
            sb->bad += lb.bad;
            if (lv.ulp > sv->ulp) { sv->ulp = lv.ulp; sv->x = lv.x; }
            if (lv.absmax > sv->absmax) { sv->absmax = lv.absmax; sv->xabs = lv.xabs; }
            sv->bad += lv.bad;
        }
        free(x); free(g); free(yb); free(yv); free(xi);
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

static void sweep_double(const kent *k, stat *sb, stat *sv)
{
    const long CH = 4096;
    memset(sb, 0, sizeof *sb); memset(sv, 0, sizeof *sv);
    int useq = k->kid == K_GELU_ERF || k->kid == K_GELU_TANH || k->kid == K_TANHSHRINK;
    #pragma omp parallel
    {
        double *g = malloc(CH * 8), *yb = malloc(CH * 8), *yv = malloc(CH * 8), *xi = malloc(CH * 8);
        stat lb = {0}, lv = {0};
        for (long i = 0; i < CH; i++) g[i] = 1.0;
        #pragma omp for schedule(dynamic, 4)
        for (long c = 0; c < ndp; c += CH) {
            long n = ndp - c < CH ? ndp - c : CH;
            const double *x = dpts + c, *in = x;
            if (k->kindid == 2) { for (long i = 0; i < n; i++) xi[i] = (double)ref_l(k->kid, 0, x[i], k->p, 0); in = xi; }
            k->db(n, in, g, yb, k->p[0], k->p[1], k->p[2], k->p[3]);
            k->dv(n, in, g, yv, k->p[0], k->p[1], k->p[2], k->p[3]);
            for (long i = 0; i < n; i++) {
                long double r = useq ? (long double)ref_q(k->kid, k->kindid ? 1 : 0, x[i], k->p, 0)
                                     : ref_l(k->kid, k->kindid ? 1 : 0, x[i], k->p, 0);
                double xb = k->kid == K_SWISH ? k->p[0] * x[i] : x[i];
                double fl = (k->kindid && fabs(xb - ROOT[k->kid]) < 0.3) ? 0x1p-52 : 0;
                double ae;
                double e = ulperr(yb[i], r, 53, DBL_MIN, DBL_MAX, fl, &ae, &lb.bad); upd(&lb, e, x[i], ae);
                e = ulperr(yv[i], r, 53, DBL_MIN, DBL_MAX, fl, &ae, &lv.bad); upd(&lv, e, x[i], ae);
            }
        }
        #pragma omp critical
        {
            if (lb.ulp > sb->ulp) { sb->ulp = lb.ulp; sb->x = lb.x; }
            if (lb.absmax > sb->absmax) { sb->absmax = lb.absmax; sb->xabs = lb.xabs; }
            sb->bad += lb.bad;
            if (lv.ulp > sv->ulp) { sv->ulp = lv.ulp; sv->x = lv.x; }
            if (lv.absmax > sv->absmax) { sv->absmax = lv.absmax; sv->xabs = lv.xabs; }
            sv->bad += lv.bad;
        }
        free(g); free(yb); free(yv); free(xi);
    }
}

static void pname(const kent *k, char *buf)
{
    int np = k->p[0] != 0 || k->p[1] != 0;
    if (np) sprintf(buf, "%s %s (%g,%g)", k->name, k->kind, k->p[0], k->p[1]);
    else sprintf(buf, "%s %s", k->name, k->kind);
}

int main(int argc, char **argv)
{
    /* usage: ulp [f32|f64|all] [stride] [name-filter] */
    const char *mode = argc > 1 ? argv[1] : "all";
    long stride = argc > 2 ? atol(argv[2]) : 1;
    const char *only = argc > 3 ? argv[3] : NULL;
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) { fprintf(stderr, "needs AVX2+FMA CPU\n"); return 1; }
    char nm[128];
    if (!strcmp(mode, "f32") || !strcmp(mode, "all")) {
        printf("## float32: %s finite inputs (stride %ld), reference = double\n\n",
               stride == 1 ? "all 2^32 - 2^24" : "strided", stride);
        printf("| kernel | max ULP baseline (no FMA) | at x | max ULP AVX2+FMA | at x | max abs err (FMA) | bad specials |\n|---|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < NKTAB; i++) {
            if (!use_kid(only, &KTAB[i])) continue;
            stat sb, sv; double t0 = omp_get_wtime();
            sweep_float(&KTAB[i], stride, &sb, &sv);
            pname(&KTAB[i], nm);
            printf("| %s | %.3f | %.9g | %.3f | %.9g | %.3g at %.6g | %ld/%ld |\n", nm, sb.ulp, sb.x, sv.ulp, sv.x,
                   sv.absmax, sv.xabs, sb.bad, sv.bad);
            fflush(stdout);
            fprintf(stderr, "%s: %.1f s\n", nm, omp_get_wtime() - t0);
        }
    }
    if (!strcmp(mode, "f64") || !strcmp(mode, "all")) {
        long nr = argc > 4 ? atol(argv[4]) : 10000000;
        make_dpts(nr);
        printf("\n## float64: %ld inputs (random bit patterns, uniform [-40,40], [-2,2], [-750,0], binade sweep), reference = long double (gelu: __float128)\n\n", ndp);
        printf("| kernel | max ULP baseline | at x | max ULP AVX2+FMA | at x | max abs err (FMA) | bad specials |\n|---|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < NKTAB; i++) {
            if (!use_kid(only, &KTAB[i])) continue;
            stat sb, sv;
            double t0 = omp_get_wtime();
            sweep_double(&KTAB[i], &sb, &sv);
            pname(&KTAB[i], nm);
            printf("| %s | %.3f | %.17g | %.3f | %.17g | %.3g at %.6g | %ld/%ld |\n", nm, sb.ulp, sb.x, sv.ulp, sv.x,
                   sv.absmax, sv.xabs, sb.bad, sv.bad);
            fflush(stdout);
            fprintf(stderr, "%s: %.1f s\n", nm, omp_get_wtime() - t0);
        }
    }
    return 0;
}
