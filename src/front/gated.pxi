# gated.pxi: included by src/front/_front.pyx (one module, compiled once).
# the gated activations on (outer, 2, M) or interleaved (outer, M, 2) views
# and their fast path.


def gated(int k, int mode, g, x, out, Py_ssize_t outer, Py_ssize_t M, int s, double p0, double p1,
          double p2, int nthreads, Py_ssize_t grain, int half=0):
    """Gated activations on C-contiguous x viewed as (outer, 2, M): a = x[:, 0],
    b = x[:, 1] (s = 1), or as (outer, M, 2): a = x[:, :, 0], b = x[:, :, 1]
    (s = 2, interleaved pairs).  mode 0: out (outer, M) = gate(a, b); mode 1:
    out (x's layout) = (dL/da, dL/db) from g (outer, M).  p0..p2: the gate's
    parameters.  half 1 / 2: uint16 views of float16 / bfloat16 data, run
    through the float32 loops in blocks of rows (halfrows.pxi)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer vg, vx, vo
    cdef int rc = 0
    cdef double p[3]
    p[0], p[1], p[2] = p0, p1, p2
    _get_buffer(g if mode != 0 else x, &vg, PyBUF_RECORDS_RO)
    _get_buffer(x, &vx, PyBUF_RECORDS_RO)
    _get_buffer(out, &vo, PyBUF_RECORDS)
    try:
        if half:
            with nogil:
                rc = _gated_half_run(tb, half, k, mode, <char *>vg.buf, <char *>vx.buf, <char *>vo.buf, outer, M, s,
                                     p, nthreads, grain)
            _hrows_check(rc, "gated")
            return out
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


cdef struct _GatedHalf:
    const fa_loop_table *tb
    int k, mode, s
    Py_ssize_t M                    # elements of a per row (per piece: _gated_half_cols)
    double p[3]


cdef enum:
    # elements of a (and of b) per piece of a single row: a block (_HR_BLOCK,
    # 4096 floats) holds 21 pieces of the forward's three arrays, 12 of the
    # backward's five
    _GH_PIECE = 64


cdef int _gated_half_run(const fa_loop_table *tb, int half, int k, int mode, char *pg, char *px, char *po,
                         Py_ssize_t outer, Py_ssize_t M, int s, const double *p, int nthreads,
                         Py_ssize_t grain) noexcept nogil:
    """gated() on float16 (half 1) / bfloat16 (2) data: blocks of rows
    widened, the float32 loops, rounded back (_hrows_run's result).  A
    single row goes in pieces of _GH_PIECE columns (_gated_half_pieces)."""
    cdef _GatedHalf c
    cdef _HRows h
    cdef Py_ssize_t r = M % _GH_PIECE
    cdef int rc
    c.tb, c.k, c.mode, c.M, c.s = tb, k, mode, M, s
    c.p[0], c.p[1], c.p[2] = p[0], p[1], p[2]
    if outer == 1:
        rc = _gated_half_pieces(tb, half, &c, pg, px, po, 0, M // _GH_PIECE, _GH_PIECE, nthreads, grain)
        if r:
            rc |= _gated_half_pieces(tb, half, &c, pg, px, po, M - r, 1, r, nthreads, grain)
        return rc
    _hrows_set(&h, half, outer, _gated_half_rows, &c)
    if mode != 0:
        _hrows_in(&h, pg, M)
    _hrows_in(&h, px, 2 * M)
    _hrows_out(&h, po, M if mode == 0 else 2 * M)
    return _hrows_run(tb, &h, nthreads, grain)


cdef int _gated_half_pieces(const fa_loop_table *tb, int half, const _GatedHalf *c, char *pg, char *px,
                            char *po, Py_ssize_t j0, Py_ssize_t npiece, Py_ssize_t w, int nthreads,
                            Py_ssize_t grain) noexcept nogil:
    """npiece pieces of w columns of the one row of c, from column j0, as
    rows of _hrows_run: a, b, grad and the outputs each an array of pieces
    (interleaved pairs: 2w elements of x per piece), so that the threads
    split the row and no block holds more than a few pieces.  The float32
    loops are element-wise along the row: pieces never change a bit."""
    cdef _GatedHalf cp = c[0]
    cdef _HRows h
    cp.M = w
    _hrows_set(&h, half, npiece, _gated_half_cols, &cp)
    if c.mode != 0:
        _hrows_in(&h, pg + 2 * j0, w)
    if c.s == 1:
        _hrows_in(&h, px + 2 * j0, w)
        _hrows_in(&h, px + 2 * (c.M + j0), w)
    else:
        _hrows_in(&h, px + 4 * j0, 2 * w)
    if c.mode == 0:
        _hrows_out(&h, po + 2 * j0, w)
    elif c.s == 1:
        _hrows_out(&h, po + 2 * j0, w)
        _hrows_out(&h, po + 2 * (c.M + j0), w)
    else:
        _hrows_out(&h, po + 4 * j0, 2 * w)
    return _hrows_run(tb, &h, nthreads, grain)


cdef int _gated_half_cols(const void *ctx, Py_ssize_t r0, Py_ssize_t w, float **fin,
                          float **fout) noexcept nogil:
    """_gated_half_pieces' float32 work on w staged pieces of c.M columns,
    contiguous in every buffer: one loop call (_hrows_fn)."""
    cdef const _GatedHalf *c = <const _GatedHalf *>ctx
    cdef Py_ssize_t n = w * c.M
    if c.mode == 0:
        if c.s == 1:
            return c.tb.gated_fwd_f(c.k, fin[0], fin[1], fout[0], n, 1, c.p)
        return c.tb.gated_fwd_f(c.k, fin[0], fin[0] + 1, fout[0], n, 2, c.p)
    if c.s == 1:
        return c.tb.gated_bwd_f(c.k, fin[0], fin[1], fin[2], fout[0], fout[1], n, 1, c.p)
    return c.tb.gated_bwd_f(c.k, fin[0], fin[1], fin[1] + 1, fout[0], fout[0] + 1, n, 2, c.p)


cdef int _gated_half_rows(const void *ctx, Py_ssize_t r0, Py_ssize_t w, float **fin,
                          float **fout) noexcept nogil:
    """gated()'s float32 work on w staged rows (_hrows_fn): the backward's
    inputs are grad, x."""
    cdef const _GatedHalf *c = <const _GatedHalf *>ctx
    cdef Py_ssize_t o
    cdef int rc = 0
    for o in range(w):
        if c.mode == 0:
            rc |= _gated_task(c.tb, c.k, 0, False, NULL, <char *>fin[0], <char *>fout[0], o, 1, c.M, c.M, c.s,
                              c.p, 4)
        else:
            rc |= _gated_task(c.tb, c.k, 1, False, <char *>fin[0], <char *>fin[1], <char *>fout[0], o, 1, c.M,
                              c.M, c.s, c.p, 4)
    return rc


def fast_gated(Spec spec not None, tuple vals not None, x, axis, n_threads, empty):
    """The gated forward into a new array for a native, aligned, C-contiguous
    x (a plain ndarray also float16 or bfloat16)
    with a plain int axis within range and an even, non-empty split, when
    vals are the values spec was validated for (_same_values); None for the
    general path (which checks everything and explains).  spec.p: the gate's
    three parameters, then 1.0 for interleaved pairs."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer vx
    cdef int t = _fast_threads(n_threads), rc = 0, i, s = 1, dt, dto, nd
    cdef long ax
    cdef Py_ssize_t outer = 1, M = 1, inner = 1, n, no, isz
    cdef char *px
    cdef char *po
    cdef bint held = False
    if t < 0 or not _same_values(vals, spec.vals) or not _axis_of(axis, &ax):
        return None
    if fa_nd_flat(x, 0, 1, &px, &n, &isz, &dt):     # a plain ndarray, read from its struct
        if not fa_nd_c_contig(x):
            return None
        shape = x.shape
    else:
        try:
            _get_buffer(x, &vx, PyBUF_RECORDS_RO)
        except Exception:
            return None
        held = True
        n = vx.len // vx.itemsize if vx.itemsize > 0 else 0
        px = <char *>vx.buf
        dt = DT_F64 if vx.itemsize == 8 else DT_F32
    try:
        if held:
            if not (_fast_ok(&vx) and PyBuffer_IsContiguous(&vx, b'C')):
                return None
            shape = tuple([vx.shape[i] for i in range(vx.ndim)])
        nd = len(shape)
        if not (nd >= 1 and -nd <= ax < nd and n > 0):
            return None
        if ax < 0:
            ax += nd
        if shape[ax] % 2:
            return None
        for i in range(ax):
            outer *= shape[i]
        for i in range(ax + 1, nd):
            inner *= shape[i]
        M = shape[ax] // 2 * inner
        if spec.p[3] != 0:      # interleaved: the same (outer, M, 2) / (outer*H, 2, inner) views as gated_layout
            if inner == 1:
                s = 2
            else:
                outer *= shape[ax] // 2
                M = inner
        out = empty(tuple([shape[i] // 2 if i == ax else shape[i] for i in range(nd)]), dtype=x.dtype)
        if not fa_nd_flat(out, 1, 1, &po, &no, &isz, &dto) or dto != dt:
            return None
        t = _fast_nt(t)
        with nogil:
            if dt >= DT_F16:
                rc = _gated_half_run(tb, dt - 1, spec.k, 0, NULL, px, po, outer, M, s, spec.p, t, spec.grain)
            else:
                rc = _gated_run(tb, spec.k, 0, dt == DT_F64, NULL, px, po, outer, M, s, spec.p, t, spec.grain)
    finally:
        if held:
            PyBuffer_Release(&vx)
    if dt >= DT_F16:
        _hrows_check(rc, "gated")
    elif rc != 0:
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
