#!/usr/bin/env python
"""The compute bound of the transcendental element-wise kernels (issue 19, item 4).

For every kernel of FA_TRANSC_KERNELS (src/fa_kernels.h: the exp/tanh/erf/log-based
kernels, and squareplus, a sqrt-based one), forward and backward from x, float32 and
float64, on the loop module this CPU dispatches to (and the SSE2 baseline module):

1. **ns/element, measured.**  A small C driver (compiled here, in a temporary folder)
   dlopens the installed loop module `fastact/_loops_<variant>*.so` (the code that
   ships; built from src/isa/fa_table_impl.c by `pip install -e .`), takes its loop
   table (`fa_loop_table_<variant>`, layout from src/isa/fa_table.h) and calls
   `fwd_block_f/_d` / `bwd_block_f/_d` directly: the same functions `fastact._front`
   calls, without the Python call around them (the lowest-overhead path there is).
   Out of place into a preallocated 64-byte aligned output, 8 KiB per array (2048
   float32 / 1024 float64 elements: x, g and out together stay in the 32 KiB L1d),
   inputs 3*N(0,1) (g uniform on [0.5, 1.5)), one thread.  Each sample times a batch of
   calls (~20 us) on the thread's CPU clock (CLOCK_THREAD_CPUTIME_ID, which time slices
   of other processes do not inflate); a round takes the median of 15 samples per case,
   cases interleaved (order reversed every other round); reported: the median of the
   rounds' medians, [min, max] of the rounds' medians.  A second column times the same
   call through `fastact._front.elementwise` (Python, 1 thread), to show the call cost at
   this size.
2. **Vector instructions per element, exact.**  A small ptrace stepper runs the driver
   for one call of 1024 and one of 2048 elements and single-steps that call (between two
   SIGSTOPs the driver raises around it), recording the address of every instruction
   executed: native execution, so any ISA the CPU runs (AVX-512 included) is counted.
   The difference per instruction of the loop module, over 1024, is that instruction's
   executions per element in the steady state (the fixed cost of the call, alignment head
   and tail cancel).  Instructions are classified from `objdump -d` of the same .so:
   FMA/mul, add/sub, compare/min/max, blend, logic, integer vector (add/shift/compare),
   convert/round, div/sqrt, shuffles/permutes, mask-register instructions, loads (incl.
   folded memory operands), stores, and scalar instructions (loop overhead; counted as
   macro-ops).  Counts include everything per element the loop does (the backward's NaN
   look per sub-block, constants reloaded from the stack).
3. **The bound.**  A throughput bound of that instruction stream on a port model of the
   CPU (`--model`, by default from the CPU vendor):
   - `zen3`, AMD Zen 3, from the execution resources of LLVM's Zen 3 scheduling model
     (llvm/lib/Target/X86/X86ScheduleZnver3.td, itself citing AMD's Software
     Optimization Guide for Family 19h): FP pipes P0 P1 (FMUL/FMA, blendv), P2 P3 (FADD,
     convert, round), all four for logic and integer add/compare, P1 P2 for shifts and
     in-lane shuffles, P1 for lane-crossing permutes and the divide / square-root unit, P0
     for vextractf128; 3 loads and 1 FP store per cycle; 6 macro-ops dispatched per cycle.
     The probes put FP compares and min/max on the FADD pipes P2 P3 (LLVM: P0 P1).
   - `intel512`, Intel's server cores with AVX-512 (Ice Lake-SP, Sapphire Rapids), from
     Intel's optimization manual and uops.info: vector ports P0 P1 P5, of which a loop
     with 512-bit instructions uses P0 and P5 only; zmm FMA/mul/add/min/max/logic/integer
     add/blend/convert/scalef on P0 P5, shifts on P0, compares into masks and permutes on
     P5, div/sqrt 3 uops and the divider; 2 512-bit loads, 1 512-bit store and 6 macro-ops
     per cycle (`classify_intel`).
   - `zen4`, AMD Zen 4 (the default on an AMD CPU with AVX-512): Zen 3's pipes, each
     512-bit op occupying its pipe(s) for two cycles (double-pumped 256-bit units), two
     256-bit loads and one 256-bit store per cycle; where the probes place a zmm
     instruction elsewhere they win (compares into masks on P0/P1, shifts on P2/P3,
     vscalef on both P2 and P3 for two cycles; `classify_zen4`).
   Where this CPU disagrees with the model the measurement wins: `probe` below times
   single instructions (8 independent copies) and interleaved pairs (separate or shared
   ports), and the divider's occupancy per vdiv/vsqrt; the model's figures are printed
   beside them.  Bound (cycles/element) = max over resources of (uops per element that
   must use the resource / its count per cycle); for the vector ports the max over every
   subset S of the ports of (uops whose allowed ports lie within S) / |S|.
   ns = cycles / the core clock measured by a chain of dependent register adds (1 cycle
   each) during the run.  The bound ignores latency: with enough independent iterations
   in flight the loop could reach it; measured/bound says how far it is.
4. **Latency (estimates).**  The largest loop executed (a run of equally often executed
   instructions ending in a jump back to its start) gives the longest dependency chain
   through one iteration (registers only, the model's latencies), and a crude estimate of
   the time if every FP op of an iteration waited one whole chain in the scheduler window
   (Zen 3: 128 entries; Golden Cove: 97): ops x chain / window per iteration.  It only says
   whether latency can explain the gap.

    python bench/compute_bound.py [--variants best,baseline] [--kernels sigmoid,tanh]
                                  [--rounds 7] [--no-count] [--model zen3|zen4|intel512] [--docs]

Writes bench/results/compute_bound_<model>.md and .json; --docs also rewrites the table
block of docs/performance.md between that model's compute-bound markers.  Needs gcc (or
cc) and objdump (x86-64 Linux); run from any checkout after `pip install -e .`, which
builds the loop modules from that checkout's src/.
"""
import argparse
import collections
import functools
import glob
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
OUT = os.path.join(ROOT, "bench", "results", "compute_bound_{}")     # + model .md / .json
DOCS = os.path.join(ROOT, "docs", "performance.md")
DOC_BEGIN = "<!-- compute-bound table ({}): written by bench/compute_bound.py --docs -->"
DOC_END = "<!-- end of compute-bound table ({}) -->"

ARRAY_BYTES = 8192          # per array: x, g, out in L1 together
COUNT_N = 1024              # counted calls: 1024 and 2048 elements, both on the loops' aligned
                            # path (fa__align_head aligns from 1024 elements on; single steps are
                            # slow); the difference of the two is the steady state

