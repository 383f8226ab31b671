# fastact._front: everything of a call that does not depend on the CPU,
# compiled once: buffer access, the split of big arrays into static contiguous
# chunks run by OpenMP prange, the N-d strided walk, the stall guard, the
# mirror of the thread policy and the call fast paths (fast_*), which check
# their own operands and return None for anything the Python general path
# (fastact/_families/) must decide.  The loops themselves are reached through one
# fa_loop_table (src/isa/fa_table.h) per CPU target, set by
# fastact._dispatch with set_table(); every nogil runner below receives the
# table read once at its call's entry, so a switch never mixes two tables
# within one call.  The parts, by job, are Cython include files of src/front/
# (textual includes at the end of this file: still one module).
from cpython.buffer cimport (PyObject_GetBuffer, PyBuffer_Release, PyBuffer_IsContiguous,
                             PyBUF_RECORDS_RO, PyBUF_RECORDS)
from cpython.bool cimport PyBool_Check
from cpython.float cimport PyFloat_Check
from cpython.long cimport PyLong_Check, PyLong_CheckExact, PyLong_AsLongAndOverflow
from libc.limits cimport INT_MAX
from libc.math cimport isfinite, fabs, INFINITY
from libc.float cimport FLT_MAX, DBL_MAX
from libc.string cimport memcmp, memcpy
from libc.stdlib cimport malloc, free
from cpython.mem cimport PyMem_RawMalloc, PyMem_RawFree
from libc.stdint cimport uint16_t, uint32_t
from cpython.unicode cimport PyUnicode_CheckExact
from cython.parallel cimport prange
from cpython.pycapsule cimport PyCapsule_GetPointer
from cpython.contextvars cimport get_value
import os
import sys

