# gated.pxi: included by src/front/_front.pyx (one module, compiled once).
# the gated activations on (outer, 2, M) or interleaved (outer, M, 2) views
# and their fast path.


def gated(int k, int mode, g, x, out, Py_ssize_t outer, Py_ssize_t M, int s, double p0, double p1,
          double p2, int nthreads, Py_ssize_t grain):
    """Gated activations on C-contiguous x viewed as (outer, 2, M): a = x[:, 0],
    b = x[:, 1] (s = 1), or as (outer, M, 2): a = x[:, :, 0], b = x[:, :, 1]
    (s = 2, interleaved pairs).  mode 0: out (outer, M) = gate(a, b); mode 1:
    out (x's layout) = (dL/da, dL/db) from g (outer, M).  p0..p2: the gate's
    parameters."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer vg, vx, vo
    cdef int rc = 0
    cdef double p[3]
    p[0] = p0
    p[1] = p1
    p[2] = p2
    _get_buffer(g if mode != 0 else x, &vg, PyBUF_RECORDS_RO)
    _get_buffer(x, &vx, PyBUF_RECORDS_RO)
    _get_buffer(out, &vo, PyBUF_RECORDS)
    try:
        with nogil:
            rc = _gated_run(tb, k, mode, vo.itemsize == 8, <char *>vg.buf, <char *>vx.buf, <char *>vo.buf,
                            outer, M, s, p, nthreads, grain)
    finally:
        PyBuffer_Release(&vo)
        PyBuffer_Release(&vx)
        PyBuffer_Release(&vg)
    if rc != 0:
        raise RuntimeError(f"fastact internal error: gated kernel {k} (stride {s})")
    return out


def fast_gated(Spec spec not None, tuple vals not None, x, axis, n_threads, empty):
    """The gated forward into a new array for a native, aligned, C-contiguous
    x with a plain int axis within range and an even, non-empty split, when
    vals are the values spec was validated for (_same_values); None for the
    general path (which checks everything and explains).  spec.p: the gate's
    three parameters, then 1.0 for interleaved pairs."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer vx, vo
    cdef int t = _fast_threads(n_threads), rc = 0, i, s = 1
    cdef long ax
    cdef Py_ssize_t outer = 1, M = 1, inner = 1
    if t < 0 or not _same_values(vals, spec.vals) or not _axis_of(axis, &ax):
        return None
    try:
        _get_buffer(x, &vx, PyBUF_RECORDS_RO)
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
        for i in range(ax + 1, vx.ndim):
            inner *= vx.shape[i]
        M = vx.shape[ax] // 2 * inner
        if spec.p[3] != 0:      # interleaved: the same (outer, M, 2) / (outer*H, 2, inner) views as gated_layout
            if inner == 1:
                s = 2
            else:
                outer *= vx.shape[ax] // 2
                M = inner
        out = empty(tuple([vx.shape[i] // 2 if i == ax else vx.shape[i] for i in range(vx.ndim)]),
                    dtype=x.dtype)
        _get_buffer(out, &vo, PyBUF_RECORDS)
        t = _fast_nt(t)
        try:
            with nogil:
                rc = _gated_run(tb, spec.k, 0, vx.itemsize == 8, NULL, <char *>vx.buf, <char *>vo.buf, outer, M,
                                s, spec.p, t, spec.grain)
        finally:
            PyBuffer_Release(&vo)
    finally:
        PyBuffer_Release(&vx)
    if rc != 0:
        return None
    return out


cdef int _gated_run(const fa_loop_table *tb, int k, int mode, bint dbl, char *pg, char *px, char *po, Py_ssize_t outer,
                    Py_ssize_t M, int s, const double *p, int nthreads, Py_ssize_t grain) noexcept nogil:
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
            rc |= _gated_task(tb, k, mode, dbl, pg, px, po, t, cpr, cs, M, s, p, isz)
    else:
        for t in prange(outer * cpr, schedule='static', num_threads=nt):
            rc |= _gated_task(tb, k, mode, dbl, pg, px, po, t, cpr, cs, M, s, p, isz)
    return rc


cdef inline int _gated_task(const fa_loop_table *tb, int k, int mode, bint dbl, char *pg, char *px, char *po, Py_ssize_t t,
                            Py_ssize_t cpr, Py_ssize_t cs, Py_ssize_t M, int s, const double *p,
                            Py_ssize_t isz) noexcept nogil:
    """Task t of gated(): row t // cpr, its column chunk t % cpr of cs.  A row
    of x holds 2M elements: a at 0 and b at M (s = 1), or the pairs (a, b)
    (s = 2); the backward's output has x's layout."""
    cdef Py_ssize_t o = t // cpr
    cdef Py_ssize_t j0 = (t % cpr) * cs
    cdef Py_ssize_t m = M - j0
    cdef Py_ssize_t ia = (o * 2 * M + j0 * s) * isz
    cdef Py_ssize_t ib = ia + (M if s == 1 else 1) * isz
    if m > cs:
        m = cs
    if dbl:
        if mode == 0:
            return tb.gated_fwd_d(k, <const double *>(px + ia), <const double *>(px + ib),
                                  <double *>(po + (o * M + j0) * isz), m, s, p)
        return tb.gated_bwd_d(k, <const double *>(pg + (o * M + j0) * isz),
                              <const double *>(px + ia), <const double *>(px + ib),
                              <double *>(po + ia), <double *>(po + ib), m, s, p)
    if mode == 0:
        return tb.gated_fwd_f(k, <const float *>(px + ia), <const float *>(px + ib),
                              <float *>(po + (o * M + j0) * isz), m, s, p)
    return tb.gated_bwd_f(k, <const float *>(pg + (o * M + j0) * isz),
                          <const float *>(px + ia), <const float *>(px + ib),
                          <float *>(po + ia), <float *>(po + ib), m, s, p)