DRIVER = r'''
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fa_table.h"

static uint64_t rng_s = 0x9E3779B97F4A7C15ull;
static double urand(void)
{
    rng_s ^= rng_s << 13; rng_s ^= rng_s >> 7; rng_s ^= rng_s << 17;
    return ((rng_s >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
static double nrand(void) { return sqrt(-2 * log(urand())) * cos(6.283185307179586 * urand()); }

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct { const fa_loop_table *t; int k, bwd, dbl; long n; double p[4]; } kcase;

/* The module's Python glue (fa_loops_module.c) refers to these objects (None,
 * ValueError); lazy binding leaves its functions unresolved, but data symbols must
 * resolve when the module loads.  The driver never calls the glue, so stand-ins
 * exported from the executable (-rdynamic) satisfy them without loading Python. */
char _Py_NoneStruct[64], _Py_TrueStruct[64], _Py_FalseStruct[64];
void *PyExc_ValueError, *PyExc_TypeError;

static const fa_loop_table *load(const char *so, const char *sym)
{
    void *h = dlopen(so, RTLD_LAZY | RTLD_LOCAL);   /* its Python imports stay unresolved */
    if (!h) { fprintf(stderr, "dlopen: %s\n", dlerror()); exit(2); }
    const fa_loop_table *t = dlsym(h, sym);
    if (!t) { fprintf(stderr, "dlsym %s: %s\n", sym, dlerror()); exit(2); }
    if (t->abi != FA_TABLE_ABI) {
        fprintf(stderr, "table ABI %d, src/isa/fa_table.h says %d\n", t->abi, FA_TABLE_ABI);
        exit(2);
    }
    return t;
}

static int kid(const fa_loop_table *t, const char *name)
{
    for (int i = 0; i < t->kernel_count; i++)
        if (!strcmp(t->kernel_names[i], name)) return i;
    fprintf(stderr, "no kernel %s in the table\n", name);
    exit(2);
}

static double *xd, *gd, *yd;
static float *xf, *gf, *yf;
static void fill(long n)
{
    size_t bd = ((size_t)n * 8 + 63) / 64 * 64, bf = ((size_t)n * 4 + 63) / 64 * 64;
    xd = aligned_alloc(64, bd); gd = aligned_alloc(64, bd); yd = aligned_alloc(64, bd);
    xf = aligned_alloc(64, bf); gf = aligned_alloc(64, bf); yf = aligned_alloc(64, bf);
    for (long i = 0; i < n; i++) {
        xd[i] = 3 * nrand(); gd[i] = 0.5 + urand();
        xf[i] = (float)xd[i]; gf[i] = (float)gd[i];
        yd[i] = 0; yf[i] = 0;
    }
}

static void run(const kcase *c, long reps)
{
    for (long r = 0; r < reps; r++) {
        int rc;
        if (c->dbl)
            rc = c->bwd ? c->t->bwd_block_d(c->k, 0, gd, xd, yd, c->n, c->p)
                        : c->t->fwd_block_d(c->k, xd, yd, c->n, c->p);
        else
            rc = c->bwd ? c->t->bwd_block_f(c->k, 0, gf, xf, yf, c->n, c->p)
                        : c->t->fwd_block_f(c->k, xf, yf, c->n, c->p);
        if (rc) { fprintf(stderr, "kernel call failed\n"); exit(2); }
    }
}

/* core clock: a chain of dependent register-register adds, one cycle each (adds of an
 * immediate can be folded at rename on Intel's Golden Cove: not a clock) */
static double clock_ghz(long iters)
{
    double t0 = now();
    __asm__ volatile(
        "mov %0, %%rcx\n\t"
        "xor %%eax, %%eax\n\t"
        "mov $1, %%edx\n"
        "1:\n\t"
        ".rept 100\n\t"
        "add %%rdx, %%rax\n\t"
        ".endr\n\t"
        "dec %%rcx\n\t"
        "jnz 1b\n"
        : : "r"(iters) : "rax", "rcx", "rdx", "cc");
    return 100.0 * iters / (now() - t0) * 1e-9;
}

/* one timed loop of BODY (it iterations); W names the register file of the two sources
 * (W8 = 1.5, W9 = 1.25); prints TAG NAME cycles per (iteration / PER) */
#define PROBE_LOOP(W, BODY, tag, name, per) do { \
        static const float c15 = 1.5f, c125 = 1.25f; \
        long it = 400000; \
        double t0 = now(); \
        __asm__ volatile( \
            "vbroadcastss %1, %%" W "8\n\t" \
            "vbroadcastss %2, %%" W "9\n\t" \
            "mov %0, %%rcx\n" \
            "1:\n\t" \
            BODY \
            "dec %%rcx\n\t" \
            "jnz 1b\n\t" \
            "vzeroupper\n" \
            : : "r"(it), "m"(c15), "m"(c125) \
            : "rcx", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", \
              "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"); \
        double t = now() - t0; \
        printf(tag " %s %.3f\n", name, t * ghz * 1e9 / ((per) * it)); \
    } while (0)
/* reciprocal throughput (cycles per instruction) of 8 independent copies of INSN
 * (destinations %%ymm0..7 / %%xmm0..7 never read, sources ymm8 = 1.5, ymm9 = 1.25) */
#define PROBE(name, insn) PROBE_LOOP("ymm", insn(0) insn(1) insn(2) insn(3) insn(4) insn(5) \
                                     insn(6) insn(7), "PROBE", name, 8.0)
#define I_DIVPS_Y(r) "vdivps %%ymm9, %%ymm8, %%ymm" #r "\n\t"
#define I_DIVPD_Y(r) "vdivpd %%ymm9, %%ymm8, %%ymm" #r "\n\t"
#define I_SQRTPS_Y(r) "vsqrtps %%ymm8, %%ymm" #r "\n\t"
#define I_SQRTPD_Y(r) "vsqrtpd %%ymm8, %%ymm" #r "\n\t"
#define I_DIVPS_X(r) "vdivps %%xmm9, %%xmm8, %%xmm" #r "\n\t"
#define I_DIVPD_X(r) "vdivpd %%xmm9, %%xmm8, %%xmm" #r "\n\t"
#define I_SQRTPS_X(r) "vsqrtps %%xmm8, %%xmm" #r "\n\t"
#define I_SQRTPD_X(r) "vsqrtpd %%xmm8, %%xmm" #r "\n\t"
#define I_MULPS_Y(r) "vmulps %%ymm9, %%ymm8, %%ymm" #r "\n\t"
#define I_ADDPS_Y(r) "vaddps %%ymm9, %%ymm8, %%ymm" #r "\n\t"
#define I_FMA_Y(r) "vfmadd231ps %%ymm9, %%ymm8, %%ymm" #r "\n\t"
#define I_BLENDV_Y(r) "vblendvps %%ymm9, %%ymm8, %%ymm9, %%ymm" #r "\n\t"
#define I_CMP_Y(r) "vcmpltps %%ymm9, %%ymm8, %%ymm" #r "\n\t"
#define I_MAX_Y(r) "vmaxps %%ymm9, %%ymm8, %%ymm" #r "\n\t"
#define I_CVT_Y(r) "vcvtdq2ps %%ymm8, %%ymm" #r "\n\t"
/* pairs: 8 FMA chains (ymm0..7) interleaved with 8 independent B (ymm10..15, 10, 11), or
 * 8 independent adds with B: 4 cycles per loop if B has pipes of its own, 8 if it shares */
#define PAIR(name, A, B) PROBE_LOOP("ymm", A(0) B(10) A(1) B(11) A(2) B(12) A(3) B(13) A(4) \
                                     B(14) A(5) B(15) A(6) B(10) A(7) B(11), "PAIR", name, 1.0)

/* 512-bit probes (AVX-512 CPUs only): INSN(D) writes register D; zmm8 = 1.5, zmm9 = 1.25.
 * PROBEZ: 8 copies (D = zmm0..7 or k0..7) per loop, cycles per instruction.  PAIRZ: 8 of A
 * (zmm0..7) interleaved with 8 of B (zmm10..15 or k0..5, reused): cycles per loop; 8 when
 * A and B issue on separate single ports, 16 when they share one. */
#define RZ(r) "%%zmm" #r
#define RZB(r) "%%zmm1" #r
#define RK(r) "%%k" #r
#define PROBEZ(name, insn, R) PROBE_LOOP("zmm", insn(R(0)) insn(R(1)) insn(R(2)) insn(R(3)) \
                                          insn(R(4)) insn(R(5)) insn(R(6)) insn(R(7)), \
                                          "PROBE", name, 8.0)
#define PAIRZ(name, A, RA, B, RB) PROBE_LOOP("zmm", A(RA(0)) B(RB(0)) A(RA(1)) B(RB(1)) \
        A(RA(2)) B(RB(2)) A(RA(3)) B(RB(3)) A(RA(4)) B(RB(4)) A(RA(5)) B(RB(5)) A(RA(6)) \
        B(RB(0)) A(RA(7)) B(RB(1)), "PAIR", name, 1.0)
#define Z_FMA(d) "vfmadd231ps %%zmm9, %%zmm8, " d "\n\t"
#define Z_ADD(d) "vaddps %%zmm9, %%zmm8, " d "\n\t"
#define Z_CMPK(d) "vcmpltps %%zmm9, %%zmm8, " d "\n\t"
#define Z_SLL(d) "vpslld $1, %%zmm8, " d "\n\t"
#define Z_PERM(d) "vpermps %%zmm8, %%zmm9, " d "\n\t"
#define Z_CVT(d) "vcvtdq2ps %%zmm8, " d "\n\t"
#define Z_SCALEF(d) "vscalefps %%zmm9, %%zmm8, " d "\n\t"
#define Z_BLENDM(d) "vblendmps %%zmm9, %%zmm8, " d "%{%%k1%}\n\t"
#define Z_AND(d) "vpandd %%zmm9, %%zmm8, " d "\n\t"
#define Z_RCP14(d) "vrcp14ps %%zmm8, " d "\n\t"
#define Z_DIVPS(d) "vdivps %%zmm9, %%zmm8, " d "\n\t"
#define Z_DIVPD(d) "vdivpd %%zmm9, %%zmm8, " d "\n\t"
#define Z_SQRTPS(d) "vsqrtps %%zmm8, " d "\n\t"
#define Z_SQRTPD(d) "vsqrtpd %%zmm8, " d "\n\t"

static void probe_zmm(double ghz)
{
    PROBEZ("vfmadd231ps_zmm", Z_FMA, RZ);
    PROBEZ("vaddps_zmm", Z_ADD, RZ);
    PROBEZ("vcmpltps_zmm_k", Z_CMPK, RK);
    PROBEZ("vpslld_zmm", Z_SLL, RZ);
    PROBEZ("vpermps_zmm", Z_PERM, RZ);
    PROBEZ("vcvtdq2ps_zmm", Z_CVT, RZ);
    PROBEZ("vscalefps_zmm", Z_SCALEF, RZ);
    PROBEZ("vblendmps_zmm", Z_BLENDM, RZ);
    PROBEZ("vpandd_zmm", Z_AND, RZ);
    PROBEZ("vrcp14ps_zmm", Z_RCP14, RZ);
    PROBEZ("vdivps_zmm", Z_DIVPS, RZ);
    PROBEZ("vdivpd_zmm", Z_DIVPD, RZ);
    PROBEZ("vsqrtps_zmm", Z_SQRTPS, RZ);
    PROBEZ("vsqrtpd_zmm", Z_SQRTPD, RZ);
    PAIRZ("zmm:vpslld+vcmpltps_k", Z_SLL, RZ, Z_CMPK, RK);
    PAIRZ("zmm:vpslld+vpermps", Z_SLL, RZ, Z_PERM, RZB);
    PAIRZ("zmm:vcvtdq2ps+vpslld", Z_CVT, RZ, Z_SLL, RZB);
    PAIRZ("zmm:vpermps+vcmpltps_k", Z_PERM, RZ, Z_CMPK, RK);
    PAIRZ("zmm:vscalefps+vpslld", Z_SCALEF, RZ, Z_SLL, RZB);
    PAIRZ("zmm:vscalefps+vpermps", Z_SCALEF, RZ, Z_PERM, RZB);
    PAIRZ("zmm:vfmadd231ps+vaddps", Z_FMA, RZ, Z_ADD, RZB);
    /* 16 FMAs per loop (16 cycles on two pipes, longer than the divider's own time for any
     * one of these) and one division or square root: the cycles it adds are the FMA-pipe
     * cycles it takes beside the divider's own occupancy */
#define Z_FMA8 Z_FMA(RZ(0)) Z_FMA(RZ(1)) Z_FMA(RZ(2)) Z_FMA(RZ(3)) Z_FMA(RZ(4)) Z_FMA(RZ(5)) \
    Z_FMA(RZ(6)) Z_FMA(RZ(7))
    PROBE_LOOP("zmm", Z_FMA8 Z_FMA8, "PAIR", "zmm:16xvfmadd231ps", 1.0);
    PROBE_LOOP("zmm", Z_FMA8 Z_FMA8 Z_DIVPS(RZB(0)), "PAIR", "zmm:16xvfmadd231ps+vdivps", 1.0);
    PROBE_LOOP("zmm", Z_FMA8 Z_FMA8 Z_SQRTPS(RZB(0)), "PAIR", "zmm:16xvfmadd231ps+vsqrtps", 1.0);
    PROBE_LOOP("zmm", Z_FMA8 Z_FMA8 Z_DIVPD(RZB(0)), "PAIR", "zmm:16xvfmadd231ps+vdivpd", 1.0);
    PROBE_LOOP("zmm", Z_FMA8 Z_FMA8 Z_SQRTPD(RZB(0)), "PAIR", "zmm:16xvfmadd231ps+vsqrtpd", 1.0);
#undef Z_FMA8
}

int main(int argc, char **argv)
{
    if (argc >= 12 && !strcmp(argv[1], "count")) {      /* one call, under the stepper */
        kcase c;
        Dl_info info;
        c.t = load(argv[2], argv[3]);
        c.k = kid(c.t, argv[4]);
        c.bwd = !strcmp(argv[5], "bwd");
        c.dbl = !strcmp(argv[6], "float64");
        c.n = atol(argv[7]);
        for (int i = 0; i < 4; i++) c.p[i] = atof(argv[8 + i]);
        fill(c.n);
        run(&c, 1);                      /* page faults and first-call work out of the count */
        if (!dladdr(c.t, &info)) { fprintf(stderr, "dladdr failed\n"); return 2; }
        printf("BASE %lx\n", (unsigned long)(uintptr_t)info.dli_fbase);
        fflush(stdout);
        raise(SIGSTOP);                  /* the stepper counts from here ... */
        run(&c, 1);
        raise(SIGSTOP);                  /* ... to here */
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "probe")) {
        double ghz = 0;
        for (int w = 0; w < 5; w++) clock_ghz(200000);
        for (int w = 0; w < 3; w++) ghz += clock_ghz(300000) / 3;
        printf("CLOCK 0 %.4f\n", ghz);
        PROBE("vmulps_ymm", I_MULPS_Y);
        PROBE("vaddps_ymm", I_ADDPS_Y);
        PROBE("vfmadd231ps_ymm", I_FMA_Y);      /* 8 chains of latency 4: 0.5 at best */
        PROBE("vblendvps_ymm", I_BLENDV_Y);
        PROBE("vcmpltps_ymm", I_CMP_Y);
        PAIR("vfmadd231ps+vblendvps", I_FMA_Y, I_BLENDV_Y);
        PAIR("vfmadd231ps+vcmpltps", I_FMA_Y, I_CMP_Y);
        PAIR("vfmadd231ps+vmaxps", I_FMA_Y, I_MAX_Y);
        PAIR("vaddps+vcmpltps", I_ADDPS_Y, I_CMP_Y);
        PAIR("vaddps+vmaxps", I_ADDPS_Y, I_MAX_Y);
        PAIR("vaddps+vcvtdq2ps", I_ADDPS_Y, I_CVT_Y);
        PAIR("vaddps+vblendvps", I_ADDPS_Y, I_BLENDV_Y);
        PROBE("vdivps_ymm", I_DIVPS_Y);
        PROBE("vdivpd_ymm", I_DIVPD_Y);
        PROBE("vsqrtps_ymm", I_SQRTPS_Y);
        PROBE("vsqrtpd_ymm", I_SQRTPD_Y);
        PROBE("vdivps_xmm", I_DIVPS_X);
        PROBE("vdivpd_xmm", I_DIVPD_X);
        PROBE("vsqrtps_xmm", I_SQRTPS_X);
        PROBE("vsqrtpd_xmm", I_SQRTPD_X);
        if (__builtin_cpu_supports("avx512f")) probe_zmm(ghz);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "time")) {        /* cases on stdin */
        long rounds, samples, nmax = 0;
        double batch_us;
        int ncase;
        if (scanf("%ld %ld %lf %d", &rounds, &samples, &batch_us, &ncase) != 4) return 2;
        kcase *cs = calloc(ncase, sizeof *cs);
        long *reps = calloc(ncase, sizeof *reps);
        char so[4096], sym[256], kn[64], form[16], dt[16];
        for (int i = 0; i < ncase; i++) {
            if (scanf("%4095s %255s %63s %15s %15s %ld %lf %lf %lf %lf", so, sym, kn, form, dt,
                      &cs[i].n, &cs[i].p[0], &cs[i].p[1], &cs[i].p[2], &cs[i].p[3]) != 10) return 2;
            cs[i].t = load(so, sym);
            cs[i].k = kid(cs[i].t, kn);
            cs[i].bwd = !strcmp(form, "bwd");
            cs[i].dbl = !strcmp(dt, "float64");
            if (cs[i].n > nmax) nmax = cs[i].n;
        }
        fill(nmax);
        for (int w = 0; w < 5; w++) clock_ghz(200000);     /* let the clock settle */
        for (int i = 0; i < ncase; i++) {                  /* calls per sample: ~batch_us */
            run(&cs[i], 50);
            double t0 = now();
            run(&cs[i], 200);
            reps[i] = (long)(batch_us * 1e-6 / ((now() - t0) / 200)) + 1;
        }
        double *buf = calloc(samples, sizeof *buf);
        for (long r = 0; r < rounds; r++) {
            printf("CLOCK %ld %.4f\n", r, clock_ghz(300000));
            for (int j = 0; j < ncase; j++) {
                int i = (r & 1) ? ncase - 1 - j : j;
                run(&cs[i], reps[i]);
                for (long s = 0; s < samples; s++) {
                    double t0 = now();
                    run(&cs[i], reps[i]);
                    buf[s] = (now() - t0) / ((double)reps[i] * cs[i].n) * 1e9;
                }
                for (long a = 1; a < samples; a++)          /* insertion sort */
                    for (long b = a; b > 0 && buf[b] < buf[b - 1]; b--) {
                        double tmp = buf[b]; buf[b] = buf[b - 1]; buf[b - 1] = tmp;
                    }
                printf("T %d %ld %.5f %.5f\n", i, r, buf[samples / 2], buf[0]);
            }
            fflush(stdout);
        }
        printf("CLOCK %ld %.4f\n", rounds, clock_ghz(300000));
        return 0;
    }
    fprintf(stderr, "usage: driver count|probe|time (see bench/compute_bound.py)\n");
    return 2;
}
'''

