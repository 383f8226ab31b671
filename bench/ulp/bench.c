/* ns/element per kernel loop, 4096 elements (in L1/L2), one core, the three builds
 * (AVX-512 columns n/a on a CPU without it: the _v4 loops are AVX-512 code) */
#include <stdio.h>
#include <time.h>
#include <math.h>
#include <string.h>
#include "table.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
#define N 4096
static float xf[N], gf[N], yf[N];
static double xd[N], gd[N], yd[N];
int main(void)
{
    for (int i = 0; i < N; i++) { xf[i] = (float)(-10.0 + 20.0 * i / N); gf[i] = 1; xd[i] = xf[i]; gd[i] = 1; }
    int v4 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw")
          && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    printf("| kernel | f32 AVX-512 | f32 AVX2+FMA | f32 baseline | f64 AVX-512 | f64 AVX2+FMA | f64 baseline |\n|---|---|---|---|---|---|---|\n");
    const char *last = "";
    for (size_t k = 0; k < NKTAB; k++) {
        const kent *e = &KTAB[k];
        char key[64]; snprintf(key, sizeof key, "%s %s", e->name, e->kind);
        if (!strcmp(key, last)) continue;   /* first param set only */
        static char lastbuf[64]; snprintf(lastbuf, sizeof lastbuf, "%s", key); last = lastbuf;
        double r[6];
        for (int v = 0; v < 6; v++) {
            double best = 1e9;
            if (!v4 && (v == 0 || v == 3)) { r[v] = -1; continue; }
            for (int rep = 0; rep < 7; rep++) {
                int it = 200; double t0 = now();
                for (int j = 0; j < it; j++) {
                    switch (v) {
                    case 0: e->fw(N, xf, gf, yf, e->p[0], e->p[1], e->p[2], e->p[3]); break;
                    case 1: e->fv(N, xf, gf, yf, e->p[0], e->p[1], e->p[2], e->p[3]); break;
                    case 2: e->fb(N, xf, gf, yf, e->p[0], e->p[1], e->p[2], e->p[3]); break;
                    case 3: e->dw(N, xd, gd, yd, e->p[0], e->p[1], e->p[2], e->p[3]); break;
                    case 4: e->dv(N, xd, gd, yd, e->p[0], e->p[1], e->p[2], e->p[3]); break;
                    default: e->db(N, xd, gd, yd, e->p[0], e->p[1], e->p[2], e->p[3]); break;
                    }
                    __asm__ volatile("" ::: "memory");
                }
                double t = (now() - t0) / it / N * 1e9;
                if (t < best) best = t;
            }
            r[v] = best;
        }
        printf("| %s |", key);
        for (int v = 0; v < 6; v++)
            if (r[v] < 0) printf(" n/a (no AVX-512 here) |"); else printf(" %.3f |", r[v]);
        printf("\n");
    }
    return 0;
}