cdef extern from "fa_table.h":
    ctypedef Py_ssize_t fa_tidx
    int FA_TABLE_ABI
    const char *FA_TABLE_CAPSULE
    int FA_TABLE_SMC
    int FA_TABLE_SMP_MAX, FA_TABLE_SMP_EXPSUM, FA_TABLE_SMP_LOGSUM, FA_TABLE_SMP_DOT, FA_TABLE_SMP_SUM
    int FA_TABLE_SMP_STEP, FA_TABLE_SMP_STATE, FA_TABLE_SMP_MIN, FA_TABLE_SMCP_STATE
    ctypedef struct fa_loop_table:
        int abi
        const char *target
        int kernel_count
        const char *const *kernel_names
        int gate_count
        const char *const *gate_names
        int (*fwd_block_f)(int k, const float *x, float *y, fa_tidx n, const double *p) noexcept nogil
        int (*fwd_block_d)(int k, const double *x, double *y, fa_tidx n, const double *p) noexcept nogil
        int (*bwd_block_f)(int k, int from_y, const float *g, const float *s, float *out, fa_tidx n,
                           const double *p) noexcept nogil
        int (*bwd_block_d)(int k, int from_y, const double *g, const double *s, double *out, fa_tidx n,
                           const double *p) noexcept nogil
        int (*fwd_strided_f)(int k, const char *x, fa_tidx sx, char *y, fa_tidx sy, fa_tidx n,
                             const double *p) noexcept nogil
        int (*fwd_strided_d)(int k, const char *x, fa_tidx sx, char *y, fa_tidx sy, fa_tidx n,
                             const double *p) noexcept nogil
        int (*bwd_strided_f)(int k, int from_y, const char *g, fa_tidx sg, const char *x, fa_tidx sx,
                             char *out, fa_tidx so, fa_tidx n, const double *p) noexcept nogil
        int (*bwd_strided_d)(int k, int from_y, const char *g, fa_tidx sg, const char *x, fa_tidx sx,
                             char *out, fa_tidx so, fa_tidx n, const double *p) noexcept nogil
        void (*softmax_rows_f)(const float *x, float *y, fa_tidx nr, fa_tidx L, int log_form,
                               fa_tidx pf) noexcept nogil
        void (*softmax_rows_d)(const double *x, double *y, fa_tidx nr, fa_tidx L, int log_form,
                               fa_tidx pf) noexcept nogil
        void (*softmax_bwd_row_f)(const float *g, const float *y, float *out, fa_tidx L,
                                  int log_form, fa_tidx pf) noexcept nogil
        void (*softmax_bwd_row_d)(const double *g, const double *y, double *out, fa_tidx L,
                                  int log_form, fa_tidx pf) noexcept nogil
        void (*softmax_cols_f)(const float *x, float *y, fa_tidx L, fa_tidx inner, fa_tidx w,
                               int log_form) noexcept nogil
        void (*softmax_cols_d)(const double *x, double *y, fa_tidx L, fa_tidx inner, fa_tidx w,
                               int log_form) noexcept nogil
        void (*softmax_bwd_cols_f)(const float *g, const float *y, float *out, fa_tidx L, fa_tidx inner,
                                   fa_tidx w, int log_form) noexcept nogil
        void (*softmax_bwd_cols_d)(const double *g, const double *y, double *out, fa_tidx L,
                                   fa_tidx inner, fa_tidx w, int log_form) noexcept nogil
        double (*sm_piece_reduce_f)(int op, const float *a, const float *b, float *tmp, fa_tidx n, float m,
                                    double *st, int first, int last) noexcept nogil
        int (*sm_piece_out_f)(const float *x, float *y, fa_tidx n, float m, float v, int log_form) noexcept nogil
        void (*sm_piece_bwd_out_f)(const float *g, const float *y, float *out, fa_tidx n, float d,
                                   int log_form) noexcept nogil
        void (*sm_cols_piece_reduce_f)(int op, float *a, const float *b, fa_tidx r, fa_tidx w, fa_tidx l0,
                                       fa_tidx L, float *m, float *v, double *st) noexcept nogil
        void (*sm_cols_piece_out_f)(const float *x, float *y, fa_tidx r, fa_tidx w, const float *m,
                                    const float *v, int log_form) noexcept nogil
        void (*sm_cols_piece_bwd_out_f)(const float *g, const float *y, float *out, fa_tidx r, fa_tidx w,
                                        const float *d, int log_form) noexcept nogil
        void (*softmax_prep_f)(const float *x, float *y, const unsigned char *m, fa_tidx ms, fa_tidx n,
                               float s, float fill) noexcept nogil
        void (*softmax_prep_d)(const double *x, double *y, const unsigned char *m, fa_tidx ms, fa_tidx n,
                               double s, double fill) noexcept nogil
        void (*prelu_cols_f)(const float *x, float *y, fa_tidx nrow, fa_tidx ncol,
                             const float *alpha) noexcept nogil
        void (*prelu_cols_d)(const double *x, double *y, fa_tidx nrow, fa_tidx ncol,
                             const double *alpha) noexcept nogil
        void (*prelu_cols_bwd_f)(const float *g, const float *x, float *out, fa_tidx nrow, fa_tidx ncol,
                                 const float *alpha, double *gsum) noexcept nogil
        void (*prelu_cols_bwd_d)(const double *g, const double *x, double *out, fa_tidx nrow,
                                 fa_tidx ncol, const double *alpha, double *gsum) noexcept nogil
        void (*prelu_row_f)(const float *x, float *y, fa_tidx n, float a) noexcept nogil
        void (*prelu_row_d)(const double *x, double *y, fa_tidx n, double a) noexcept nogil
        double (*prelu_row_bwd_f)(const float *g, const float *x, float *out, fa_tidx n,
                                  float a) noexcept nogil
        double (*prelu_row_bwd_d)(const double *g, const double *x, double *out, fa_tidx n,
                                  double a) noexcept nogil
        int (*bias_fwd_rows_f)(int k, const float *x, const float *bias, float *y, fa_tidx nrow,
                               fa_tidx ncol, const double *p) noexcept nogil
        int (*bias_fwd_rows_d)(int k, const double *x, const double *bias, double *y, fa_tidx nrow,
                               fa_tidx ncol, const double *p) noexcept nogil
        int (*bias_bwd_rows_f)(int k, int from_y, const float *g, const float *s, const float *bias,
                               float *out, fa_tidx nrow, fa_tidx ncol, const double *p) noexcept nogil
        int (*bias_bwd_rows_d)(int k, int from_y, const double *g, const double *s, const double *bias,
                               double *out, fa_tidx nrow, fa_tidx ncol, const double *p) noexcept nogil
        void (*colsum_f)(const float *x, double *acc, fa_tidx nrow, fa_tidx ncol) noexcept nogil
        void (*colsum_d)(const double *x, double *acc, fa_tidx nrow, fa_tidx ncol) noexcept nogil
        int (*gated_fwd_f)(int k, const float *a, const float *b, float *out, fa_tidx n, fa_tidx s,
                           const double *p) noexcept nogil
        int (*gated_fwd_d)(int k, const double *a, const double *b, double *out, fa_tidx n, fa_tidx s,
                           const double *p) noexcept nogil
        int (*gated_bwd_f)(int k, const float *g, const float *a, const float *b, float *da, float *db,
                           fa_tidx n, fa_tidx s, const double *p) noexcept nogil
        int (*gated_bwd_d)(int k, const double *g, const double *a, const double *b, double *da,
                           double *db, fa_tidx n, fa_tidx s, const double *p) noexcept nogil
        void (*sparsemax_rows_f)(const float *x, float *y, fa_tidx nr, fa_tidx L) noexcept nogil
        void (*sparsemax_rows_d)(const double *x, double *y, fa_tidx nr, fa_tidx L) noexcept nogil
        void (*sparsemax_bwd_rows_f)(const float *g, const float *y, float *out, fa_tidx nr,
                                     fa_tidx L) noexcept nogil
        void (*sparsemax_bwd_rows_d)(const double *g, const double *y, double *out, fa_tidx nr,
                                     fa_tidx L) noexcept nogil
        int (*fwd_block_h)(int k, const uint16_t *x, uint16_t *y, fa_tidx n, const double *p) noexcept nogil
        int (*fwd_block_b)(int k, const uint16_t *x, uint16_t *y, fa_tidx n, const double *p) noexcept nogil
        int (*bwd_block_h)(int k, int from_y, const uint16_t *g, const uint16_t *s, uint16_t *out, fa_tidx n,
                           const double *p) noexcept nogil
        int (*bwd_block_b)(int k, int from_y, const uint16_t *g, const uint16_t *s, uint16_t *out, fa_tidx n,
                           const double *p) noexcept nogil
        int (*fwd_strided_h)(int k, const char *x, fa_tidx sx, char *y, fa_tidx sy, fa_tidx n,
                             const double *p) noexcept nogil
        int (*fwd_strided_b)(int k, const char *x, fa_tidx sx, char *y, fa_tidx sy, fa_tidx n,
                             const double *p) noexcept nogil
        int (*bwd_strided_h)(int k, int from_y, const char *g, fa_tidx sg, const char *x, fa_tidx sx,
                             char *out, fa_tidx so, fa_tidx n, const double *p) noexcept nogil
        int (*bwd_strided_b)(int k, int from_y, const char *g, fa_tidx sg, const char *x, fa_tidx sx,
                             char *out, fa_tidx so, fa_tidx n, const double *p) noexcept nogil
        void (*widen_h)(const uint16_t *h, float *f, fa_tidx n) noexcept nogil
        void (*widen_b)(const uint16_t *h, float *f, fa_tidx n) noexcept nogil
        void (*narrow_h)(const float *f, uint16_t *h, fa_tidx n) noexcept nogil
        void (*narrow_b)(const float *f, uint16_t *h, fa_tidx n) noexcept nogil
        void (*prelu_cols_h)(const uint16_t *x, uint16_t *y, fa_tidx nrow, fa_tidx ncol,
                             const float *alpha) noexcept nogil
        void (*prelu_cols_b)(const uint16_t *x, uint16_t *y, fa_tidx nrow, fa_tidx ncol,
                             const float *alpha) noexcept nogil
        int (*fwd_block_nt_f)(int k, const float *x, float *y, fa_tidx n, const double *p) noexcept nogil
        int (*fwd_block_nt_d)(int k, const double *x, double *y, fa_tidx n, const double *p) noexcept nogil
        const int *sw_prefetch

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define FA_OPENMP 1
    #else
    #define FA_OPENMP 0
    static int omp_get_max_threads(void) { return 1; }
    #include <time.h>
    static double omp_get_wtime(void)   /* the stall guard's clock (its tests) */
    {
        struct timespec ts;
        timespec_get(&ts, TIME_UTC);
        return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    }
    #endif
    """
    int FA_OPENMP
    int omp_get_max_threads() nogil
    double omp_get_wtime() nogil

# Elements per chunk are rounded to this (64 bytes of float64) so every chunk
# but the last starts on a whole vector.
cdef enum:
    CHUNK_ALIGN = 16
    MAXDIM = 64

# The active loop table (None of its loops run before set_table), and the
# kernel names of the first table loaded: every later table must list the
# same names in the same order, so a kernel id means one kernel whichever
# target runs it, and ids computed once (fastact/_params.py) stay valid.
cdef const fa_loop_table *_T = NULL
cdef object _capsule = None        # keeps the active table's module alive
cdef tuple _names = None


def set_table(capsule):
    """Make the loop table in `capsule` (a target module's `table`) the one
    every later call runs; returns the previous capsule (None at first)."""
    global _T, _capsule, _names
    cdef const fa_loop_table *t = <const fa_loop_table *>PyCapsule_GetPointer(capsule, FA_TABLE_CAPSULE)
    if t.abi != FA_TABLE_ABI:
        raise ImportError(f"fastact: loop table {t.target.decode()!r} has layout {t.abi}, "
                          f"the front expects {FA_TABLE_ABI} (a stale build?)")
    names = (tuple(t.kernel_names[i].decode() for i in range(t.kernel_count)),
             tuple(t.gate_names[i].decode() for i in range(t.gate_count)))
    if _names is not None and names != _names:
        raise ImportError(f"fastact: loop table {t.target.decode()!r} numbers its kernels "
                          f"differently from the first table loaded (a stale build?)")
    old = _capsule
    _names = names
    _capsule = capsule
    _T = t
    return old


def table_target():
    """The target name of the active loop table (None before set_table)."""
    return None if _T == NULL else _T.target.decode()


cdef inline const fa_loop_table *_table() except NULL:
    if _T == NULL:
        raise RuntimeError("fastact._front: no loop table set (import fastact, not its _front)")
    return _T


def kernel_ids():
    """{kernel name: id}: the same in every target's table (set_table checks it)."""
    _table()
    return {name: i for i, name in enumerate(_names[0])}


def gate_ids():
    """{gate loop name: id} (src/fa_kernels.h FA_GATES): the same in every table."""
    _table()
    return {name: i for i, name in enumerate(_names[1])}


def openmp_enabled():
    return bool(FA_OPENMP)


def omp_max_threads():
    """omp_get_max_threads() of the calling thread (1 without OpenMP): it
    reflects OMP_NUM_THREADS and threadpoolctl limits."""
    return omp_get_max_threads()


# The module's parts, by job (Cython include: textual, in this order).
include "ndarray.pxi"
include "threads.pxi"
include "elementwise.pxi"
include "halfrows.pxi"
include "softmax.pxi"
include "smlong.pxi"
include "sparsemax.pxi"
include "prelu.pxi"
include "bias.pxi"
include "gated.pxi"
include "fastpath.pxi"
include "ufuncs.pxi"