# Counts instructions by single-stepping the driver (ptrace) between its two SIGSTOPs:
# every instruction executed natively, whatever the ISA (valgrind has no AVX-512).
# Writes the address of each executed instruction (uint64, binary) to argv[1].
STEPPER = r'''
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: stepper OUT CMD ARGS...\n"); return 2; }
    FILE *out = fopen(argv[1], "wb");
    if (!out) { perror(argv[1]); return 2; }
    pid_t pid = fork();
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        execv(argv[2], argv + 2);
        _exit(127);
    }
    int st, stops = 0;
    long steps = 0;
    waitpid(pid, &st, 0);                           /* the stop at exec */
    ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL);   /* dies with the stepper */
    ptrace(PTRACE_CONT, pid, 0, 0);
    for (;;) {
        if (waitpid(pid, &st, 0) < 0 || WIFEXITED(st) || WIFSIGNALED(st)) break;
        int sig = WSTOPSIG(st);
        if (sig == SIGSTOP) stops++;
        if (stops == 1) {                           /* between the markers: step */
            if (sig == SIGTRAP) {
                struct user_regs_struct r;
                ptrace(PTRACE_GETREGS, pid, 0, &r);
                uint64_t ip = r.rip;
                fwrite(&ip, sizeof ip, 1, out);
                steps++;
            }
            /* any other signal (a crash) is delivered, not swallowed */
            ptrace(PTRACE_SINGLESTEP, pid, 0, (sig == SIGSTOP || sig == SIGTRAP) ? 0 : sig);
        } else {
            ptrace(PTRACE_CONT, pid, 0, (sig == SIGSTOP || sig == SIGTRAP) ? 0 : sig);
        }
    }
    fclose(out);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || stops != 2) {
        fprintf(stderr, "stepper: driver failed (%d markers)\n", stops);
        return 1;
    }
    fprintf(stderr, "stepper: %ld steps\n", steps);
    return 0;
}
'''

# ----------------------------------------------------------------------------
# Zen 3 execution resources (LLVM X86ScheduleZnver3.td; AMD SOG family 19h).
# Each instruction class: (allowed FP pipes, FP uops).  Loads, stores, the
# divider and dispatch are separate resources.
# ----------------------------------------------------------------------------
P01, P23, P0123, P12, P1, P0, P2, P03 = ("0", "1"), ("2", "3"), ("0", "1", "2", "3"), \
    ("1", "2"), ("1",), ("0",), ("2",), ("0", "3")
LOADS_PER_CYCLE = 3         # "three 256-bit memory operations per cycle, all can be loads"
STORES_PER_CYCLE = 1        # "FP stores ... throughput is limited to one per cycle"
DISPATCH_PER_CYCLE = 6      # "up to 6 macro ops per cycle"
# LLVM's divider occupancy (ReleaseAtCycles on the FDIV pipe), ps/pd x xmm/ymm alike
LLVM_DIV = {"divps": 3, "divpd": 5, "sqrtps": 5, "sqrtpd": 9,
            "divss": 3, "divsd": 5, "sqrtss": 5, "sqrtsd": 9}

# display class -> short label
CLASSES = ("fma", "add", "cmp", "blend", "logic", "int", "cvt", "div", "shuf", "mask", "ld", "st",
           "scalar")
LABEL = {"fma": "fma/mul", "add": "add/sub", "cmp": "compare/min/max", "blend": "blend",
         "mask": "mask register",
         "logic": "logic",
         "int": "int add/shift/cmp", "cvt": "cvt/round", "div": "div/sqrt",
         "shuf": "shuffle/permute", "ld": "load", "st": "store", "scalar": "scalar (macro-ops)"}


def classify(mn, ops):
    """(display class, FP pipes or None, FP uops, divider key or None, loads, stores,
    macro-ops) for one instruction in AT&T syntax."""
    vec = "%ymm" in ops or "%xmm" in ops or "%zmm" in ops
    mem = "(" in ops
    dst_mem = mem and ops.rstrip().endswith(")")
    m = mn[1:] if mn.startswith("v") and vec else mn
    m = re.sub(r"^(vp|p)", "p", m) if vec else m
    if not vec:
        return ("scalar", None, 0, None, 0, 0, 1)
    if re.match(r"(mov(aps|apd|ups|upd|dqa|dqu|dqa64|dqu32|dqu64|ss|sd|d|q|lps|hps|lpd|hpd)|"
                r"broadcastss|broadcastsd|pbroadcast[bwdq]|movntps|movntpd|movntdq)$", m):
        if dst_mem:
            return ("st", None, 0, None, 0, 1, 1)
        if mem:
            return ("ld", None, 0, None, 1, 0, 1)
        if m.startswith(("broadcast", "pbroadcast")):
            return ("shuf", P12, 1, None, 0, 0, 1)
        if m in ("movd", "movq"):                       # gpr <-> vector
            return ("shuf", P12, 1, None, 0, 0, 1)
        return ("shuf", None, 0, None, 0, 0, 1)         # reg-reg move: eliminated at rename
    ld = 1 if mem else 0
    if re.match(r"(fn?m(add|sub)(132|213|231)|fmaddsub|fmsubadd|mul)(p|s)[sd]$", m):
        return ("fma", P01, 1, None, ld, 0, 1)
    if re.match(r"(add|sub|addsub)(p|s)[sd]$", m):
        return ("add", P23, 1, None, ld, 0, 1)
    # compares and min/max share the FADD pipes on Zen 3 (the probes below; LLVM's model
    # puts them on P0/P1), variable blends the FMA pipes
    if re.match(r"(cmp\w*(p|s)[sd]|min(p|s)[sd]|max(p|s)[sd])$", m):
        return ("cmp", P23, 1, None, ld, 0, 1)
    if re.match(r"blendv?p[sd]$", m):
        return ("blend", P01, 1, None, ld, 0, 1)
    if re.match(r"rcp(p|s)s$", m):
        return ("fma", P01, 1, None, ld, 0, 1)
    if re.match(r"(div|sqrt)(p|s)[sd]$", m):
        return ("div", P1, 1, m, ld, 0, 1)
    if re.match(r"(and|andn|or|xor)p[sd]$|p(and|andn|or|xor)[dq]?$", m):
        return ("logic", P0123, 1, None, ld, 0, 1)
    if m == "pblendd":
        return ("blend", P0123, 1, None, ld, 0, 1)
    if m == "pblendvb":
        return ("blend", P03, 1, None, ld, 0, 1)
    if re.match(r"p(add|sub)[bwdq]$|pcmp(eq|gt)[bwdq]$|p(min|max)[su][bwd]$|pabs[bwd]$", m):
        return ("int", P0123, 1, None, ld, 0, 1)
    if re.match(r"ps(ll|rl|ra)v?[wdq]$", m):
        return ("int", P12, 1, None, ld, 0, 1)
    if re.match(r"pmul", m):
        return ("int", P03, 1, None, ld, 0, 1)
    if re.match(r"cvt|round", m):
        wide = "%ymm" in ops and re.match(r"cvt(t?pd2|ps2pd|dq2pd|pd2ps)", m)
        return ("cvt", P23, 2 if wide else 1, None, ld, 0, 1)
    if re.match(r"movmskp[sd]$|pmovmskb$", m):
        return ("shuf", P2, 1, None, 0, 0, 1)
    if re.match(r"u?comis[sd]$", m):                   # scalar compare into flags
        return ("cmp", P23, 1, None, ld, 0, 1)
    if re.match(r"p[sr]l?l?dq$|ps[lr]ldq$", m):        # byte shifts are shuffles
        return ("shuf", P12, 1, None, ld, 0, 1)
    if re.match(r"(p?test|testp[sd])$", m):
        return ("cmp", P12, 1, None, ld, 0, 1)
    if re.match(r"perm(ps|d)$", m):
        return ("shuf", P1, 2, None, ld, 0, 1)
    if re.match(r"perm(pd|q)$", m):
        return ("shuf", P1, 2, None, ld, 0, 1)
    if re.match(r"perm2[fi]128$|insert[fi]128$", m):
        return ("shuf", P1, 1, None, ld, 0, 1)
    if re.match(r"extract[fi]128$", m):
        if dst_mem:
            return ("st", P0, 1, None, 0, 1, 1)
        return ("shuf", P0, 1, None, 0, 0, 1)
    if re.match(r"(shufp[sd]|pshuf[dbw]|pshufhw|pshuflw|unpck[lh]p[sd]|punpck\w+|permilp[sd]|"
                r"movs[hl]dup|movddup|palignr|pack\w+|pinsr\w|pextr\w|movhlps|movlhps)$", m):
        return ("shuf", P12, 1, None, ld, 0, 1)
    if m == "zeroupper":
        return ("scalar", None, 0, None, 0, 0, 1)
    return ("other:" + mn, P0123, 1, None, ld, 0, 1)   # unknown: any FP pipe (reported)


