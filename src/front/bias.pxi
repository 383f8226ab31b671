# bias.pxi: included by src/front/_front.pyx (one module, compiled once).
# the fused bias + activation rows and their fast path.


def bias_rows(int k, int mode, a, b, bias, out, Py_ssize_t nrow, Py_ssize_t ncol,
              double p0, double p1, double p2, double p3, int nthreads, Py_ssize_t grain, int half=0,
              gsum=None, Py_ssize_t rpc=1):
    """Fused bias + activation over C-contiguous (nrow, ncol) data, bias on
    the columns.  mode 0: out = f(a + bias); 1: out = a * f'(b + bias) with
    b the pre-bias input; 2: out = a * f'(.) from the forward output b.
    Modes 1 and 2 also sum out's columns in float64 into gsum, one row per
    chunk of rpc rows, in row order: the chunks, not the threads, fix the
    order, so the sums do not depend on the thread count.  half 1 / 2: a, b
    and out uint16 views of float16 / bfloat16 data, bias float32, run
    through the float32 loops in blocks of rows (halfrows.pxi; the backward's
    blocks within its chunks, _HRows.chunk), the sums over the float32
    results before they are rounded."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vbias, vo, vg
    cdef double p[4]
    p[0], p[1], p[2], p[3] = p0, p1, p2, p3
    cdef int rc = 0
    cdef Py_ssize_t nch = (nrow + rpc - 1) // rpc if rpc > 0 else 0
    if mode != 0 and (gsum is None or rpc < 1):
        raise ValueError("bias_rows: the backward sums into gsum, rows of rpc >= 1 rows")
    cdef int held = 0       # buffers taken so far, released in reverse
    try:
        _get_buffer(a, &va, PyBUF_RECORDS_RO)
        held = 1
        _get_buffer(b if mode != 0 else a, &vb, PyBUF_RECORDS_RO)
        held = 2
        _get_buffer(bias, &vbias, PyBUF_RECORDS_RO)
        held = 3
        _get_buffer(out, &vo, PyBUF_RECORDS)
        held = 4
        _get_buffer(gsum if mode != 0 else out, &vg, PyBUF_RECORDS)
        held = 5
        if mode != 0 and (vg.itemsize != 8 or vg.len // 8 < nch * ncol):
            raise ValueError("bias_rows: gsum takes float64 sums, one row of ncol per chunk")
        if half:
            if vbias.itemsize != 4 or vbias.len // 4 < ncol:
                raise ValueError("bias_act: half data take a float32 bias, one per column")
            with nogil:
                rc = _bias_half_run(tb, half, k, mode, <char *>va.buf, <char *>vb.buf, <const float *>vbias.buf,
                                    <char *>vo.buf, <double *>vg.buf if mode != 0 else NULL, nrow, ncol, rpc,
                                    p, nthreads, grain)
            _hrows_check(rc, "bias_act")
            return out
        with nogil:
            if mode == 0:
                rc = _bias_run(tb, k, mode, vo.itemsize == 8, <char *>va.buf, <char *>vb.buf, <char *>vbias.buf,
                               <char *>vo.buf, nrow, ncol, p, nthreads, grain)
            else:
                rc = _bias_bwd_run(tb, k, mode, vo.itemsize == 8, <char *>va.buf, <char *>vb.buf,
                                   <char *>vbias.buf, <char *>vo.buf, <double *>vg.buf, nrow, ncol, rpc, p,
                                   nthreads, grain)
    finally:
        if held >= 5:
            PyBuffer_Release(&vg)
        if held >= 4:
            PyBuffer_Release(&vo)
        if held >= 3:
            PyBuffer_Release(&vbias)
        if held >= 2:
            PyBuffer_Release(&vb)
        if held >= 1:
            PyBuffer_Release(&va)
    if rc != 0:
        raise RuntimeError(f"fastact internal error: kernel {k} not compiled")
    return out


def fast_bias(Spec spec not None, x, bias, out, n_threads, empty_like):
    """bias_act forward (out None: a new array; out x: in place) when x is a
    native, aligned, C-contiguous non-empty array and bias a 1-D array of its
    dtype and last-axis length (float16 / bfloat16 plain ndarrays too, with a
    float32 bias or one of x's format: _fast_bias_half); None for the general
    path (which checks everything and explains)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer vx, vb, vo
    cdef int t = _fast_threads(n_threads), rc = 0, dt
    cdef Py_ssize_t C, n, isz
    cdef char *px
    if t < 0:
        return None
    if fa_nd_flat(x, out is not None, 1, &px, &n, &isz, &dt) and dt >= DT_F16:
        return _fast_bias_half(tb, spec, x, bias, out, px, n, dt, t, empty_like)
    try:
        _get_buffer(x, &vx, PyBUF_RECORDS_RO)
    except Exception:
        return None
    try:
        if not (_fast_ok(&vx) and PyBuffer_IsContiguous(&vx, b'C') and vx.ndim >= 1 and vx.len > 0):
            return None
        C = vx.shape[vx.ndim - 1]
        try:
            _get_buffer(bias, &vb, PyBUF_RECORDS_RO)
        except Exception:
            return None
        try:
            if not (_fast_ok(&vb) and vb.ndim == 1 and vb.shape[0] == C and vb.itemsize == vx.itemsize
                    and vb.format[0] == vx.format[0]):
                return None
            if out is None:
                out = empty_like(x)
            try:
                _get_buffer(out, &vo, PyBUF_RECORDS)
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


cdef int _bias_bwd_run(const fa_loop_table *tb, int k, int mode, bint dbl, char *pa, char *pb, char *pbias,
                       char *po, double *pg, Py_ssize_t nrow, Py_ssize_t ncol, Py_ssize_t rpc, const double *p,
                       int nthreads, Py_ssize_t grain) noexcept nogil:
    """bias_rows' backward: chunks of rpc rows, each written and summed into
    its row of pg by one thread (_bias_bwd_chunk)."""
    cdef Py_ssize_t isz = 8 if dbl else 4
    cdef Py_ssize_t nch = (nrow + rpc - 1) // rpc
    cdef Py_ssize_t nth = _nchunks(nrow * ncol, isz, nthreads, grain), c
    cdef int rc = 0
    if nth > nch:
        nth = nch
    if nth <= 1:            # no OpenMP region (an if(0) one costs ~0.4 us)
        for c in range(nch):
            rc |= _bias_bwd_chunk(tb, k, mode, dbl, pa, pb, pbias, po, pg, c, rpc, nrow, ncol, isz, p)
        return rc
    for c in prange(nch, schedule='static', num_threads=nth):
        rc |= _bias_bwd_chunk(tb, k, mode, dbl, pa, pb, pbias, po, pg, c, rpc, nrow, ncol, isz, p)
    return rc


cdef inline int _bias_bwd_chunk(const fa_loop_table *tb, int k, int mode, bint dbl, char *pa, char *pb,
                                char *pbias, char *po, double *pg, Py_ssize_t c, Py_ssize_t rpc, Py_ssize_t nrow,
                                Py_ssize_t ncol, Py_ssize_t isz, const double *p) noexcept nogil:
    """Chunk c of _bias_bwd_run: its rows written, then their columns summed
    into pg[c] in row order (the chunk, 16384 elements, still in L2)."""
    cdef Py_ssize_t r0 = c * rpc
    cdef Py_ssize_t r1 = r0 + rpc
    cdef int rc
    if r1 > nrow:
        r1 = nrow
    rc = _bias_chunk(tb, k, mode, dbl, pa, pb, pbias, po, r0, r1, ncol, isz, p)
    if dbl:
        tb.colsum_d(<const double *>(po + r0 * ncol * isz), pg + c * ncol, r1 - r0, ncol)
    else:
        tb.colsum_f(<const float *>(po + r0 * ncol * isz), pg + c * ncol, r1 - r0, ncol)
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


cdef struct _BiasHalf:
    const fa_loop_table *tb
    int k
    bint from_y
    Py_ssize_t ncol, rpc
    const float *bias
    double *gsum
    double p[4]


cdef int _bias_half_run(const fa_loop_table *tb, int half, int k, int mode, char *pa, char *pb, const float *bias,
                        char *po, double *gsum, Py_ssize_t nrow, Py_ssize_t ncol, Py_ssize_t rpc, const double *p,
                        int nthreads, Py_ssize_t grain) noexcept nogil:
    """bias_rows on float16 (half 1) / bfloat16 (2) data, a float32 bias:
    blocks of rows widened, the float32 loops, rounded back (the backward's
    blocks within its chunks of rpc rows, their sums into gsum); _hrows_run's
    result."""
    cdef _BiasHalf c
    cdef _HRows h
    c.tb, c.k, c.ncol, c.bias = tb, k, ncol, bias
    c.from_y, c.rpc, c.gsum = mode == 2, rpc, gsum
    c.p[0], c.p[1], c.p[2], c.p[3] = p[0], p[1], p[2], p[3]
    _hrows_set(&h, half, nrow, _bias_half_rows if mode == 0 else _bias_half_bwd_rows, &c)
    _hrows_in(&h, pa, ncol)
    if mode != 0:
        _hrows_in(&h, pb, ncol)
        h.chunk = rpc
    _hrows_out(&h, po, ncol)
    return _hrows_run(tb, &h, nthreads, grain)


cdef object _fast_bias_half(const fa_loop_table *tb, Spec spec, x, bias, out, char *px, Py_ssize_t n, int dt,
                            int t, empty_like):
    """fast_bias for a C-contiguous float16 / bfloat16 plain ndarray x (px,
    n elements, dt) and a bias of float32 or x's format (_fast_half_operands):
    the general path's blocks of rows (_bias_half_run); None for the general
    path."""
    cdef char *po
    cdef Py_ssize_t C
    cdef int nd = fa_nd_ndim(x), rc = 0, nt
    cdef float *wide
    cdef const float *b
    if not (nd >= 1 and n > 0 and fa_nd_c_contig(x)):
        return None
    C = fa_nd_dim(x, nd - 1)
    out = _fast_half_operands(tb, x, out, px, n, dt, empty_like, bias, C, False, &po, &b, &wide)
    if out is None:
        return None
    try:
        nt = 1 if n <= FAST_HOLD_N else _fast_nt(t)
        with nogil:
            rc = _bias_half_run(tb, dt - 1, spec.k, 0, px, NULL, b, po, NULL, n // C, C, 1, spec.p, nt, spec.grain)
    finally:
        PyMem_RawFree(wide)
    _hrows_check(rc, "bias_act")
    return out


cdef int _bias_half_rows(const void *ctx, Py_ssize_t r0, Py_ssize_t w, float **fin,
                         float **fout) noexcept nogil:
    """bias_rows' float32 forward on w staged rows (_hrows_fn)."""
    cdef const _BiasHalf *c = <const _BiasHalf *>ctx
    return c.tb.bias_fwd_rows_f(c.k, fin[0], c.bias, fout[0], w, c.ncol, c.p)


cdef int _bias_half_bwd_rows(const void *ctx, Py_ssize_t r0, Py_ssize_t w, float **fin,
                             float **fout) noexcept nogil:
    """bias_rows' float32 backward on w staged rows of one chunk (inputs
    grad, x or y; _HRows.chunk), their columns summed into the chunk's row of
    gsum (_hrows_fn)."""
    cdef const _BiasHalf *c = <const _BiasHalf *>ctx
    cdef int rc = c.tb.bias_bwd_rows_f(c.k, c.from_y, fin[0], fin[1], c.bias, fout[0], w, c.ncol, c.p)
    c.tb.colsum_f(fout[0], c.gsum + r0 // c.rpc * c.ncol, w, c.ncol)
    return rc
