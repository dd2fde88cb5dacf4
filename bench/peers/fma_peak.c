/* One core's float32 FMA peak: 12 independent chains of 512-bit (then 256-bit) FMAs, enough to cover the FMA latency
 * on both pipes. Zen 4 executes a 512-bit FMA as two 256-bit halves, so both widths should print the same peak.
 * build: gcc -O2 -mavx512f -mfma bench/peers/fma_peak.c -o fma_peak; run: ./fma_peak [rounds (default 5)]
 * Prints GFLOP/s per round (2 flops per lane per FMA) and the best of each width. */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 12
#define ITERS 200000000L

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); /* CPU time: a shared machine's time slices do not count */
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* One probe per width: CHAINS accumulators, each x·a + y per iteration; the stored sum keeps the chains alive. */
#define PROBE(name, type, lanes, set1, fmadd, store)                                      \
    static double name(void)                                                              \
    {                                                                                     \
        type a[CHAINS], x = set1(1.0000001f), y = set1(0.9999999f);                       \
        for (int i = 0; i < CHAINS; i++) a[i] = set1((float)i);                           \
        double t0 = now();                                                                \
        for (long it = 0; it < ITERS; it++) {                                             \
            _Pragma("GCC unroll 12") for (int i = 0; i < CHAINS; i++) a[i] = fmadd(a[i], x, y); \
        }                                                                                 \
        double t1 = now();                                                                \
        float t[16], s = 0;                                                               \
        for (int i = 0; i < CHAINS; i++) { store(t, a[i]); for (int j = 0; j < lanes; j++) s += t[j]; } \
        if (s == 1234.5f) puts("");                                                       \
        return 2.0 * lanes * CHAINS * ITERS / (t1 - t0) / 1e9;                            \
    }

PROBE(zmm, __m512, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps)
PROBE(ymm, __m256, 8, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_storeu_ps)

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    double best512 = 0, best256 = 0;
    for (int r = 0; r < rounds; r++) {
        double z = zmm(), y = ymm();
        printf("round %d: 512-bit %.1f GFLOP/s, 256-bit %.1f GFLOP/s\n", r + 1, z, y);
        if (z > best512) best512 = z;
        if (y > best256) best256 = y;
    }
    printf("fma peak (best of %d): 512-bit %.1f GFLOP/s, 256-bit %.1f GFLOP/s; 85%% = %.1f\n", rounds, best512, best256, 0.85 * (best512 > best256 ? best512 : best256));
    return 0;
}
