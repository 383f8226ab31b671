/* divconst.c: are fa__div6_f and fa__div3_f (src/fa_math.h, hard_swish's
 * divisions without the divider) the correctly rounded p/6 and p/3 for every
 * float32 bit pattern?  Compiled with the package's x86_64_v4 flags, so the
 * loops below run the AVX-512 code the shipped module runs (GCC vectorizes
 * them as it does the kernel loops); compared bit for bit with the division.
 * Skipped: NaN (the kernels' NaN rule is tested by the package's tests) and
 * +-inf (NaN here; hard_swish selects its limits for |x| > 3 instead); p/3
 * at p = -0 gives +0, which hard_swish adds to 1/2.
 *
 *   gcc -O3 -fno-math-errno -fno-trapping-math -ffp-contract=off -fopenmp \
 *       -mavx2 -mfma -mavx512f -mavx512dq -mavx512bw -mavx512vl \
 *       -mprefer-vector-width=512 bench/ulp/divconst.c -o /tmp/divconst && /tmp/divconst
 */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "../../src/fa_math.h"

#define CHUNK 4096

int main(void)
{
    long bad6 = 0, bad3 = 0;
    #pragma omp parallel for reduction(+:bad6, bad3) schedule(static)
    for (int64_t base = 0; base < (1LL << 32); base += CHUNK) {
        float p[CHUNK], q6[CHUNK], q3[CHUNK];
        for (int i = 0; i < CHUNK; i++) {
            uint32_t u = (uint32_t)(base + i);
            memcpy(&p[i], &u, 4);
        }
        for (int i = 0; i < CHUNK; i++)
            q6[i] = fa__div6_f(p[i]);
        for (int i = 0; i < CHUNK; i++)
            q3[i] = fa__div3_f(p[i]);
        for (int i = 0; i < CHUNK; i++) {
            if (p[i] != p[i] || p[i] - p[i] != 0.0f)     /* NaN or +-inf */
                continue;
            float r6 = p[i] / 6.0f, r3 = p[i] / 3.0f;
            bad6 += memcmp(&q6[i], &r6, 4) != 0;
            bad3 += memcmp(&q3[i], &r3, 4) != 0 && p[i] != 0.0f;
        }
    }
    printf("p/6: %ld mismatches, p/3: %ld mismatches over every finite float32\n",
           bad6, bad3);
    return bad6 != 0 || bad3 != 0;
}
