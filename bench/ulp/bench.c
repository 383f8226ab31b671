/* ns/element per kernel loop, 4096 elements (in L1/L2), one core, both builds */
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
    printf("| kernel | f32 AVX2+FMA | f32 baseline | f64 AVX2+FMA | f64 baseline |\n|---|---|---|---|---|\n");
    const char *last = "";
    for (size_t k = 0; k < NKTAB; k++) {
        const kent *e = &KTAB[k];
        char key[64]; snprintf(key, sizeof key, "%s %s", e->name, e->kind);
        if (!strcmp(key, last)) continue;   /* first param set only */
        static char lastbuf[64]; snprintf(lastbuf, sizeof lastbuf, "%s", key); last = lastbuf;
        double r[4];
        for (int v = 0; v < 4; v++) {
            double best = 1e9;
            for (int rep = 0; rep < 7; rep++) {
                int it = 200; double t0 = now();
                for (int j = 0; j < it; j++) {
                    switch (v) {
                    case 0: e->fv(N, xf, gf, yf, e->p[0], e->p[1], e->p[2], e->p[3]); break;
                    case 1: e->fb(N, xf, gf, yf, e->p[0], e->p[1], e->p[2], e->p[3]); break;
                    case 2: e->dv(N, xd, gd, yd, e->p[0], e->p[1], e->p[2], e->p[3]); break;
                    default: e->db(N, xd, gd, yd, e->p[0], e->p[1], e->p[2], e->p[3]); break;
                    }
                    __asm__ volatile("" ::: "memory");
                }
                double t = (now() - t0) / it / N * 1e9;
                if (t < best) best = t;
            }
            r[v] = best;
        }
        printf("| %s | %.3f | %.3f | %.3f | %.3f |\n", key, r[0], r[1], r[2], r[3]);
    }
    return 0;
}