# ----------------------------------------------------------------------------
# Intel server cores with AVX-512 (Ice Lake-SP, Sapphire/Emerald Rapids): vector ports
# P0, P1, P5 (Intel's optimization manual; uops.info).  While 512-bit uops are in flight
# port 1's vector units are fused into port 0, so a loop with zmm instructions issues its
# vector uops to P0 and P5 only (`wide`).  The probes below check the port claims that
# decide the bounds (FMA/add on two ports, compares into masks and permutes on one,
# shifts and conversions on the other) and measure the divider.
# ----------------------------------------------------------------------------
INTEL_LOADS_PER_CYCLE = 2       # 512-bit loads (3 for narrower ones on Golden Cove)
INTEL_STORES_PER_CYCLE = 1      # 512-bit stores
INTEL_DISPATCH_PER_CYCLE = 6    # Golden Cove allocation width (5 on Ice Lake)
INTEL_WINDOW = 97               # Golden Cove's vector/integer scheduler entries


def classify_intel(mn, ops, wide):
    """(display class, [(ports, uops)], divider key, loads, stores, macro-ops)"""
    z = "%zmm" in ops
    vec = z or "%ymm" in ops or "%xmm" in ops
    mem = "(" in ops
    dst_mem = mem and "(" in _split_ops(ops)[-1]       # also `vmovups %zmm0,(%rdi){%k1}`
    masked = "{%k" in ops

    def P(*ports):                    # vector ports, without port 1 in a 512-bit loop
        ps = tuple(p for p in ports if not (wide and p == "1"))
        return ps or ("0",)

    if mn.startswith("k"):                                   # mask-register instructions
        if re.match(r"kmov", mn):
            if "(" in ops:
                return ("mask", [], None, 0 if ops.rstrip().endswith(")") else 1,
                        1 if ops.rstrip().endswith(")") else 0, 1)
            src = _split_ops(ops)[0]
            return ("mask", [(P("5") if not src.startswith("%k") else P("0"), 1)], None, 0, 0, 1)
        if re.match(r"k(shift|unpck|add)", mn):
            return ("mask", [(P("5"), 1)], None, 0, 0, 1)
        return ("mask", [(P("0"), 1)], None, 0, 0, 1)
    if not vec:
        return ("scalar", [], None, 0, 0, 1)
    m = mn[1:] if mn.startswith("v") else mn
    ld = 1 if mem and not dst_mem else 0
    all3 = P("0", "1", "5")
    if re.match(r"mov(aps|apd|ups|upd|dq[au](8|16|32|64)?|ss|sd|d|q|lps|hps|lpd|hpd|ntps|ntpd|"
                r"ntdq)$|(p?broadcast)", m):
        if dst_mem:
            return ("st", [], None, 0, 1, 1)
        if mem:
            return ("ld", [(all3, 1)] if masked else [], None, 1, 0, 1)
        if m.startswith(("broadcast", "pbroadcast")):
            return ("shuf", [(P("5"), 1)], None, 0, 0, 1)
        if m in ("movd", "movq"):
            to_gpr = not _split_ops(ops)[-1].startswith(("%xmm", "%ymm", "%zmm"))
            return ("shuf", [(P("0") if to_gpr else P("5"), 1)], None, 0, 0, 1)
        if masked or m in ("movss", "movsd"):                # merge: a blend
            return ("blend", [(all3, 1)], None, 0, 0, 1)
        return ("shuf", [], None, 0, 0, 1)                   # eliminated at rename
    if re.match(r"(fn?m(add|sub)(132|213|231)|fmaddsub|fmsubadd|mul)(p|s)[sd]$", m):
        return ("fma", [(P("0", "1", "5") if z else P("0", "1"), 1)], None, ld, 0, 1)
    if re.match(r"(add|sub)(p|s)[sd]$", m):
        return ("add", [(P("0", "5") if z else P("1", "5"), 1)], None, ld, 0, 1)
    if re.match(r"(min|max)(p|s)[sd]$", m):
        return ("cmp", [(P("0", "5") if z else P("0", "1"), 1)], None, ld, 0, 1)
    if re.match(r"(cmp\w*(p|s)[sd]|pcmp\w*|fpclass\w*|ptestn?m\w*)$", m):
        into_k = _split_ops(ops)[-1].startswith("%k")
        return ("cmp", [(P("5") if into_k else P("0", "1"), 1)], None, ld, 0, 1)
    if re.match(r"u?comis[sd]$", m):
        return ("cmp", [(P("0"), 1)], None, ld, 0, 1)
    if re.match(r"blendv(ps|pd)$|pblendvb$", m):
        return ("blend", [(all3, 3 if not z else 1)], None, ld, 0, 1)
    if re.match(r"(blendm|pblendm)\w+$|blendp[sd]$|pblendd$", m):
        return ("blend", [(all3, 1)], None, ld, 0, 1)
    if re.match(r"(div|sqrt)(p|s)[sd]$", m):
        return ("div", [(P("0"), 2), (P("5"), 1)] if z else [(P("0"), 1)], m, ld, 0, 1)
    if re.match(r"(rcp|rsqrt)(14|28)?(p|s)[sd]$", m):
        return ("div", [(P("0"), 2)] if z else [(P("0"), 1)], None, ld, 0, 1)
    if re.match(r"(and|andn|or|xor)p[sd]$|p(and|andn|or|xor)[dq]?$|pternlog[dq]$", m):
        return ("logic", [(all3, 1)], None, ld, 0, 1)
    if re.match(r"p(add|sub)[bwdq]$|p(min|max)[su][bwdq]$|pabs[bwdq]$", m):
        return ("int", [(all3, 1)], None, ld, 0, 1)
    if re.match(r"ps(ll|rl|ra)v?[wdq]$", m):
        return ("int", [(P("0", "1"), 1)], None, ld, 0, 1)
    if re.match(r"pmul", m):
        return ("int", [(P("0", "1"), 2 if "pmulld" in m else 1)], None, ld, 0, 1)
    if re.match(r"scalef\w+$", m):
        return ("cvt", [(P("0", "5"), 1)], None, ld, 0, 1)
    if re.match(r"(getexp|getmant|fixupimm|reduce|range)\w+$", m):
        return ("cvt", [(P("0"), 1)], None, ld, 0, 1)
    if re.match(r"cvt|round|rndscale", m):
        if re.match(r"cvt(t?pd2|ps2pd|dq2pd|udq2pd|pd2ps|ss2sd|sd2ss|si2s|usi2s)", m):
            return ("cvt", [(P("0", "1"), 1), (P("5"), 1)], None, ld, 0, 1)
        if m.startswith(("round", "rndscale")):
            return ("cvt", [(P("0", "1"), 2)], None, ld, 0, 1)
        return ("cvt", [(P("0", "5") if z else P("0", "1"), 1)], None, ld, 0, 1)
    if re.match(r"movmskp[sd]$|pmovmskb$|pmov[dqw]2m$|pmovm2[dqw]$", m):
        return ("shuf", [(P("0"), 1)], None, 0, 0, 1)
    if re.match(r"extract(f|i)\w+$|extractps$|pextr\w$", m):
        if dst_mem:
            return ("st", [(P("5"), 1)], None, 0, 1, 1)
        return ("shuf", [(P("5"), 1)] + ([(P("0"), 1)] if m in ("extractps",) or
                                         m.startswith("pextr") else []), None, 0, 0, 1)
    if re.match(r"pmov(s|us)?[bwdq][bwdq]$", m):                # narrowing: two shuffles
        return ("shuf", [(P("5"), 2)], None, ld, 0, 1)
    if re.match(r"(perm\w*|shuf\w+|pshuf\w+|unpck\w+|punpck\w+|align[dq]|palignr|pack\w+|"
                r"pinsr\w|insert\w+|movs[hl]dup|movddup|movhlps|movlhps|ps[lr]ldq|"
                r"pmov[sz]x\w+|expand\w+|compress\w+)$", m):
        return ("shuf", [(P("5"), 1)], None, ld, 0, 1)
    if m == "zeroupper":
        return ("scalar", [], None, 0, 0, 1)
    return ("other:" + mn, [(all3, 1)], None, ld, 0, 1)


# ----------------------------------------------------------------------------
# AMD Zen 4: Zen 3's four 256-bit FP pipes (classify), with AVX-512.  A 512-bit op runs
# as two 256-bit halves on the same pipe(s) on consecutive cycles (AMD's Software
# Optimization Guide for family 19h, models 10h and later), so it costs its pipes twice
# a ymm op's time; loads: two 256-bit per cycle (a zmm load takes both); stores: one
# 256-bit per cycle (a zmm store takes two cycles).  Where the probes (`probe_expect`,
# `pair_expect` below) place a zmm instruction elsewhere than Zen 3's pipes, they win:
# compares into masks run on P0/P1 (0.99 cycles each, beside shifts, sharing a pipe with
# permutes), zmm shifts on P2/P3 (with conversions), vscalef takes both P2 and P3 for two
# cycles (2.0 cycles each, serialised with shifts), permutes P1/P2; vblendm* and
# vpternlog run on all four, vrcp14 on P0/P1; mask-register logic on P0-P3 (not probed: a
# few per loop at most).  Not modelled: zmm FMAs interleaved one to one with zmm adds take
# 10.3-10.7 cycles per 8 + 8 where their separate pipes allow 8 (the pair probe; FMAs with
# logic, or muls with adds, reach 8); it binds only where a loop's adds come near its
# FMAs in number, which the kernels' loops do not (their FMA pipes bind first).
# ----------------------------------------------------------------------------
ZEN4_LOADS_PER_CYCLE = 2        # 256-bit loads
ZEN4_STORES_PER_CYCLE = 1       # 256-bit stores


