# fastact._front: everything of a call that does not depend on the CPU,
# compiled once: buffer access, the split of big arrays into static contiguous
# chunks run by OpenMP prange, the N-d strided walk, the stall guard, the
# mirror of the thread policy and the call fast paths (fast_*), which check
# their own operands and return None for anything the Python general path
# (fastact/_api.py) must decide.  The loops themselves are reached through one
# fa_loop_table (src/isa/fa_table.h) per CPU target, set by
# fastact._dispatch with set_table(); every nogil runner below receives the
# table read once at its call's entry, so a switch never mixes two tables
# within one call.
from cpython.buffer cimport (PyObject_GetBuffer, PyBuffer_Release, PyBuffer_IsContiguous,
                             PyBUF_RECORDS_RO, PyBUF_RECORDS)
from cpython.bool cimport PyBool_Check
from cpython.float cimport PyFloat_Check
from cpython.long cimport PyLong_Check, PyLong_CheckExact, PyLong_AsLongAndOverflow
from libc.limits cimport INT_MAX
from libc.math cimport isfinite
from libc.string cimport memcmp
from cpython.unicode cimport PyUnicode_CheckExact
from cython.parallel cimport prange
from cpython.pycapsule cimport PyCapsule_GetPointer

import os

cdef extern from "fa_table.h":
    ctypedef Py_ssize_t fa_tidx
    int FA_TABLE_ABI
    const char *FA_TABLE_CAPSULE
    int FA_TABLE_SMC
    unsigned int FA_TABLE_PF_MIN_BYTES
    ctypedef struct fa_loop_table:
        int abi
        const char *target
        int kernel_count
        const char *const *kernel_names
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
                                  int log_form) noexcept nogil
        void (*softmax_bwd_row_d)(const double *g, const double *y, double *out, fa_tidx L,
                                  int log_form) noexcept nogil
        void (*softmax_cols_f)(const float *x, float *y, fa_tidx L, fa_tidx inner, fa_tidx w,
                               int log_form) noexcept nogil
        void (*softmax_cols_d)(const double *x, double *y, fa_tidx L, fa_tidx inner, fa_tidx w,
                               int log_form) noexcept nogil
        void (*softmax_bwd_cols_f)(const float *g, const float *y, float *out, fa_tidx L, fa_tidx inner,
                                   fa_tidx w, int log_form) noexcept nogil
        void (*softmax_bwd_cols_d)(const double *g, const double *y, double *out, fa_tidx L,
                                   fa_tidx inner, fa_tidx w, int log_form) noexcept nogil
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
        int (*gated_fwd_f)(int k, const float *a, const float *b, float *out, fa_tidx n) noexcept nogil
        int (*gated_fwd_d)(int k, const double *a, const double *b, double *out, fa_tidx n) noexcept nogil
        int (*gated_bwd_f)(int k, const float *g, const float *a, const float *b, float *da, float *db,
                           fa_tidx n) noexcept nogil
        int (*gated_bwd_d)(int k, const double *g, const double *a, const double *b, double *da,
                           double *db, fa_tidx n) noexcept nogil

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
# target runs it, and ids computed once (fastact/_api.py) stay valid.
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
    names = tuple(t.kernel_names[i].decode() for i in range(t.kernel_count))
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
    return {name: i for i, name in enumerate(_names)}


def openmp_enabled():
    return bool(FA_OPENMP)


def omp_max_threads():
    """omp_get_max_threads() of the calling thread (1 without OpenMP): it
    reflects OMP_NUM_THREADS and threadpoolctl limits."""
    return omp_get_max_threads()


# Stall guard.  A parallel region cannot finish before every worker has run,
# and a worker needs a free core: right after a NumPy matmul, OpenBLAS's
# threads busy-wait on the other core of a 2-core machine and a 2-thread
# call of 50-200 us took 3-10 ms (bench/threads_results.md).  When the last
# chunk starts after the calling thread has finished the first one (the split
# cost more than it saved), or more than LATE_MAX_S after the region began
# (the calling thread may have lost its core too), and at least STALL_S
# late, every split is refused (one thread; results do not depend on it) for
# _pause seconds, doubling up to PAUSE_MAX_S while stalls repeat, reset by a
# region without one.  Plain globals: concurrent callers may race on them,
# which only moves the pause.
cdef double STALL_S = 50e-6
cdef double LATE_MAX_S = 1e-3
cdef double PAUSE_MIN_S = 0.05
cdef double PAUSE_MAX_S = 1.0
cdef bint _guard = os.environ.get("FASTACT_STALL_GUARD", "1") != "0"
cdef double _single_until = 0.0
cdef double _pause = PAUSE_MIN_S


cdef inline void _note_start(double t_region, double t_first_end, double t_last_start) noexcept nogil:
    global _single_until, _pause
    cdef double late = t_last_start - t_region
    if late > STALL_S and (late > LATE_MAX_S or t_last_start > t_first_end):
        _single_until = omp_get_wtime() + _pause
        _pause = _pause * 2 if _pause * 2 < PAUSE_MAX_S else PAUSE_MAX_S
    else:
        _pause = PAUSE_MIN_S


def stall_guard(on=None):
    """Whether the stall guard is on (set it with on=True/False); returns the
    previous setting.  FASTACT_STALL_GUARD=0 turns it off at import."""
    global _guard, _single_until, _pause
    cdef bint old = _guard
    if on is not None:
        _guard = bool(on)
        _single_until = 0.0
        _pause = PAUSE_MIN_S
    return old


def stall_state():
    """(seconds of one-thread pause left, the next pause) of the stall guard."""
    cdef double left = _single_until - omp_get_wtime()
    return (left if left > 0 else 0.0, _pause)


def note_region(double first_chunk, double last_start):
    """Record a parallel region whose first chunk took `first_chunk` seconds
    and whose last chunk started `last_start` seconds in (what _run_flat
    measures; for the tests of the guard)."""
    cdef double now = omp_get_wtime()
    _note_start(now - last_start, now - last_start + first_chunk, now)


def planned_chunks(Py_ssize_t n, int nthreads, Py_ssize_t grain, Py_ssize_t itemsize=4):
    """How many chunks (threads) a call of n elements would use now."""
    return _nchunks(n, itemsize, nthreads, grain)


cdef inline Py_ssize_t _nchunks(Py_ssize_t n, Py_ssize_t isz, int nthreads, Py_ssize_t grain) noexcept nogil:
    # One chunk per thread, but never chunks smaller than `grain` float32
    # elements' worth of bytes (float64: grain / 2 elements, measured to split
    # as well at half the count, bench/threads_results.md): below that the
    # split costs more than it saves.  One chunk while the stall guard pauses.
    cdef Py_ssize_t c = (n * isz // 4) // grain if grain > 0 else n
    if c > nthreads:
        c = nthreads
    if c > 1 and _guard and _single_until > 0.0 and omp_get_wtime() < _single_until:
        c = 1
    return c if c > 1 else 1


cdef inline int _block(const fa_loop_table *tb, int k, int mode, bint dbl, char *a, char *b, char *o,
                       Py_ssize_t n, const double *p) noexcept nogil:
    if dbl:
        if mode == 0:
            return tb.fwd_block_d(k, <const double *>a, <double *>o, n, p)
        return tb.bwd_block_d(k, mode == 2, <const double *>a, <const double *>b, <double *>o, n, p)
    if mode == 0:
        return tb.fwd_block_f(k, <const float *>a, <float *>o, n, p)
    return tb.bwd_block_f(k, mode == 2, <const float *>a, <const float *>b, <float *>o, n, p)


cdef inline int _strided(const fa_loop_table *tb, int k, int mode, bint dbl, char *a, Py_ssize_t sa, char *b, Py_ssize_t sb,
                         char *o, Py_ssize_t so, Py_ssize_t n, const double *p) noexcept nogil:
    if dbl:
        if mode == 0:
            return tb.fwd_strided_d(k, a, sa, o, so, n, p)
        return tb.bwd_strided_d(k, mode == 2, a, sa, b, sb, o, so, n, p)
    if mode == 0:
        return tb.fwd_strided_f(k, a, sa, o, so, n, p)
    return tb.bwd_strided_f(k, mode == 2, a, sa, b, sb, o, so, n, p)


cdef int _run_flat(const fa_loop_table *tb, int k, int mode, bint dbl, char *a, char *b, char *o, Py_ssize_t n,
                   const double *p, int nthreads, Py_ssize_t grain) noexcept nogil:
    cdef Py_ssize_t isz = 8 if dbl else 4
    cdef Py_ssize_t nch = _nchunks(n, isz, nthreads, grain)
    cdef Py_ssize_t chunk = (n + nch - 1) // nch
    chunk = (chunk + CHUNK_ALIGN - 1) // CHUNK_ALIGN * CHUNK_ALIGN
    nch = (n + chunk - 1) // chunk if n > 0 else 0
    cdef Py_ssize_t c, start, m
    cdef int rc = 0
    cdef double t_region
    cdef double tt[2]                   # shared: first chunk's end, last chunk's start
    if nch <= 1:
        # no parallel region at all: even an if(0) OpenMP region costs more
        # than a small array's whole computation
        return _block(tb, k, mode, dbl, a, b, o, n, p)
    t_region = omp_get_wtime()
    tt[0] = tt[1] = t_region
    for c in prange(nch, nogil=True, schedule='static', num_threads=nthreads):
        if c == nch - 1:
            tt[1] = omp_get_wtime()
        start = c * chunk
        m = n - start
        if m > chunk:
            m = chunk
        rc |= _block(tb, k, mode, dbl, a + start * isz, b + start * isz if b != NULL else NULL,
                     o + start * isz, m, p)
        if c == 0:
            tt[0] = omp_get_wtime()
    if _guard:
        _note_start(t_region, tt[0], tt[1])
    return rc


cdef int _run_nd(const fa_loop_table *tb, int k, int mode, bint dbl, Py_buffer *va, Py_buffer *vb, Py_buffer *vo,
                 const double *p) noexcept nogil:
    # Any shape and strides: walk the outer axes with an odometer and run the
    # gather/compute/scatter kernel along the axis where `out` has the smallest
    # stride (its fastest-moving memory), so the walk follows memory order.
    cdef int nd = vo.ndim, i, inner = nd - 1
    cdef Py_ssize_t best = -1, s
    for i in range(nd):
        s = vo.strides[i] if vo.strides[i] >= 0 else -vo.strides[i]
        if vo.shape[i] > 1 and (best < 0 or s < best):
            best = s
            inner = i
    cdef Py_ssize_t idx[MAXDIM]
    cdef Py_ssize_t L = vo.shape[inner]
    cdef char *pa
    cdef char *pb
    cdef char *po
    cdef int rc = 0
    for i in range(nd):
        idx[i] = 0
        if vo.shape[i] == 0:
            return 0
    while True:
        pa = <char *>va.buf
        pb = <char *>vb.buf if vb != NULL else NULL
        po = <char *>vo.buf
        for i in range(nd):
            if i != inner:
                pa += idx[i] * va.strides[i]
                if vb != NULL:
                    pb += idx[i] * vb.strides[i]
                po += idx[i] * vo.strides[i]
        rc |= _strided(tb, k, mode, dbl, pa, va.strides[inner],
                       pb, vb.strides[inner] if vb != NULL else 0,
                       po, vo.strides[inner], L, p)
        # advance the odometer over the outer axes (last axis fastest)
        i = nd - 1
        while i >= 0:
            if i != inner:
                idx[i] += 1
                if idx[i] < vo.shape[i]:
                    break
                idx[i] = 0
            i -= 1
        if i < 0:
            return rc


def elementwise(int k, int mode, a, b, out, double p0, double p1, double p2, double p3,
                int nthreads, Py_ssize_t grain):
    """mode 0: out = f(a); 1: out = a * f'(b) with b = x; 2: the same with b = y.
    a, b, out: NumPy arrays of one float dtype and shape, checked by the caller."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vo
    cdef Py_buffer *pvb = NULL
    cdef double p[4]
    p[0] = p0; p[1] = p1; p[2] = p2; p[3] = p3
    cdef int rc = 0
    cdef bint dbl, flat
    cdef Py_ssize_t n
    PyObject_GetBuffer(a, &va, PyBUF_RECORDS_RO)
    try:
        if mode != 0:
            PyObject_GetBuffer(b, &vb, PyBUF_RECORDS_RO)
            pvb = &vb
        try:
            PyObject_GetBuffer(out, &vo, PyBUF_RECORDS)
            try:
                dbl = vo.itemsize == 8
                n = vo.len // vo.itemsize
                flat = ((PyBuffer_IsContiguous(&va, b'C') and PyBuffer_IsContiguous(&vo, b'C')
                         and (pvb == NULL or PyBuffer_IsContiguous(pvb, b'C')))
                        or (PyBuffer_IsContiguous(&va, b'F') and PyBuffer_IsContiguous(&vo, b'F')
                            and (pvb == NULL or PyBuffer_IsContiguous(pvb, b'F'))))
                with nogil:
                    if flat:
                        rc = _run_flat(tb, k, mode, dbl, <char *>va.buf,
                                       <char *>vb.buf if pvb != NULL else NULL,
                                       <char *>vo.buf, n, p, nthreads, grain)
                    else:
                        rc = _run_nd(tb, k, mode, dbl, &va, pvb, &vo, p)
            finally:
                PyBuffer_Release(&vo)
        finally:
            if pvb != NULL:
                PyBuffer_Release(&vb)
    finally:
        PyBuffer_Release(&va)
    if rc != 0:
        raise RuntimeError(f"fastact internal error: kernel {k} mode {mode} not compiled")
    return out


def softmax_blocks(int mode, a, b, out, Py_ssize_t nouter, Py_ssize_t L, Py_ssize_t inner,
                   bint log_form, int nthreads, Py_ssize_t grain):
    """Softmax over the middle axis of C-contiguous (nouter, L, inner) data
    (mode 0: out = softmax(a)) or its backward from y (mode 2: out from grad a
    and y b)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vo
    PyObject_GetBuffer(a, &va, PyBUF_RECORDS_RO)
    try:
        PyObject_GetBuffer(b if mode != 0 else a, &vb, PyBUF_RECORDS_RO)
        try:
            PyObject_GetBuffer(out, &vo, PyBUF_RECORDS)
            try:
                with nogil:
                    _softmax_run(tb, mode, vo.itemsize == 8, <char *>va.buf, <char *>vb.buf, <char *>vo.buf,
                                 nouter, L, inner, log_form, nthreads, grain)
            finally:
                PyBuffer_Release(&vo)
        finally:
            PyBuffer_Release(&vb)
    finally:
        PyBuffer_Release(&va)
    return out


cdef void _softmax_run(const fa_loop_table *tb, int mode, bint dbl, char *pa, char *pb, char *po, Py_ssize_t nouter, Py_ssize_t L,
                       Py_ssize_t inner, bint log_form, int nthreads, Py_ssize_t grain) noexcept nogil:
    """inner == 1: blocks of up to FA_TABLE_SMC rows (short rows in one block
    overlap; rows of 4096+ are one item each); else FA_TABLE_SMC-column strips of
    one outer block.  Items are independent, so threads never change results."""
    cdef bint rows = inner == 1
    cdef Py_ssize_t it
    cdef Py_ssize_t isz = 8 if dbl else 4
    cdef Py_ssize_t rb = 4096 // L if L > 0 else 1
    if rb > FA_TABLE_SMC:
        rb = FA_TABLE_SMC
    if rb < 1 or not rows:
        rb = 1
    cdef Py_ssize_t nstrip = 1 if rows else (inner + FA_TABLE_SMC - 1) // FA_TABLE_SMC
    cdef Py_ssize_t nitem = (nouter + rb - 1) // rb * nstrip
    cdef Py_ssize_t nth = _nchunks(nouter * L * inner, isz, nthreads, grain)
    if nth > nitem:
        nth = nitem if nitem > 0 else 1
    # forward row blocks beyond L2 (as the element-wise loops: >= 1 MB per
    # thread) prefetch the next block while summing this one
    cdef bint pf = rows and mode == 0 and nouter * L * isz >= <Py_ssize_t>FA_TABLE_PF_MIN_BYTES * nth
    if nth <= 1:
        # no parallel region: an if(0) one cost ~0.4 us, half of a 16-element call
        for it in range(nitem):
            _softmax_nth(tb, it, mode, dbl, rows, pa, pb, po, nouter, L, inner, rb, nstrip, log_form, pf)
        return
    for it in prange(nitem, schedule='static', num_threads=nth):
        _softmax_nth(tb, it, mode, dbl, rows, pa, pb, po, nouter, L, inner, rb, nstrip, log_form, pf)


cdef inline void _softmax_nth(const fa_loop_table *tb, Py_ssize_t it, int mode, bint dbl, bint rows, char *pa, char *pb, char *po,
                              Py_ssize_t nouter, Py_ssize_t L, Py_ssize_t inner, Py_ssize_t rb,
                              Py_ssize_t nstrip, bint log_form, bint pf) noexcept nogil:
    """Item `it` of _softmax_run: a block of rb rows or one FA_TABLE_SMC-column strip."""
    cdef Py_ssize_t c0, w, off, pfe
    cdef Py_ssize_t isz = 8 if dbl else 4
    if rows:
        w = nouter - it * rb                    # rows in this block
        if w > rb:
            w = rb
        off = it * rb * L * isz
        pfe = (nouter - it * rb - w) * L if pf else 0
    else:
        pfe = 0
        c0 = (it % nstrip) * FA_TABLE_SMC
        w = inner - c0                          # columns in this strip
        if w > FA_TABLE_SMC:
            w = FA_TABLE_SMC
        off = ((it // nstrip) * L * inner + c0) * isz
    _softmax_item(tb, mode, dbl, rows, pa + off, pb + off if pb != NULL else NULL, po + off,
                  L, inner, w, log_form, pfe)


cdef inline void _softmax_item(const fa_loop_table *tb, int mode, bint dbl, bint rows, char *a, char *b, char *o,
                               Py_ssize_t L, Py_ssize_t inner, Py_ssize_t w, bint log_form,
                               Py_ssize_t pf) noexcept nogil:
    """w rows (rows) or w columns of one (L, inner) block; pf: elements after
    a forward row block that may be prefetched."""
    cdef Py_ssize_t r, rs = L * (8 if dbl else 4)
    if rows:
        if mode == 0:
            if dbl:
                tb.softmax_rows_d(<const double *>a, <double *>o, w, L, log_form, pf)
            else:
                tb.softmax_rows_f(<const float *>a, <float *>o, w, L, log_form, pf)
        else:
            for r in range(w):
                if dbl:
                    tb.softmax_bwd_row_d(<const double *>(a + r * rs), <const double *>(b + r * rs),
                                         <double *>(o + r * rs), L, log_form)
                else:
                    tb.softmax_bwd_row_f(<const float *>(a + r * rs), <const float *>(b + r * rs),
                                         <float *>(o + r * rs), L, log_form)
    elif mode == 0:
        if dbl:
            tb.softmax_cols_d(<const double *>a, <double *>o, L, inner, w, log_form)
        else:
            tb.softmax_cols_f(<const float *>a, <float *>o, L, inner, w, log_form)
    elif dbl:
        tb.softmax_bwd_cols_d(<const double *>a, <const double *>b, <double *>o, L, inner, w, log_form)
    else:
        tb.softmax_bwd_cols_f(<const float *>a, <const float *>b, <float *>o, L, inner, w, log_form)


def prelu_cols(int mode, a, b, out, alpha, gsum, Py_ssize_t nrow, Py_ssize_t ncol,
               Py_ssize_t rows_per_chunk, int nthreads, Py_ssize_t grain):
    """prelu with the channel axis last on C-contiguous (nrow, ncol) data.
    mode 0: out = prelu(a); mode 1: out = grad a * prelu'(x = b), and row chunk
    c of `rows_per_chunk` rows adds its dL/dalpha into gsum[c, :] (float64):
    the split does not depend on the thread count, so neither does the sum."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vo, val, vg
    cdef bint dbl
    cdef char *pa
    cdef char *pb
    cdef char *po
    cdef char *pal
    cdef double *pg = NULL
    PyObject_GetBuffer(a, &va, PyBUF_RECORDS_RO)
    PyObject_GetBuffer(b if mode != 0 else a, &vb, PyBUF_RECORDS_RO)
    PyObject_GetBuffer(out, &vo, PyBUF_RECORDS)
    PyObject_GetBuffer(alpha, &val, PyBUF_RECORDS_RO)
    PyObject_GetBuffer(gsum if mode != 0 else alpha, &vg, PyBUF_RECORDS_RO)
    try:
        dbl = vo.itemsize == 8
        isz = vo.itemsize
        pa = <char *>va.buf
        pb = <char *>vb.buf
        po = <char *>vo.buf
        pal = <char *>val.buf
        if mode != 0:
            pg = <double *>vg.buf
        with nogil:
            _prelu_cols_run(tb, mode, dbl, pa, pb, po, pal, pg, nrow, ncol, rows_per_chunk, nthreads, grain)
    finally:
        PyBuffer_Release(&vg)
        PyBuffer_Release(&val)
        PyBuffer_Release(&vo)
        PyBuffer_Release(&vb)
        PyBuffer_Release(&va)
    return out


cdef void _prelu_cols_run(const fa_loop_table *tb, int mode, bint dbl, char *pa, char *pb, char *po, char *pal, double *pg,
                          Py_ssize_t nrow, Py_ssize_t ncol, Py_ssize_t rows_per_chunk, int nthreads,
                          Py_ssize_t grain) noexcept nogil:
    cdef Py_ssize_t isz = 8 if dbl else 4
    cdef Py_ssize_t nch = (nrow + rows_per_chunk - 1) // rows_per_chunk
    cdef Py_ssize_t nth = _nchunks(nrow * ncol, isz, nthreads, grain)
    cdef Py_ssize_t c
    if nth <= 1:            # no OpenMP region (an if(0) one costs ~0.4 us)
        for c in range(nch):
            _prelu_cols_chunk(tb, mode, dbl, pa, pb, po, pal, pg, c, rows_per_chunk, nrow, ncol, isz)
    else:
        for c in prange(nch, schedule='static', num_threads=nth):
            _prelu_cols_chunk(tb, mode, dbl, pa, pb, po, pal, pg, c, rows_per_chunk, nrow, ncol, isz)


cdef void _prelu_rows_run(const fa_loop_table *tb, int mode, bint dbl, char *pa, char *pb, char *po, char *pal, double *pg,
                          Py_ssize_t nrow, Py_ssize_t nchan, Py_ssize_t L, int nthreads,
                          Py_ssize_t grain) noexcept nogil:
    cdef Py_ssize_t isz = 8 if dbl else 4
    cdef Py_ssize_t nth = _nchunks(nrow * L, isz, nthreads, grain)
    cdef Py_ssize_t r
    if nth <= 1:            # no OpenMP region (an if(0) one costs ~0.4 us)
        for r in range(nrow):
            _prelu_row(tb, mode, dbl, pa, pb, po, pal, pg, r, L, nchan, isz)
    else:
        for r in prange(nrow, schedule='static', num_threads=nth):
            _prelu_row(tb, mode, dbl, pa, pb, po, pal, pg, r, L, nchan, isz)


def fast_prelu(x, alpha, axis, out, n_threads, Py_ssize_t grain, Py_ssize_t prelu_row, empty_like):
    """prelu forward with a per-channel alpha (out None: a new array; out x: in
    place) when x is native, aligned, C-contiguous and non-empty, alpha a
    finite 1-D array of x's dtype with one value per channel on `axis` (a
    plain int), apart from the output; None for the general path (which
    checks everything and explains).  prelu_row: _api._PRELU_ROW (the
    channels-last loop takes prelu_row // C rows per chunk, as there)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer vx, va, vo
    cdef int t = _fast_threads(n_threads), i
    cdef long ax
    cdef Py_ssize_t C, outer = 1, inner = 1, j
    cdef bint dbl
    if t < 0 or not _axis_of(axis, &ax):
        return None
    try:
        PyObject_GetBuffer(x, &vx, PyBUF_RECORDS_RO)
    except Exception:
        return None
    try:
        if not (_fast_ok(&vx) and PyBuffer_IsContiguous(&vx, b'C') and vx.ndim >= 1 and vx.len > 0
                and -vx.ndim <= ax < vx.ndim):
            return None
        if ax < 0:
            ax += vx.ndim
        C = vx.shape[ax]
        dbl = vx.itemsize == 8
        try:
            PyObject_GetBuffer(alpha, &va, PyBUF_RECORDS_RO)
        except Exception:
            return None
        try:
            if not (_fast_ok(&va) and va.ndim == 1 and va.shape[0] == C and C > 1
                    and va.itemsize == vx.itemsize):
                return None
            for j in range(C):          # NaN / inf: the general path names them
                if dbl:
                    if not isfinite((<double *>va.buf)[j]):
                        return None
                elif not isfinite((<float *>va.buf)[j]):
                    return None
            for i in range(ax):
                outer *= vx.shape[i]
            for i in range(ax + 1, vx.ndim):
                inner *= vx.shape[i]
            if out is None:
                out = empty_like(x)
            try:
                PyObject_GetBuffer(out, &vo, PyBUF_RECORDS)
            except Exception:
                return None
            try:
                if not (_fast_ok(&vo) and _same_layout(&vx, &vo) and _same_or_apart(&vx, &vo)
                        and _apart(&va, &vo)):
                    return None
                t = _fast_nt(t)
                with nogil:
                    if inner == 1:
                        _prelu_cols_run(tb, 0, dbl, <char *>vx.buf, NULL, <char *>vo.buf, <char *>va.buf, NULL,
                                        outer, C, prelu_row // C if prelu_row >= C else 1, t, grain)
                    else:
                        _prelu_rows_run(tb, 0, dbl, <char *>vx.buf, NULL, <char *>vo.buf, <char *>va.buf, NULL,
                                        outer * C, C, inner, t, grain)
            finally:
                PyBuffer_Release(&vo)
        finally:
            PyBuffer_Release(&va)
    finally:
        PyBuffer_Release(&vx)
    return out


cdef inline void _prelu_cols_chunk(const fa_loop_table *tb, int mode, bint dbl, char *pa, char *pb, char *po, char *pal, double *pg,
                                   Py_ssize_t c, Py_ssize_t rows_per_chunk, Py_ssize_t nrow,
                                   Py_ssize_t ncol, Py_ssize_t isz) noexcept nogil:
    """Row chunk c of prelu_cols (its dL/dalpha into pg[c, :])."""
    cdef Py_ssize_t r0 = c * rows_per_chunk
    cdef Py_ssize_t r1 = r0 + rows_per_chunk
    if r1 > nrow:
        r1 = nrow
    if mode == 0:
        if dbl:
            tb.prelu_cols_d(<const double *>(pa + r0 * ncol * isz), <double *>(po + r0 * ncol * isz),
                            r1 - r0, ncol, <const double *>pal)
        else:
            tb.prelu_cols_f(<const float *>(pa + r0 * ncol * isz), <float *>(po + r0 * ncol * isz),
                            r1 - r0, ncol, <const float *>pal)
    elif dbl:
        tb.prelu_cols_bwd_d(<const double *>(pa + r0 * ncol * isz), <const double *>(pb + r0 * ncol * isz),
                            <double *>(po + r0 * ncol * isz), r1 - r0, ncol,
                            <const double *>pal, pg + c * ncol)
    else:
        tb.prelu_cols_bwd_f(<const float *>(pa + r0 * ncol * isz), <const float *>(pb + r0 * ncol * isz),
                            <float *>(po + r0 * ncol * isz), r1 - r0, ncol,
                            <const float *>pal, pg + c * ncol)


def prelu_rows(int mode, a, b, out, alpha, gsum, Py_ssize_t nrow, Py_ssize_t nchan,
               Py_ssize_t L, int nthreads, Py_ssize_t grain):
    """prelu with the channel axis not last: C-contiguous (nrow, L) rows, row r
    belongs to channel r % nchan.  mode 1 writes each row's dL/dalpha into
    gsum[r] (float64), summed per channel by the caller."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vo, val, vg
    cdef bint dbl
    cdef char *pa
    cdef char *pb
    cdef char *po
    cdef char *pal
    cdef double *pg = NULL
    PyObject_GetBuffer(a, &va, PyBUF_RECORDS_RO)
    PyObject_GetBuffer(b if mode != 0 else a, &vb, PyBUF_RECORDS_RO)
    PyObject_GetBuffer(out, &vo, PyBUF_RECORDS)
    PyObject_GetBuffer(alpha, &val, PyBUF_RECORDS_RO)
    PyObject_GetBuffer(gsum if mode != 0 else alpha, &vg, PyBUF_RECORDS_RO)
    try:
        dbl = vo.itemsize == 8
        isz = vo.itemsize
        pa = <char *>va.buf
        pb = <char *>vb.buf
        po = <char *>vo.buf
        pal = <char *>val.buf
        if mode != 0:
            pg = <double *>vg.buf
        with nogil:
            _prelu_rows_run(tb, mode, dbl, pa, pb, po, pal, pg, nrow, nchan, L, nthreads, grain)
    finally:
        PyBuffer_Release(&vg)
        PyBuffer_Release(&val)
        PyBuffer_Release(&vo)
        PyBuffer_Release(&vb)
        PyBuffer_Release(&va)
    return out


cdef inline void _prelu_row(const fa_loop_table *tb, int mode, bint dbl, char *pa, char *pb, char *po, char *pal, double *pg,
                            Py_ssize_t r, Py_ssize_t L, Py_ssize_t nchan, Py_ssize_t isz) noexcept nogil:
    """Row r of prelu_rows (channel r % nchan; its dL/dalpha into pg[r])."""
    if mode == 0:
        if dbl:
            tb.prelu_row_d(<const double *>(pa + r * L * isz), <double *>(po + r * L * isz),
                           L, (<const double *>pal)[r % nchan])
        else:
            tb.prelu_row_f(<const float *>(pa + r * L * isz), <float *>(po + r * L * isz),
                           L, (<const float *>pal)[r % nchan])
    elif dbl:
        pg[r] = tb.prelu_row_bwd_d(<const double *>(pa + r * L * isz), <const double *>(pb + r * L * isz),
                                   <double *>(po + r * L * isz), L, (<const double *>pal)[r % nchan])
    else:
        pg[r] = tb.prelu_row_bwd_f(<const float *>(pa + r * L * isz), <const float *>(pb + r * L * isz),
                                   <float *>(po + r * L * isz), L, (<const float *>pal)[r % nchan])


def bias_rows(int k, int mode, a, b, bias, out, Py_ssize_t nrow, Py_ssize_t ncol,
              double p0, double p1, double p2, double p3, int nthreads, Py_ssize_t grain):
    """Fused bias + activation over C-contiguous (nrow, ncol) data, bias on
    the columns.  mode 0: out = f(a + bias); 1: out = a * f'(b + bias) with
    b the pre-bias input; 2: out = a * f'(.) from the forward output b."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vbias, vo
    cdef double p[4]
    p[0] = p0; p[1] = p1; p[2] = p2; p[3] = p3
    cdef int rc = 0
    PyObject_GetBuffer(a, &va, PyBUF_RECORDS_RO)
    PyObject_GetBuffer(b if mode != 0 else a, &vb, PyBUF_RECORDS_RO)
    PyObject_GetBuffer(bias, &vbias, PyBUF_RECORDS_RO)
    PyObject_GetBuffer(out, &vo, PyBUF_RECORDS)
    try:
        with nogil:
            rc = _bias_run(tb, k, mode, vo.itemsize == 8, <char *>va.buf, <char *>vb.buf, <char *>vbias.buf,
                           <char *>vo.buf, nrow, ncol, p, nthreads, grain)
    finally:
        PyBuffer_Release(&vo)
        PyBuffer_Release(&vbias)
        PyBuffer_Release(&vb)
        PyBuffer_Release(&va)
    if rc != 0:
        raise RuntimeError(f"fastact internal error: kernel {k} not compiled")
    return out


def fast_bias(Spec spec, x, bias, out, n_threads, empty_like):
    """bias_act forward (out None: a new array; out x: in place) when x is a
    native, aligned, C-contiguous non-empty array and bias a 1-D array of its
    dtype and last-axis length; None for the general path (which checks
    everything and explains)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer vx, vb, vo
    cdef int t = _fast_threads(n_threads), rc = 0
    cdef Py_ssize_t C
    if t < 0:
        return None
    try:
        PyObject_GetBuffer(x, &vx, PyBUF_RECORDS_RO)
    except Exception:
        return None
    try:
        if not (_fast_ok(&vx) and PyBuffer_IsContiguous(&vx, b'C') and vx.ndim >= 1 and vx.len > 0):
            return None
        C = vx.shape[vx.ndim - 1]
        try:
            PyObject_GetBuffer(bias, &vb, PyBUF_RECORDS_RO)
        except Exception:
            return None
        try:
            if not (_fast_ok(&vb) and vb.ndim == 1 and vb.shape[0] == C and vb.itemsize == vx.itemsize
                    and vb.format[0] == vx.format[0]):
                return None
            if out is None:
                out = empty_like(x)
            try:
                PyObject_GetBuffer(out, &vo, PyBUF_RECORDS)
            except Exception:
                return None
            try:
                # in place (out is x) or a new array: the same layout, no partial
                # overlap; a bias inside out (a row of x in place) goes general (copied)
                if not (_same_layout(&vx, &vo) and _same_or_apart(&vx, &vo)
                        and _apart(&vb, &vo)):
                    return None
                t = _fast_nt(t)
                with nogil:
                    rc = _bias_run(tb, spec.k, 0, vx.itemsize == 8, <char *>vx.buf, NULL, <char *>vb.buf,
                                   <char *>vo.buf, vx.len // vx.itemsize // C, C, spec.p, t, spec.grain)
            finally:
                PyBuffer_Release(&vo)
        finally:
            PyBuffer_Release(&vb)
    finally:
        PyBuffer_Release(&vx)
    if rc != 0:
        return None
    return out


cdef int _bias_run(const fa_loop_table *tb, int k, int mode, bint dbl, char *pa, char *pb, char *pbias, char *po,
                   Py_ssize_t nrow, Py_ssize_t ncol, const double *p, int nthreads,
                   Py_ssize_t grain) noexcept nogil:
    cdef Py_ssize_t isz = 8 if dbl else 4
    cdef Py_ssize_t nch = _nchunks(nrow * ncol, isz, nthreads, grain)
    cdef Py_ssize_t c, r0, r1, rpc
    cdef int rc = 0
    if nch > nrow:
        nch = nrow if nrow > 0 else 1
    rpc = (nrow + nch - 1) // nch if nrow > 0 else 1
    if nch <= 1:            # no OpenMP region (an if(0) one costs ~0.4 us)
        return _bias_chunk(tb, k, mode, dbl, pa, pb, pbias, po, 0, nrow, ncol, isz, p)
    for c in prange(nch, schedule='static', num_threads=nch):
        r0 = c * rpc
        r1 = r0 + rpc
        if r1 > nrow:
            r1 = nrow
        if r1 > r0:
            rc |= _bias_chunk(tb, k, mode, dbl, pa, pb, pbias, po, r0, r1, ncol, isz, p)
    return rc


cdef inline int _bias_chunk(const fa_loop_table *tb, int k, int mode, bint dbl, char *pa, char *pb, char *pbias, char *po,
                            Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t ncol, Py_ssize_t isz,
                            const double *p) noexcept nogil:
    """Rows [r0, r1) of bias_rows."""
    cdef Py_ssize_t off = r0 * ncol * isz
    if dbl:
        if mode == 0:
            return tb.bias_fwd_rows_d(k, <const double *>(pa + off), <const double *>pbias,
                                      <double *>(po + off), r1 - r0, ncol, p)
        return tb.bias_bwd_rows_d(k, mode == 2, <const double *>(pa + off), <const double *>(pb + off),
                                  <const double *>pbias, <double *>(po + off), r1 - r0, ncol, p)
    if mode == 0:
        return tb.bias_fwd_rows_f(k, <const float *>(pa + off), <const float *>pbias,
                                  <float *>(po + off), r1 - r0, ncol, p)
    return tb.bias_bwd_rows_f(k, mode == 2, <const float *>(pa + off), <const float *>(pb + off),
                              <const float *>pbias, <float *>(po + off), r1 - r0, ncol, p)


def gated(int k, int mode, g, x, out, Py_ssize_t outer, Py_ssize_t M, int nthreads, Py_ssize_t grain):
    """Gated activations on C-contiguous x viewed as (outer, 2, M): a = x[:, 0],
    b = x[:, 1].  mode 0: out (outer, M) = gate(a, b); mode 1: out (outer, 2, M)
    = (dL/da, dL/db) from g (outer, M)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer vg, vx, vo
    cdef int rc = 0
    PyObject_GetBuffer(g if mode != 0 else x, &vg, PyBUF_RECORDS_RO)
    PyObject_GetBuffer(x, &vx, PyBUF_RECORDS_RO)
    PyObject_GetBuffer(out, &vo, PyBUF_RECORDS)
    try:
        with nogil:
            rc = _gated_run(tb, k, mode, vo.itemsize == 8, <char *>vg.buf, <char *>vx.buf, <char *>vo.buf,
                            outer, M, nthreads, grain)
    finally:
        PyBuffer_Release(&vo)
        PyBuffer_Release(&vx)
        PyBuffer_Release(&vg)
    if rc != 0:
        raise RuntimeError(f"fastact internal error: gated kernel {k}")
    return out


def fast_gated(int k, tuple vals, x, axis, n_threads, Py_ssize_t grain, empty):
    """The gated forward into a new array for a native, aligned, C-contiguous
    x with a plain int axis within range and an even, non-empty split; None
    for the general path (which checks everything and explains)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer vx, vo
    cdef int t = _fast_threads(n_threads), rc = 0, i
    cdef long ax
    cdef Py_ssize_t outer = 1, M = 1
    if t < 0 or not _plain_values(vals) or not _axis_of(axis, &ax):
        return None
    try:
        PyObject_GetBuffer(x, &vx, PyBUF_RECORDS_RO)
    except Exception:
        return None
    try:
        if not (_fast_ok(&vx) and PyBuffer_IsContiguous(&vx, b'C') and vx.ndim >= 1
                and -vx.ndim <= ax < vx.ndim and vx.len > 0):
            return None
        if ax < 0:
            ax += vx.ndim
        if vx.shape[ax] % 2:
            return None
        for i in range(ax):
            outer *= vx.shape[i]
        M = vx.shape[ax] // 2
        for i in range(ax + 1, vx.ndim):
            M *= vx.shape[i]
        out = empty(tuple([vx.shape[i] // 2 if i == ax else vx.shape[i] for i in range(vx.ndim)]),
                    dtype=x.dtype)
        PyObject_GetBuffer(out, &vo, PyBUF_RECORDS)
        t = _fast_nt(t)
        try:
            with nogil:
                rc = _gated_run(tb, k, 0, vx.itemsize == 8, NULL, <char *>vx.buf, <char *>vo.buf, outer, M,
                                t, grain)
        finally:
            PyBuffer_Release(&vo)
    finally:
        PyBuffer_Release(&vx)
    if rc != 0:
        return None
    return out


cdef int _gated_run(const fa_loop_table *tb, int k, int mode, bint dbl, char *pg, char *px, char *po, Py_ssize_t outer,
                    Py_ssize_t M, int nthreads, Py_ssize_t grain) noexcept nogil:
    cdef Py_ssize_t isz = 8 if dbl else 4
    cdef Py_ssize_t nt = _nchunks(outer * M, isz, nthreads, grain)
    cdef Py_ssize_t cpr, cs, t
    cdef int rc = 0
    # tasks = (row, column chunk): rows split too when there are fewer
    # rows than threads, so one long row still uses every thread
    cpr = (nt + outer - 1) // outer if outer > 0 else 1
    cs = (M + cpr - 1) // cpr if M > 0 else 1
    cs = (cs + CHUNK_ALIGN - 1) // CHUNK_ALIGN * CHUNK_ALIGN
    cpr = (M + cs - 1) // cs if M > 0 else 0
    if nt <= 1:             # no OpenMP region (an if(0) one costs ~0.4 us)
        for t in range(outer * cpr):
            rc |= _gated_task(tb, k, mode, dbl, pg, px, po, t, cpr, cs, M, isz)
    else:
        for t in prange(outer * cpr, schedule='static', num_threads=nt):
            rc |= _gated_task(tb, k, mode, dbl, pg, px, po, t, cpr, cs, M, isz)
    return rc


cdef inline int _gated_task(const fa_loop_table *tb, int k, int mode, bint dbl, char *pg, char *px, char *po, Py_ssize_t t,
                            Py_ssize_t cpr, Py_ssize_t cs, Py_ssize_t M, Py_ssize_t isz) noexcept nogil:
    """Task t of gated(): row t // cpr, its column chunk t % cpr of cs."""
    cdef Py_ssize_t o = t // cpr
    cdef Py_ssize_t j0 = (t % cpr) * cs
    cdef Py_ssize_t m = M - j0
    if m > cs:
        m = cs
    if dbl:
        if mode == 0:
            return tb.gated_fwd_d(k, <const double *>(px + (o * 2 * M + j0) * isz),
                                  <const double *>(px + (o * 2 * M + M + j0) * isz),
                                  <double *>(po + (o * M + j0) * isz), m)
        return tb.gated_bwd_d(k, <const double *>(pg + (o * M + j0) * isz),
                              <const double *>(px + (o * 2 * M + j0) * isz),
                              <const double *>(px + (o * 2 * M + M + j0) * isz),
                              <double *>(po + (o * 2 * M + j0) * isz),
                              <double *>(po + (o * 2 * M + M + j0) * isz), m)
    if mode == 0:
        return tb.gated_fwd_f(k, <const float *>(px + (o * 2 * M + j0) * isz),
                              <const float *>(px + (o * 2 * M + M + j0) * isz),
                              <float *>(po + (o * M + j0) * isz), m)
    return tb.gated_bwd_f(k, <const float *>(pg + (o * M + j0) * isz),
                          <const float *>(px + (o * 2 * M + j0) * isz),
                          <const float *>(px + (o * 2 * M + M + j0) * isz),
                          <float *>(po + (o * 2 * M + j0) * isz),
                          <float *>(po + (o * 2 * M + M + j0) * isz), m)


# ---------------------------------------------------------------- fast path
# The common call (`relu_(x)` on an aligned native float32/float64 array
# that is C- or F-contiguous, no out=, no n_threads=) decided and run
# entirely here, so small arrays are not dominated by Python overhead.  Any
# other case returns None and the caller takes the general path, which does
# all checking and produces the error messages.
from cpython.contextvars cimport get_value

cdef int _default_threads = 0      # set_num_threads(); 0: none
cdef int _cpus = 1                 # usable CPUs (affinity mask)
cdef bint _omp_env = False         # OMP_NUM_THREADS set
cdef bint _force_single = False    # forked child after a parallel region
cdef object _scoped = None         # the threads() ContextVar


def sync_thread_policy(int default_threads, int cpus, bint omp_env, bint force_single, scoped):
    """Mirror of fastact._threads' state, pushed whenever it changes."""
    global _default_threads, _cpus, _omp_env, _force_single, _scoped
    _default_threads = default_threads
    _cpus = cpus
    _omp_env = omp_env
    _force_single = force_single
    _scoped = scoped


cdef int _threads_now() except -1:
    cdef object v = None
    cdef int n
    if _scoped is not None:
        v = get_value(_scoped)
    if v is not None:
        n = v
    elif _default_threads > 0:
        n = _default_threads
    else:
        n = omp_get_max_threads()
        if not _omp_env and n > _cpus:
            n = _cpus
    if n < 1:
        n = 1
    if n > 1 and _force_single:
        n = 1
    return n


cdef class Spec:
    """A resolved element-wise call: kernel id, parameters, grain, and the
    parameter values it was validated for (vals: a fast path takes the spec
    only for values of the same types and bits, _same_values)."""
    cdef public int k
    cdef public bint y_ok
    cdef public Py_ssize_t grain
    cdef public tuple vals
    cdef double p[4]

    def __init__(self, int k, p, bint y_ok, Py_ssize_t grain, tuple vals=()):
        self.k = k
        self.y_ok = y_ok
        self.grain = grain
        self.vals = vals
        for i in range(4):
            self.p[i] = p[i]

    @property
    def params(self):
        return (self.p[0], self.p[1], self.p[2], self.p[3])


cdef inline bint _fast_ok(Py_buffer *v) noexcept:
    cdef const char *f = v.format
    if v.itemsize == 4:
        if not (f[0] == b'f' and f[1] == 0):
            return False
    elif v.itemsize == 8:
        if not (f[0] == b'd' and f[1] == 0):
            return False
    else:
        return False
    if (<size_t>v.buf) % v.itemsize:
        return False
    return PyBuffer_IsContiguous(v, b'A')


cdef inline bint _same_values(tuple vals, tuple ref) noexcept:
    """vals are the values ref was validated for: the same types and, for
    floats, the same bits.  The fast paths find specs by equality, and
    equality joins values the checks or the kernels tell apart: -0.0 == 0.0
    (relu(max=-0.0) keeps -0.0), 1.0 == 1 (an axis must be an int),
    True == 1 (rejected)."""
    cdef Py_ssize_t i, n = len(vals)
    cdef object a, b
    cdef double da, db
    if n != len(ref):
        return False
    for i in range(n):
        a = vals[i]
        b = ref[i]
        if a is b:
            continue
        if type(a) is not type(b):
            return False
        if type(a) is float:
            da = a
            db = b
            if memcmp(&da, &db, sizeof(double)) != 0:
                return False
        elif type(a) is int or type(a) is str:
            if a != b:
                return False
        else:
            return False
    return True


cdef inline bint _plain_values(tuple vals) noexcept:
    """Every parameter value a None, str, float or int (not bool): the types
    whose equality with a cached key means the same accepted value.  The fast
    paths look specs up by value, and True, 1+0j or Fraction(1) equal 1.0 and
    hash alike though the checks reject them; those take the general path."""
    cdef object o
    for o in vals:
        if not (o is None or PyFloat_Check(o) or PyUnicode_CheckExact(o)
                or (PyLong_Check(o) and not PyBool_Check(o))):
            return False
    return True


cdef inline int _fast_threads(object n) noexcept:
    """n_threads of a fast-path call: 0 for None (the default policy), the
    count for an int in [1, INT_MAX], -1 for anything else (-1 = all CPUs,
    bad types and values): the general path resolves or rejects those."""
    cdef int overflow = 0
    cdef long v
    if n is None:
        return 0
    if not PyLong_CheckExact(n):
        return -1
    v = PyLong_AsLongAndOverflow(n, &overflow)
    if overflow or v < 1 or v > INT_MAX:
        return -1
    return <int>v


cdef inline int _fast_nt(int t) except -1:
    """The thread count a fast path runs with, from _fast_threads' t >= 0."""
    return _threads_now() if t == 0 else (1 if _force_single else t)


cdef inline bint _apart(Py_buffer *a, Py_buffer *b) noexcept:
    """No common byte (an operand that is read whole while b is written)."""
    return <char *>a.buf + a.len <= <char *>b.buf or <char *>b.buf + b.len <= <char *>a.buf


cdef inline bint _axis_of(object axis, long *ax) noexcept:
    """A plain int axis that fits a C long, into *ax (range checked by the caller)."""
    cdef int overflow = 0
    if not PyLong_CheckExact(axis):
        return False
    ax[0] = PyLong_AsLongAndOverflow(axis, &overflow)
    return not overflow


def fast_inplace(Spec spec, tuple vals, x, n_threads):
    """x = f(x) in place when x qualifies for the fast path, else None.
    vals: the parameter values spec was found under (_same_values).
    n_threads: as given by the caller (_fast_threads).
    fast_call(spec, vals, 0, x, None, x, ...) computes the same, but its second
    buffer and layout checks cost ~50 ns: relu_ on 16 elements went from
    0.51x to 0.65x of np.maximum (target <= 0.6x), so in place keeps its own."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer v
    cdef int nt, rc = 0
    cdef int t = _fast_threads(n_threads)
    if t < 0 or not _same_values(vals, spec.vals):
        return None
    try:
        PyObject_GetBuffer(x, &v, PyBUF_RECORDS)
    except Exception:       # not a writable buffer: the general path explains
        return None
    try:
        if not _fast_ok(&v):
            return None
        nt = _fast_nt(t)
        with nogil:
            rc = _run_flat(tb, spec.k, 0, v.itemsize == 8, <char *>v.buf, NULL, <char *>v.buf,
                           v.len // v.itemsize, spec.p, nt, spec.grain)
    finally:
        PyBuffer_Release(&v)
    return x


cdef inline bint _same_layout(Py_buffer *a, Py_buffer *b) noexcept:
    cdef int i
    if a.ndim != b.ndim or a.itemsize != b.itemsize:
        return False
    for i in range(a.ndim):
        if a.shape[i] != b.shape[i] or (a.shape[i] > 1 and a.strides[i] != b.strides[i]):
            return False
    return True


cdef inline bint _same_or_apart(Py_buffer *a, Py_buffer *b) noexcept:
    """The same memory (same layout checked separately) or no common byte."""
    cdef char *pa = <char *>a.buf
    cdef char *pb = <char *>b.buf
    return pa == pb or pa + a.len <= pb or pb + b.len <= pa


cdef object _fast_operands(a, b, out, empty_like, Py_buffer *va, Py_buffer *vb, Py_buffer *vo):
    """The operands of a fast path (b may be None): out (a new array from
    empty_like(a) when None) with every buffer held, or None with none held
    when an operand is not native float32/64, aligned and contiguous with one
    layout, or out is neither an input's very memory nor apart from it."""
    cdef bint have_b = b is not None, ok
    try:
        PyObject_GetBuffer(a, va, PyBUF_RECORDS_RO)
    except Exception:
        return None
    if not _fast_ok(va):
        _fast_release(va, NULL, NULL)
        return None
    if have_b:
        try:
            PyObject_GetBuffer(b, vb, PyBUF_RECORDS_RO)
        except Exception:
            _fast_release(va, NULL, NULL)
            return None
        if not (_fast_ok(vb) and _same_layout(va, vb)):
            _fast_release(va, vb, NULL)
            return None
    try:
        if out is None:
            out = empty_like(a)
        PyObject_GetBuffer(out, vo, PyBUF_RECORDS)
    except Exception:
        _fast_release(va, vb if have_b else NULL, NULL)
        return None
    ok = _fast_ok(vo) and _same_layout(va, vo) and _same_or_apart(va, vo)
    if have_b:
        ok = ok and _same_or_apart(vb, vo)
    if not ok:
        _fast_release(va, vb if have_b else NULL, vo)
        return None
    return out


cdef inline void _fast_release(Py_buffer *va, Py_buffer *vb, Py_buffer *vo) noexcept:
    PyBuffer_Release(va)
    if vb != NULL:
        PyBuffer_Release(vb)
    if vo != NULL:
        PyBuffer_Release(vo)


def fast_softmax(int mode, a, b, out, axis_obj, bint log_form, n_threads, Py_ssize_t grain,
                 empty_like):
    """softmax / log_softmax (mode 0) or their backward from y = b (mode 2)
    on C-contiguous native arrays of one shape, or None for the general path
    (which checks everything and explains).  out None: a new array."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vo
    cdef int nt, i
    cdef bint have_b = mode != 0
    cdef Py_ssize_t nouter = 1, L, inner = 1
    cdef int t = _fast_threads(n_threads)
    cdef long axis
    if t < 0 or not _axis_of(axis_obj, &axis):
        return None
    out = _fast_operands(a, b if have_b else None, out, empty_like, &va, &vb, &vo)
    if out is None:
        return None
    try:
        if not (PyBuffer_IsContiguous(&va, b'C') and va.ndim >= 1 and va.len > 0
                and -va.ndim <= axis < va.ndim):
            return None
        if axis < 0:
            axis += va.ndim
        for i in range(axis):
            nouter *= va.shape[i]
        L = va.shape[axis]
        for i in range(axis + 1, va.ndim):
            inner *= va.shape[i]
        nt = _fast_nt(t)
        with nogil:
            _softmax_run(tb, mode, va.itemsize == 8, <char *>va.buf, <char *>vb.buf if have_b else NULL,
                         <char *>vo.buf, nouter, L, inner, log_form, nt, grain)
    finally:
        _fast_release(&va, &vb if have_b else NULL, &vo)
    return out


def fast_call(Spec spec, tuple vals, int mode, a, b, out, n_threads, empty_like):
    """The element-wise kernel on whole contiguous arrays, or None when the
    general path must decide (it validates everything and explains).
    mode 0: out = f(a); 1: out = a * f'(x = b); 2: out = a * f'(from y = b).
    out None: a new array from empty_like(a) (a's memory order).  Taken only
    when the operands and the values spec was found under (vals) qualify
    (_fast_operands, _same_values)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vo
    cdef int nt, rc = 0
    cdef bint have_b = mode != 0
    cdef int t = _fast_threads(n_threads)
    if t < 0 or not _same_values(vals, spec.vals) or (mode == 2 and not spec.y_ok):
        return None
    out = _fast_operands(a, b if have_b else None, out, empty_like, &va, &vb, &vo)
    if out is None:
        return None
    try:
        nt = _fast_nt(t)
        with nogil:
            rc = _run_flat(tb, spec.k, mode, va.itemsize == 8, <char *>va.buf,
                           <char *>vb.buf if have_b else NULL, <char *>vo.buf,
                           va.len // va.itemsize, spec.p, nt, spec.grain)
    finally:
        _fast_release(&va, &vb if have_b else NULL, &vo)
    if rc != 0:         # kernel not compiled: the general path raises
        return None
    return out