def classify_zen4(mn, ops, wide):
    """(display class, [(pipes, uops)], divider key, loads, stores, macro-ops), loads
    and stores in 256-bit halves"""
    z = "%zmm" in ops
    f = 2 if z else 1
    mem = "(" in ops
    dst_mem = mem and "(" in _split_ops(ops)[-1]
    masked = "{%k" in ops
    if mn.startswith("k"):
        if re.match(r"kmov", mn) and mem:
            return ("mask", [], None, 0 if dst_mem else 1, 1 if dst_mem else 0, 1)
        return ("mask", [(P0123, 1)], None, 0, 0, 1)
    vec = z or "%ymm" in ops or "%xmm" in ops
    if not vec:
        return ("scalar", [], None, 0, 0, 1)
    m = mn[1:] if mn.startswith("v") else mn
    ld = (f if mem and not dst_mem else 0)
    if re.match(r"mov(aps|apd|ups|upd|dq[au](8|16|32|64)?|ss|sd|d|q|ntps|ntpd|ntdq)$|"
                r"(p?broadcast)", m):
        if dst_mem:
            return ("st", [], None, 0, f, 1)
        if mem:
            return ("ld", [(P0123, f)] if masked else [], None, f, 0, 1)
        if masked:                                  # a merge: a blend
            return ("blend", [(P0123, f)], None, 0, 0, 1)
    if re.match(r"(cmp\w*(p|s)[sd]|pcmp\w*|fpclass\w*|ptestn?m\w*)$", m) and \
            _split_ops(ops)[-1].startswith("%k"):
        return ("cmp", [(P01, f)], None, ld, 0, 1)
    if z and re.match(r"ps(ll|rl|ra)v?[wdq]$", m):
        return ("int", [(P23, f)], None, ld, 0, 1)
    if re.match(r"(blendm|pblendm)\w+$", m):
        return ("blend", [(P0123, f)], None, ld, 0, 1)
    if re.match(r"pternlog[dq]$", m):
        return ("logic", [(P0123, f)], None, ld, 0, 1)
    if re.match(r"scalef\w+$", m):                    # both add pipes, two cycles per half
        return ("cvt", [(P23, 2 * f)], None, ld, 0, 1)
    if re.match(r"(rcp14|rsqrt14)\w+$", m):
        return ("fma", [(P01, f)], None, ld, 0, 1)
    if re.match(r"(getexp|getmant|fixupimm|reduce|range|rndscale)\w+$|cvt\w*(2u|u2)\w*$", m):
        return ("cvt", [(P23, f)], None, ld, 0, 1)
    if re.match(r"extract[fi](32x4|32x8|64x2|64x4)$|insert[fi](32x4|32x8|64x2|64x4)$", m):
        if dst_mem:
            return ("st", [(P0, 1)], None, 0, 1, 1)
        return ("shuf", [(P0 if m.startswith("extract") else P1, 1)], None, ld, 0, 1)
    if re.match(r"perm[it]2\w+$|perm(ps|d|pd|q)$", m) and z:
        return ("shuf", [(P12, 2)], None, ld, 0, 1)
    if re.match(r"(expand|compress)\w+$|pmov(s|us)?[bwdq][bwdq]$|pmov[dqw]2m$|pmovm2[dqw]$", m):
        return ("shuf", [(P12, f)], None, ld, 0, 1)
    k, pipes, u, dkey, ld3, st3, mo = classify(mn, ops)
    if k == "st" and pipes is None:
        return (k, [], None, 0, f, mo)
    if k == "ld":
        return (k, [], None, f, 0, mo)
    return (k, ([(pipes, u * f)] if pipes else []), dkey, f * ld3, f * st3, mo)


# Intel latencies (cycles; Ice Lake / Golden Cove, uops.info): FMA, mul, add 4; compare
# into a mask 3; logic, integer, blend 1; permutes 3; conversions 4-7; vector load 8.
LAT_INTEL = {"fma": 4, "add": 4, "cvt": 5, "cmp": 3, "blend": 1, "logic": 1, "int": 1,
             "shuf": 3, "ld": 8, "mask": 1}
LAT_DIV_INTEL = {"divps": 17, "divpd": 23, "sqrtps": 19, "sqrtpd": 31,
                 "divss": 11, "divsd": 14, "sqrtss": 12, "sqrtsd": 18}


# Latencies (cycles) on Zen 3 for the critical path of one loop iteration, from the same
# LLVM model: FMA 4, mul/add/convert/round 3, compare/blend/logic/integer/shift 1, vector
# load 8 (7 when folded into an instruction), div 11 (ps) / 13 (pd), sqrt 15 / 21.
LAT = {"fma": 4, "add": 3, "cvt": 3, "cmp": 1, "blend": 1, "logic": 1, "int": 1, "shuf": 1,
       "ld": 8}
LAT_DIV = {"divps": 11, "divpd": 13, "sqrtps": 15, "sqrtpd": 21,
           "divss": 11, "divsd": 13, "sqrtss": 15, "sqrtsd": 21}
FOLDED_LOAD = 7
# Zen 3 FP ops that may wait for operands: 64 scheduler entries (2 x 32) plus the 64-entry
# non-scheduling queue (AMD SOG 19h, 2.11), the window of the estimate below
FP_WINDOW = 128

def classify_zen3(mn, ops, wide=False):
    """classify() in the shape of classify_intel()"""
    k, pipes, u, dkey, ld, st, mo = classify(mn, ops)
    return k, ([(pipes, u)] if pipes else []), dkey, ld, st, mo


# The port models: the CPU's vendor picks one (--model overrides).
MODELS = {
    "zen3": {"cpu": "AMD Zen 3", "classify": classify_zen3, "pipes": ("0", "1", "2", "3"),
             "loads": LOADS_PER_CYCLE, "stores": STORES_PER_CYCLE,
             "dispatch": DISPATCH_PER_CYCLE, "lat": LAT, "lat_div": LAT_DIV,
             "folded": FOLDED_LOAD, "window": FP_WINDOW, "perm_lat": 4, "div_default": LLVM_DIV,
             "ref": "LLVM Zen 3",
             "probe_expect": {"vmulps_ymm": 0.5, "vaddps_ymm": 0.5, "vfmadd231ps_ymm": 0.5,
                              "vblendvps_ymm": 0.5, "vcmpltps_ymm": 0.5,
                              **{k + "_" + w: v for k, v in LLVM_DIV.items()
                                 for w in ("ymm", "xmm")}},
             "pair_expect": {"vfmadd231ps+vblendvps": 8, "vfmadd231ps+vcmpltps": 8,
                             "vfmadd231ps+vmaxps": 8, "vaddps+vcmpltps": 4, "vaddps+vmaxps": 4,
                             "vaddps+vcvtdq2ps": 8, "vaddps+vblendvps": 4},
             "pair_text": "ymm pairs: 8 FMA chains or adds with 8 of the other; cycles per loop: "
                          "4 = separate pipes, 8 = the same two pipes. The bound uses what is "
                          "measured here: compares and min/max on the FADD pipes P2/P3, blendv on "
                          "the FMA pipes P0/P1 (LLVM's model puts compares on P0/P1).",
             "bound_text": "FP pipes P0/P1: fma, mul, blendv; P2/P3: add, compare, min/max, "
                           "convert, round; P0-P3: logic, integer add; P1/P2: shifts, in-lane "
                           "shuffles; P1: permutes, divider; 3 loads, 1 store, 6 macro-ops per "
                           "cycle; from LLVM's X86ScheduleZnver3.td (after AMD's Software "
                           "Optimization Guide for family 19h), corrected by the probes below "
                           "where this CPU differs (compares, min/max)",
             "lat_text": "Zen 3 latencies of the LLVM model: FMA 4, add/mul/convert 3, "
                         "logic/compare/blend 1, vector load 8, div 11/13, sqrt 15/21",
             "window_text": "Zen 3's 128-entry FP window (64 scheduler + 64 non-scheduling "
                            "queue entries)"},
    "intel512": {"cpu": "Intel server core with AVX-512 (Ice Lake-SP, Sapphire Rapids)",
                 "classify": classify_intel, "pipes": ("0", "1", "5"),
                 "loads": INTEL_LOADS_PER_CYCLE, "stores": INTEL_STORES_PER_CYCLE,
                 "dispatch": INTEL_DISPATCH_PER_CYCLE, "lat": LAT_INTEL,
                 "lat_div": LAT_DIV_INTEL, "folded": 8, "window": INTEL_WINDOW, "perm_lat": 3,
                 "div_default": {}, "ref": "model",
                 "probe_expect": {"vmulps_ymm": 0.5, "vaddps_ymm": 0.5, "vfmadd231ps_ymm": 0.5,
                                  "vblendvps_ymm": 1, "vcmpltps_ymm": 0.5,
                                  "vfmadd231ps_zmm": 0.5, "vaddps_zmm": 0.5,
                                  "vcmpltps_zmm_k": 1, "vpslld_zmm": 1, "vpermps_zmm": 1,
                                  "vcvtdq2ps_zmm": 0.5, "vscalefps_zmm": 0.5,
                                  "vblendmps_zmm": 0.5, "vpandd_zmm": 0.5, "vrcp14ps_zmm": 2},
                 "pair_expect": {"vfmadd231ps+vblendvps": 10.67, "vfmadd231ps+vcmpltps": 8,
                                 "vfmadd231ps+vmaxps": 8, "vaddps+vcmpltps": 5.33,
                                 "vaddps+vmaxps": 5.33, "vaddps+vcvtdq2ps": 5.33,
                                 "vaddps+vblendvps": 10.67,
                                 "zmm:vpslld+vcmpltps_k": 8, "zmm:vpslld+vpermps": 8,
                                 "zmm:vcvtdq2ps+vpslld": 8, "zmm:vpermps+vcmpltps_k": 16,
                                 "zmm:vscalefps+vpslld": 8, "zmm:vscalefps+vpermps": 8,
                                 "zmm:vfmadd231ps+vaddps": 16},
                 "pair_text": "ymm pairs: 8 FMA chains or adds with 8 of the other (ymm FMA, "
                              "compare, min/max, convert on P0/P1, add on P1/P5, blendv 3 uops "
                              "on P0/P1/P5); zmm pairs: 8 of each, 8 cycles per loop when they "
                              "issue on different single ports, 16 when they share one (shifts "
                              "on P0; compares into masks and permutes on P5; convert and "
                              "scalef on P0/P5)",
                 "bound_text": "vector ports P0, P1, P5, and only P0 and P5 in a loop with "
                               "512-bit instructions (P1's vector units are fused into P0 "
                               "then); zmm: FMA, mul, add, min/max, logic, integer add, blend, "
                               "convert, scalef on P0/P5; shifts on P0; compares into masks, "
                               "permutes and shuffles on P5; div/sqrt 2 uops on P0 + 1 on P5 "
                               "plus the divider's measured occupancy; 2 512-bit loads, 1 "
                               "512-bit store and 6 macro-ops per cycle; from Intel's "
                               "optimization manual and uops.info, checked by the probes below",
                 "lat_text": "Intel latencies: FMA/mul/add 4, compare into a mask 3, "
                             "logic/integer/blend 1, permutes 3, convert 5, vector load 8, "
                             "div 17/23, sqrt 19/31",
                 "window_text": "Golden Cove's 97-entry scheduler"},
}

# Zen 4: Zen 3's pipes, latencies and window, 512-bit ops double-pumped (classify_zen4)
MODELS["zen4"] = dict(
    MODELS["zen3"], cpu="AMD Zen 4", classify=classify_zen4,
    loads=ZEN4_LOADS_PER_CYCLE, stores=ZEN4_STORES_PER_CYCLE, ref="model",
    probe_expect={**MODELS["zen3"]["probe_expect"],
                  "vfmadd231ps_zmm": 1, "vaddps_zmm": 1, "vcmpltps_zmm_k": 1, "vpslld_zmm": 1,
                  "vpermps_zmm": 1, "vcvtdq2ps_zmm": 1, "vscalefps_zmm": 2,
                  "vblendmps_zmm": 0.5, "vpandd_zmm": 0.5, "vrcp14ps_zmm": 1},
    pair_expect={**MODELS["zen3"]["pair_expect"],
                 "zmm:vpslld+vcmpltps_k": 8, "zmm:vpslld+vpermps": 10.67,
                 "zmm:vcvtdq2ps+vpslld": 16, "zmm:vpermps+vcmpltps_k": 10.67,
                 "zmm:vscalefps+vpslld": 24, "zmm:vscalefps+vpermps": 16,
                 "zmm:vfmadd231ps+vaddps": 8, "zmm:16xvfmadd231ps": 16,
                 "zmm:16xvfmadd231ps+vdivps": 17, "zmm:16xvfmadd231ps+vsqrtps": 17,
                 "zmm:16xvfmadd231ps+vdivpd": 17, "zmm:16xvfmadd231ps+vsqrtpd": 17},
    pair_text="ymm pairs as on Zen 3 (4 cycles per loop = separate pipes, 8 = the same two); "
              "zmm pairs: 8 of each, each zmm op two cycles on its pipes: 16 cycles per loop "
              "when both use the same two pipes, 10.67 when they share one (32 pipe-cycles on "
              "three pipes), 8 when apart; 16 FMAs and one division or square root: 17 if the "
              "divider's op took P1 for the two cycles of a 512-bit op; what it adds beyond "
              "16 cycles, times two, is the P1 time the bound charges per zmm division or square "
              "root",
    bound_text="Zen 3's FP pipes (P0/P1: fma, mul, blendv, rcp14, zmm compares into masks; "
               "P2/P3: add, compare, min/max, convert, zmm shifts, vscalef (both for two "
               "cycles); P0-P3: logic, ternlog, blendm, integer add; P1/P2: ymm shifts, "
               "shuffles, permutes; P1: divider, a zmm division or square root taking P1 "
               "for the time measured by the 16 FMA + 1 probes below), each 512-bit op two "
               "cycles on its pipe (double-pumped); two 256-bit loads and one 256-bit store per "
               "cycle (a zmm load or store counts twice); 6 macro-ops per cycle; AVX-512's own "
               "instructions placed by the probes below",
    lat_text="Zen 3's latencies (LLVM model; Zen 4 keeps them for 512-bit ops): FMA 4, "
             "add/mul/convert 3, logic/compare/blend 1, vector load 8",
    window_text="the 128-entry FP window of Zen 3 (Zen 4: same scheduler layout)")


# two-operand SSE instructions whose destination is written only
_WRITE_ONLY = re.compile(r"(mov\w*|cvt\w*|sqrt\w*|pshuf[dhl]w?|pshufd|rcp\w*|rsqrt\w*|"
                         r"broadcast\w*|pbroadcast\w*|round\w*|perm\w*|extract\w*|movmsk\w*|"
                         r"pmovmskb|lea\w*)$")


def _regs(op):
    return [("v" + r[3:]) if r[:3] in ("xmm", "ymm", "zmm") else r
            for r in re.findall(r"%(\w+)", op)]


def _split_ops(ops):
    out, depth, cur = [], 0, ""
    for ch in ops:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def critical_path(body, model):
    """longest dependency chain (cycles) through one iteration of a loop body
    [(mnemonic, operands)], registers only; memory operands start a chain at the
    load latency; the loop counter's one-cycle carried chain is ignored"""
    ready = collections.defaultdict(float)
    longest = waits = 0.0
    wide = any("%zmm" in ops for _, ops in body)
    for mn, ops in body:
        k, _, dkey, ld, st, _ = model["classify"](mn, ops, wide)
        if mn.startswith("j") or k == "scalar":
            continue
        parts = _split_ops(ops)
        if not parts:
            continue
        mem = [x for x in parts if "(" in x]
        regs = [x for x in parts if x.startswith("%")]
        dst = None if (st or (parts[-1].startswith("(") or "(" in parts[-1])) else parts[-1]
        m = mn[1:] if mn.startswith("v") else mn
        srcs = [x for x in parts[:-1] if x.startswith("%")] if dst else regs
        vex = mn.startswith("v")
        if dst and (re.match(r"fn?m(add|sub)", m) or (not vex and not _WRITE_ONLY.match(m)
                                                     and len(parts) == 2)):
            srcs = srcs + [dst]
        t0 = max([ready[_regs(x)[0]] for x in srcs if _regs(x)] + [0.0])
        if mem and k != "st":
            t0 = max(t0, float(model["folded"] if k != "ld" else 0))
        if k == "ld":
            lat = model["lat"]["ld"]
        elif k == "st":
            lat = 0
        elif dkey:
            lat = model["lat_div"].get(dkey, 13)
        elif k == "shuf" and ("perm" in m and ("%ymm" in ops or "%zmm" in ops)):
            lat = model["perm_lat"]
        elif k == "shuf" and re.match(r"mov(aps|apd|ups|upd|dq[au](8|16|32|64)?)$", m):
            lat = 0
        else:
            lat = model["lat"].get(k, 1)
        t = t0 + lat
        waits += t0
        if dst and _regs(dst):
            ready[_regs(dst)[0]] = t
        longest = max(longest, t)
    return longest, waits


def main_loop(per_elem, ins):
    """the largest loop among the executed code: a run of consecutive instructions (in
    disassembly order) executed equally often whose last instruction jumps back to its
    first; returns (body, executions per element)"""
    addrs = sorted(ins)
    pos = {a: i for i, a in enumerate(addrs)}
    runs, run, prev = [], [], None
    for a in sorted(per_elem):
        if run and (pos[a] != pos[prev] + 1 or abs(per_elem[a] - per_elem[prev]) > 1e-12):
            runs.append(run)
            run = []
        run.append(a)
        prev = a
    if run:
        runs.append(run)
    loops = []
    for r in runs:
        mn, ops = ins[r[-1]]
        m = re.match(r"([0-9a-f]+)", ops)
        if mn.startswith("j") and m and int(m.group(1), 16) == r[0]:
            loops.append(r)
    if not loops:
        return [], 0
    best = max(loops, key=len)
    return [ins[a] for a in best], per_elem[best[0]]


def fp_bound(uops, pipes):
    """max over subsets S of the FP pipes of (uops confined to S) / |S|, and the worst S"""
    best, arg = 0.0, ()
    for r in range(1, len(pipes) + 1):
        for s in itertools.combinations(pipes, r):
            tot = sum(u for allowed, u in uops.items() if set(allowed) <= set(s))
            if tot / r > best + 1e-12:
                best, arg = tot / r, s
    return best, arg


# ----------------------------------------------------------------------------
# inputs: kernels, parameters, loop modules
# ----------------------------------------------------------------------------
def transc_kernels(name="FA_TRANSC_KERNELS"):
    """The kernels of catalogue list `name` (src/fa_kernels.h), lists inside it expanded."""
    text = open(os.path.join(SRC, "fa_kernels.h")).read()
    m = re.search(r"#define " + name + r"\(X\)((?:[^\n]*\\\n)*[^\n]*)", text)
    out = []
    for sub, k in re.findall(r"\b(FA_\w+)\(X\)|\bX\((\w+)\)", m.group(1)):
        out += transc_kernels(sub) if sub else [k]
    return out


def kernel_params():
    """{kernel name: (activation, values, (p0..p3))}: the first row (defaults, then
    its test cases) of fastact/_table.py that maps onto each kernel"""
    from fastact import _table
    rows = _table.TABLE.values() if isinstance(_table.TABLE, dict) else _table.TABLE
    found = {}
    for a in rows:
        if a.kind != "elementwise" or a.kernel is None:
            continue
        dflt = {p.name: p.default for p in a.params}
        for vals in [dflt] + [{**dflt, **c} for c in a.cases]:
            try:
                k, p = a.kernel(*[vals[p.name] for p in a.params])
                p = tuple(float(v) for v in p)
            except (ValueError, TypeError):
                continue
            found.setdefault(k, (a.name, vals, p))
    return found


def loop_modules(variants):
    import fastact
    from fastact import _dispatch
    pkg = os.path.dirname(fastact.__file__)
    best = _dispatch.state.variant
    out = []
    for v in variants:
        v = best if v == "best" else v
        if any(v == o[0] for o in out):
            continue
        so = sorted(glob.glob(os.path.join(pkg, f"_loops_{v}.*so")) +
                    glob.glob(os.path.join(pkg, f"_loops_{v}.*pyd")))
        if not so:
            sys.exit(f"no loop module for {v} in {pkg}: build with pip install -e .")
        out.append((v, so[0]))
    return out, best


def stale_warning(so):
    newest = max(os.path.getmtime(p) for p in glob.glob(os.path.join(SRC, "**", "*.[ch]"),
                                                          recursive=True))
    if os.path.getmtime(so) < newest:
        return (f"WARNING: {os.path.basename(so)} is older than a file of src/: rebuild "
                "(pip install --no-build-isolation -e .) to measure the current sources")
    return None


def build_driver(tmp):
    """(driver, stepper) executables"""
    cc = os.environ.get("CC", "gcc" if shutil.which("gcc") else "cc")
    exes = []
    for name, src in (("driver", DRIVER), ("stepper", STEPPER)):
        c = os.path.join(tmp, name + ".c")
        with open(c, "w") as f:
            f.write(src)
        exe = os.path.join(tmp, name)
        subprocess.run([cc, "-O2", "-std=c11", "-rdynamic", "-I", os.path.join(SRC, "isa"), c,
                        "-o", exe, "-ldl", "-lm"], check=True)
        exes.append(exe)
    return tuple(exes)


# ----------------------------------------------------------------------------
# instruction counts (callgrind) and disassembly (objdump)
# ----------------------------------------------------------------------------
def disassemble(so):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", so], capture_output=True,
                         text=True, check=True).stdout
    ins = {}
    for line in out.splitlines():
        m = re.match(r"\s+([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
        if m:
            ins[int(m.group(1), 16)] = (m.group(2), m.group(3).split("#")[0].strip())
    return ins


@functools.lru_cache(maxsize=None)
def code_end(so):
    """One past the loop module's last instruction, from its load address: other
    libraries may be mapped right after it, and their one-time paths must not count"""
    return max(disassemble(so)) + 16


def step_counts(stepper, driver, so, sym, kernel, form, dtype, n, p, tmp):
    """{instruction address in the loop module: executions} for one call of the kernel"""
    trace = os.path.join(tmp, "trace.bin")
    r = subprocess.run([stepper, trace, driver, "count", so, sym, kernel, form, dtype, str(n),
                        *map(repr, p)], capture_output=True, text=True, timeout=600)
    if r.returncode:
        sys.exit(f"count {kernel} {form} {dtype} failed:\n{r.stderr}")
    base = int(re.search(r"BASE ([0-9a-f]+)", r.stdout).group(1), 16)
    ips = np.fromfile(trace, dtype=np.uint64)
    os.remove(trace)
    ips = ips[(ips >= base) & (ips < base + code_end(so))] - np.uint64(base)   # this module only
    addr, cnt = np.unique(ips, return_counts=True)
    return dict(zip(addr.tolist(), cnt.tolist()))


def count_case(stepper, driver, so, sym, kernel, form, dtype, n, p, tmp):
    """executions per element of each instruction of the loop module (steady state): the
    counts for 2N elements minus those for N, over N (the call's fixed cost cancels)"""
    a, b = (step_counts(stepper, driver, so, sym, kernel, form, dtype, m, p, tmp)
            for m in (n, 2 * n))
    neg = [addr for addr in a if a[addr] > b.get(addr, 0)]
    if neg:     # a different code path at N than at 2N: the difference is not a steady state
        sys.exit(f"count {kernel} {form} {dtype}: {len(neg)} instructions run more often for "
                 f"{n} elements than for {2 * n}")
    return {addr: (b[addr] - a.get(addr, 0)) / n for addr in b if b[addr] - a.get(addr, 0) > 0}


def analyse(per_elem, ins, divcost, model):
    cls = collections.Counter()
    uops = collections.Counter()
    loads = stores = mops = div = vec = 0.0
    unknown = collections.Counter()
    wide = any("%zmm" in ins.get(a, ("", ""))[1] for a in per_elem)
    per_elem = {a: c for a, c in per_elem.items() if a in ins}   # this module's code only
    for addr, c in per_elem.items():
        mn, ops = ins[addr]
        k, ulist, dkey, ld, st, mo = model["classify"](mn, ops, wide)
        if re.match(r"j(?!mp)", mn):
            mo = 0      # fused with the cmp/test before it into one macro-op
        if k != "scalar":
            vec += c
        if k.startswith("other:"):
            unknown[mn] += c
            k = "int"
        cls[k] += c
        if ld and k != "ld":
            cls["ld"] += c * ld
        for pipes, u in ulist:
            uops[pipes] += c * u
        if dkey:
            w = "_zmm" if "%zmm" in ops else "_ymm" if "%ymm" in ops else "_xmm"
            div += c * divcost.get(dkey + w, model["div_default"].get(dkey, 5))
            if dkey + w in model.get("div_fma_pipe", {}):    # measured P1 cycles (zen4)
                uops[P1] += c * (model["div_fma_pipe"][dkey + w]
                                 - sum(u for p, u in ulist if p == P1))
        loads += c * ld
        stores += c * st
        mops += c * mo
    fp, fp_set = fp_bound(uops, model["pipes"])
    res = {"FP pipes " + "".join("P" + s for s in fp_set) if fp_set else "FP pipes": fp,
           "divider": div, "loads": loads / model["loads"], "stores": stores / model["stores"],
           "dispatch": mops / model["dispatch"]}
    limit = max(res, key=res.get)
    hottest = max(per_elem.values()) if per_elem else 0
    body, per = main_loop(per_elem, ins)
    chain, waits = critical_path(body, model)
    fp_ops = sum(1 for mn, ops in body if model["classify"](mn, ops, wide)[1]
                 or model["classify"](mn, ops, wide)[0] in ("ld", "st"))
    epi = 1 / per if per else 0          # elements per iteration of that loop
    return {"classes": dict(cls), "instr_per_elem": sum(per_elem.values()),
            "vector_per_elem": vec,
            "elems_per_iter": 1 / hottest if hottest else 0,
            "cycles": res, "bound_cycles": res[limit], "limit": limit,
            "loop": {"instructions": len(body), "elems_per_iter": epi, "chain_cycles": chain,
                     "fp_ops": fp_ops,
                     # to run at the bound, chain/bound iterations must overlap: that many
                     # times fp_ops FP ops in flight; over the window they cannot
                     "fp_in_flight": fp_ops * chain / (res[limit] * epi) if res[limit] else 0,
                     "window_cycles_per_elem": (fp_ops * chain / model["window"] / epi
                                                if epi else 0),
                     "waits": waits,
                     "little_cycles_per_elem": waits / model["window"] / epi if epi else 0},
            "unknown": dict(unknown)}


# ----------------------------------------------------------------------------
# timing
# ----------------------------------------------------------------------------
def time_driver(driver, cases, rounds, samples=15, batch_us=20.0):
    lines = [f"{rounds} {samples} {batch_us} {len(cases)}"]
    for c in cases:
        lines.append(" ".join([c["so"], c["sym"], c["kernel"], c["form"], c["dtype"],
                               str(c["n"]), *map(repr, c["p"])]))
    out = subprocess.run([driver, "time"], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, check=True).stdout
    med = collections.defaultdict(list)
    clocks = []
    for line in out.splitlines():
        f = line.split()
        if f[0] == "T":
            med[int(f[1])].append(float(f[3]))
        elif f[0] == "CLOCK":
            clocks.append(float(f[2]))
    return med, clocks


def time_front(cases, samples=9, reps=None):
    """ns/element through fastact._front.elementwise (Python call, one thread)"""
    from fastact import _dispatch
    import importlib
    front = _dispatch.state.kernels
    ids = front.kernel_ids()
    rng = np.random.default_rng(0)
    res = {}
    tables = {}
    for i, c in enumerate(cases):
        if c["variant"] not in tables:
            tables[c["variant"]] = importlib.import_module(f"fastact._loops_{c['variant']}").table
        front.set_table(tables[c["variant"]])
        dt = np.dtype(c["dtype"])
        x = (rng.standard_normal(c["n"]) * 3).astype(dt)
        g = (0.5 + rng.random(c["n"])).astype(dt)
        out = np.empty(c["n"], dt)
        k = ids[c["kernel"]]
        p = c["p"]
        if c["form"] == "fwd":
            def call():
                front.elementwise(k, 0, x, None, out, p[0], p[1], p[2], p[3], 1, 1 << 40)
        else:
            def call():
                front.elementwise(k, 1, g, x, out, p[0], p[1], p[2], p[3], 1, 1 << 40)
        for _ in range(20):
            call()
        t0 = time.thread_time()
        for _ in range(50):
            call()
        per = (time.thread_time() - t0) / 50
        r = reps or max(1, int(20e-6 / max(per, 1e-9)))
        ts = []
        for _ in range(samples):
            t0 = time.thread_time()
            for _ in range(r):
                call()
            ts.append((time.thread_time() - t0) / (r * c["n"]) * 1e9)
        res[i] = statistics.median(ts)
    front.set_table(tables.get(_dispatch.state.variant) or
                    importlib.import_module(f"fastact._loops_{_dispatch.state.variant}").table)
    return res


# ----------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------
def fmt_classes(cl):
    parts = []
    for k in CLASSES:
        if k == "scalar":
            continue
        v = cl.get(k, 0)
        if v >= 0.0005:
            parts.append(f"{k} {v:.3g}")
    return ", ".join(parts)


def table_lines(rows, variant, ghz):
    out = ["| kernel | form | dtype | ns/elem measured: median [min, max] | via `_front` ns/elem | "
           "vector instr/elem (by class) | scalar/elem | bound ns/elem | measured/bound | limit | "
           "main loop: instr, elem/iter, chain cycles | window estimate ns/elem |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["variant"] != variant:
            continue
        a = r["analysis"]
        meas = (f"{r['ns_median']:.3f} [{r['ns_min']:.3f}, {r['ns_max']:.3f}]"
                if r.get("ns_median") is not None else "-")
        front = f"{r['ns_front']:.3f}" if r.get("ns_front") is not None else "-"
        if a:
            vec = f"**{a['vector_per_elem']:.2f}**: {fmt_classes(a['classes'])}"
            bound = f"{r['bound_ns']:.3f}"
            ratio = f"{r['ns_median'] / r['bound_ns']:.2f}" if r.get("ns_median") else "-"
            lim = a["limit"]
            sc = f"{a['classes'].get('scalar', 0):.2f}"
            lp = a["loop"]
            loop = f"{lp['instructions']}, {lp['elems_per_iter']:g}, {lp['chain_cycles']:.0f}"
            win = f"{lp['window_cycles_per_elem'] / ghz:.3f}"
        else:
            vec = bound = ratio = lim = sc = loop = win = "-"
        out.append(f"| {r['kernel']} | {r['form']} | {r['dtype']} | {meas} | {front} | {vec} | {sc} | "
                   f"{bound} | {ratio} | {lim} | {loop} | {win} |")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", default="best,baseline",
                    help="comma list: best (the dispatched module), baseline, x86_64_v3")
    ap.add_argument("--kernels", default=None, help="comma list (default: FA_TRANSC_KERNELS)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--no-count", action="store_true", help="skip the counts (timings only)")
    ap.add_argument("--model", choices=sorted(MODELS), default=None,
                    help="port model (default: from the CPU vendor)")
    ap.add_argument("--no-front", action="store_true", help="skip the _front column")
    ap.add_argument("--docs", action="store_true", help="also rewrite the docs/performance.md table")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    if platform.machine().lower() not in ("x86_64", "amd64") or sys.platform != "linux":
        sys.exit("compute_bound: x86-64 Linux only (port models of x86 cores; ptrace)")
    kernels = args.kernels.split(",") if args.kernels else transc_kernels()
    params = kernel_params()
    mods, best = loop_modules(args.variants.split(","))
    warnings = [w for _, so in mods if (w := stale_warning(so))]
    info = dict(ln.split(":", 1) for ln in open("/proc/cpuinfo") if ":" in ln)
    info = {k.strip(): v.strip() for k, v in info.items()}
    flags = info.get("flags", "").split()
    intel = info.get("vendor_id") == "GenuineIntel"
    mname = args.model or ("intel512" if intel else "zen4" if "avx512f" in flags else "zen3")
    model = MODELS[mname]
    if mname == "intel512" and not (intel and "avx512f" in flags):
        warnings.append("WARNING: not an Intel CPU with AVX-512: the bound's port model is that "
                        "of Intel's AVX-512 server cores and does not describe this one")
    if mname == "zen4" and (info.get("vendor_id") != "AuthenticAMD"
                            or info.get("cpu family") != "25" or "avx512f" not in flags):
        warnings.append("WARNING: not an AMD Zen 4 CPU: the bound's port model is Zen 4's and "
                        "does not describe this one")
    if mname == "zen3" and (info.get("vendor_id") != "AuthenticAMD"
                            or info.get("cpu family") != "25" or "avx512f" in flags):
        warnings.append("WARNING: not an AMD Zen 3 CPU: the bound's port model is Zen 3's and "
                        "does not describe this one")
    for w in warnings:
        print(w, file=sys.stderr)
    do_count = not args.no_count
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")), platform.processor())

    cases = []
    for (variant, so), kname, form, dtype in itertools.product(
            mods, kernels, ("fwd", "bwd"), ("float32", "float64")):
        if kname not in params:
            print(f"skip {kname}: no row of fastact/_table.py maps onto it", file=sys.stderr)
            continue
        act, vals, p = params[kname]
        n = ARRAY_BYTES // np.dtype(dtype).itemsize
        cases.append({"variant": variant, "so": so, "sym": f"fa_loop_table_{variant}",
                      "kernel": kname, "activation": act, "form": form, "dtype": dtype,
                      "n": n, "p": p})

    with tempfile.TemporaryDirectory() as tmp:
        driver, stepper = build_driver(tmp)
        probe = subprocess.run([driver, "probe"], capture_output=True, text=True, check=True).stdout
        divcost, pairs = {}, {}
        for line in probe.splitlines():
            f = line.split()
            if f[0] == "PROBE":
                divcost[f[1]] = float(f[2])
            elif f[0] == "PAIR":
                pairs[f[1]] = float(f[2])
        print("throughput probe (cycles/instruction):", divcost, flush=True)
        if mname == "zen4" and "zmm:16xvfmadd231ps" in pairs:
            # a zmm division or square root keeps an FMA pipe (P1) busy beyond the two
            # cycles of a double-pumped op: 2 pipe-cycles per cycle it adds to 16 FMAs.
            # Where the loop takes no longer than the divider alone would, the probe
            # measures the divider, a resource of its own: the model's 2 cycles stay.
            base, occ = pairs["zmm:16xvfmadd231ps"], {}
            for k, v in pairs.items():
                if k.startswith("zmm:16xvfmadd231ps+v"):
                    op = k[len("zmm:16xvfmadd231ps+v"):]
                    alone = divcost.get("v" + op + "_zmm", float("inf"))
                    occ[op + "_zmm"] = max(2.0, 2 * (v - base)) if v > 1.1 * alone else 2.0
            model = dict(model, div_fma_pipe=occ)
            print("zmm divider ops, P1 pipe-cycles:", model["div_fma_pipe"], flush=True)
        # the divider key per instruction: name_{x,y}mm; scalar forms take the xmm figure
        divkeys = {}
        for k, v in divcost.items():
            if k.count("_") != 1:
                continue
            base, w = k.split("_")
            if not re.match(r"v(div|sqrt)", base):
                continue
            divkeys[base[1:] + "_" + w] = v
            if w == "xmm":
                divkeys[base[1:].replace("ps", "ss").replace("pd", "sd") + "_xmm"] = v

        analyses = {}
        if do_count:
            dis = {so: disassemble(so) for _, so in mods}
            t0 = time.time()
            for i, c in enumerate(cases):
                pe = count_case(stepper, driver, c["so"], c["sym"], c["kernel"], c["form"],
                                c["dtype"], COUNT_N, c["p"], tmp)
                analyses[i] = analyse(pe, dis[c["so"]], divkeys, model)
                a = analyses[i]
                print(f"count {c['variant']} {c['kernel']} {c['form']} {c['dtype']}: "
                      f"{a['instr_per_elem']:.2f} instr/elem, limit {a['limit']} "
                      f"{a['bound_cycles']:.3f} c/elem ({time.time() - t0:.0f}s)", flush=True)
        else:
            print("--no-count: no instruction counts", file=sys.stderr)

        med, clocks = time_driver(driver, cases, args.rounds)
    front = {} if args.no_front else time_front(cases)
    ghz = statistics.median(clocks)

    rows = []
    for i, c in enumerate(cases):
        ms = med.get(i, [])
        r = {k: c[k] for k in ("variant", "kernel", "activation", "form", "dtype", "n", "p")}
        r["ns_median"] = statistics.median(ms) if ms else None
        r["ns_min"], r["ns_max"] = (min(ms), max(ms)) if ms else (None, None)
        r["ns_front"] = front.get(i)
        r["analysis"] = analyses.get(i)
        if r["analysis"]:
            r["bound_ns"] = r["analysis"]["bound_cycles"] / ghz
        rows.append(r)

    head = [
        "# Compute bound of the transcendental kernels",
        "",
        "Written by `python bench/compute_bound.py` (method: its docstring; summary: "
        "docs/performance.md, \"Compute bound\").",
        "",
        f"- CPU: {cpu}; core clock measured during the run (a chain of dependent adds): "
        f"median {ghz:.2f} GHz [{min(clocks):.2f}, {max(clocks):.2f}] over {len(clocks)} samples; "
        "every bound below is at that clock.",
        f"- Loop modules: {', '.join(v + (' (dispatched)' if v == best else '') for v, _ in mods)}; "
        "timed by calling the module's loop table from C (no Python), 1 thread, out of place, "
        f"{ARRAY_BYTES // 1024} KiB per array (float32 {ARRAY_BYTES // 4}, float64 "
        f"{ARRAY_BYTES // 8} elements), median of {args.rounds} rounds' medians [min, max]; "
        "`via _front`: the same call through `fastact._front.elementwise` (Python call included).",
        "- Instructions per element: exact executions per element of each instruction of the "
        f"loop module (the driver single-stepped under ptrace for {COUNT_N} and {2 * COUNT_N} elements, "
        "differenced), classified from objdump. "
        "Vector instr/elem counts every instruction on xmm/ymm/zmm and mask registers (a load "
        "folded into an arithmetic instruction counts once, under its class, and again under "
        "`ld`). Classes: " + "; ".join(f"`{k}` {LABEL[k]}" for k in CLASSES if k != "scalar") + ".",
        f"- Bound: the instruction stream's throughput bound on the port model `{mname}` "
        f"({model['cpu']}: {model['bound_text']}); divider occupancy measured here. `limit` "
        "names the binding resource. "
        "It is a bound for the instructions the compiler emitted, not for the best possible "
        "code of the formula; latency is ignored (enough independent iterations assumed).",
        "- Main loop (estimates): the largest loop executed, its instructions, elements per "
        f"iteration and the longest dependency chain through one iteration (cycles, "
        f"{model['lat_text']}). `window estimate`: the time per element if every FP "
        f"op of an iteration stayed a whole chain in {model['window_text']}: ops x chain / "
        "window. It is a crude "
        "upper estimate (too high for long loops, whose ops do not all wait a whole chain); "
        "where it exceeds the bound, latency rather than the ports can explain the gap.",
    ]
    if warnings:
        head += ["", *("**" + w + "**" for w in warnings)]
    ref = model["ref"]
    probe_lines = ["", "Divider and port probes (cycles per instruction, 8 independent copies in "
                   f"a loop; {ref}'s figure beside it):", "",
                   f"| instruction | measured | {ref} |", "|---|---|---|"]
    for k, v in divcost.items():
        probe_lines.append(f"| {k.replace('_', ' ')} | {v:.2f} | "
                           f"{model['probe_expect'].get(k, '-')} |")
    probe_lines += ["", f"Port sharing ({model['pair_text']}).", "",
                    f"| pair | measured cycles per loop | {ref} |", "|---|---|---|"]
    for k, v in pairs.items():
        probe_lines.append(f"| {k.replace('+', ' + ')} | {v:.2f} | "
                           f"{model['pair_expect'].get(k, '-')} |")
    body = []
    for v, _ in mods:
        body += ["", f"## {v}" + (" (dispatched on this CPU)" if v == best else ""), ""]
        body += table_lines(rows, v, ghz)
    unknown = collections.Counter()
    for r in rows:
        if r["analysis"]:
            unknown.update(r["analysis"]["unknown"])
    if unknown:
        body += ["", "Unclassified vector instructions (modelled as any FP pipe): " +
                 ", ".join(sorted(unknown))]
    text = "\n".join(head + probe_lines + body) + "\n"
    print(text)
    if not args.no_write:
        out_md, out_json = OUT.format(mname) + ".md", OUT.format(mname) + ".json"
        os.makedirs(os.path.dirname(out_md), exist_ok=True)
        with open(out_md, "w") as f:
            f.write(text)
        with open(out_json, "w") as f:
            json.dump({"cpu": cpu, "model": mname, "ghz_median": ghz, "ghz_samples": clocks,
                       "probe": divcost, "pairs": pairs,
                       "div_fma_pipe": model.get("div_fma_pipe", {}),
                       "dispatched": best, "rows": rows}, f, indent=1)
        print(f"wrote {out_md} and {out_json}")
    if args.docs:
        write_docs(rows, best, ghz, cpu, mname)


def write_docs(rows, best, ghz, cpu, mname):
    begin, end = DOC_BEGIN.format(mname), DOC_END.format(mname)
    text = open(DOCS).read()
    if begin not in text or end not in text:
        sys.exit(f"{DOCS}: no compute-bound markers; add the section first")
    lines = [begin, "",
             f"{cpu}, {best} module, core clock {ghz:.2f} GHz (measured), 1 thread, L1-resident "
             "(8 KiB per array), out of place:", ""]
    lines += ["| kernel | form | dtype | ns/elem | vector instr/elem | bound ns/elem | "
              "measured/bound | limit |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["variant"] != best or not r["analysis"]:
            continue
        a = r["analysis"]
        lines.append(f"| {r['kernel']} | {r['form']} | {r['dtype']} | {r['ns_median']:.3f} | "
                     f"{a['vector_per_elem']:.2f} | {r['bound_ns']:.3f} | "
                     f"{r['ns_median'] / r['bound_ns']:.2f} | {a['limit']} |")
    lines += ["", end]
    a, rest = text.split(begin, 1)
    _, b = rest.split(end, 1)
    with open(DOCS, "w") as f:
        f.write(a + "\n".join(lines) + b)
    print(f"rewrote the table in {DOCS}")


if __name__ == "__main__":
    main()
