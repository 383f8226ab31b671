# prelu.pxi: included by src/front/_front.pyx (one module, compiled once).
# prelu by columns (channel axis last) and by rows, with the dL/dalpha
# sums, and its fast path.


def prelu_cols(int mode, a, b, out, alpha, gsum, Py_ssize_t nrow, Py_ssize_t ncol,
               Py_ssize_t rows_per_chunk, int nthreads, Py_ssize_t grain, int half=0):
    """prelu with the channel axis last on C-contiguous (nrow, ncol) data.
    mode 0: out = prelu(a); mode 1: out = grad a * prelu'(x = b), and row chunk
    c of `rows_per_chunk` rows adds its dL/dalpha into gsum[c, :] (float64):
    the split does not depend on the thread count, so neither does the sum.
    half 1 / 2: a, b and out uint16 views of float16 / bfloat16 data, alpha
    float32 (_prelu_half)."""
    if half:
        return _prelu_half(half, True, mode, a, b, out, alpha, gsum, nrow, ncol, ncol, rows_per_chunk,
                           nthreads, grain)
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vo, val, vg
    cdef bint dbl
    cdef char *pa
    cdef char *pb
    cdef char *po
    cdef char *pal
    cdef double *pg = NULL
    _get_buffer(a, &va, PyBUF_RECORDS_RO)
    _get_buffer(b if mode != 0 else a, &vb, PyBUF_RECORDS_RO)
    _get_buffer(out, &vo, PyBUF_RECORDS)
    _get_buffer(alpha, &val, PyBUF_RECORDS_RO)
    _get_buffer(gsum if mode != 0 else alpha, &vg, PyBUF_RECORDS_RO)
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
    finite 1-D float32 or float64 array with one value per channel on `axis` (a
    plain int), apart from the output (float16 / bfloat16 plain ndarrays too:
    _fast_prelu_half); None for the general path (which
    checks everything and explains).  prelu_row: _families.prelu._PRELU_ROW (the
    channels-last loop takes prelu_row // C rows per chunk, as there)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer vx, va, vo
    cdef int t = _fast_threads(n_threads), i, k = 0
    cdef long ax
    cdef Py_ssize_t C, outer = 1, inner = 1, j
    cdef bint dbl
    cdef void *conv = NULL
    cdef double v, lim
    cdef char *pal
    cdef char *px
    cdef Py_ssize_t n, isz
    cdef int dt
    if t < 0 or not _axis_of(axis, &ax):
        return None
    if fa_nd_flat(x, out is x, 1, &px, &n, &isz, &dt) and dt >= DT_F16:
        return _fast_prelu_half(tb, x, alpha, ax, out, px, n, dt, t, grain, empty_like)
    try:
        _get_buffer(x, &vx, PyBUF_RECORDS_RO)
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
            _get_buffer(alpha, &va, PyBUF_RECORDS_RO)
        except Exception:
            return None
        try:
            if va.ndim >= 2:
                # ONNX PRelu's broadcast slope with one axis of extent > 1 (e.g.
                # (1, C) against (N, C)): per channel along the x axis it lines
                # up with (trailing axes aligned), whatever `axis` says
                k = -1
                for i in range(va.ndim):
                    if va.shape[i] != 1:
                        if k >= 0:
                            return None
                        k = i
                if k < 0 or va.ndim > vx.ndim or va.strides[k] != va.itemsize:
                    return None
                ax = vx.ndim - va.ndim + k
                C = vx.shape[ax]
            if not (_fast_ok(&va) and va.ndim >= 1 and va.shape[k] == C and C > 1):
                return None
            # NaN / inf slopes go to the general path, which names them; so does a
            # float64 slope beyond float32's range for float32 data (NumPy's cast
            # there warns of the overflow)
            lim = FLT_MAX if va.itemsize == 8 and not dbl else DBL_MAX
            for j in range(C):
                v = (<double *>va.buf)[j] if va.itemsize == 8 else (<float *>va.buf)[j]
                if not fabs(v) <= lim:
                    return None
            pal = <char *>va.buf
            if va.itemsize != vx.itemsize:
                # a slope array of the other float dtype (NumPy's default float64
                # slopes on float32 data): converted as the general path's
                # ascontiguousarray(alpha, dtype=x.dtype) does, rounding to nearest
                conv = malloc(C * vx.itemsize)
                if conv == NULL:
                    return None
                pal = <char *>conv
                for j in range(C):
                    if dbl:
                        (<double *>conv)[j] = (<float *>va.buf)[j]
                    else:
                        (<float *>conv)[j] = <float>(<double *>va.buf)[j]
            for i in range(ax):
                outer *= vx.shape[i]
            for i in range(ax + 1, vx.ndim):
                inner *= vx.shape[i]
            if out is None:
                out = empty_like(x)
            try:
                _get_buffer(out, &vo, PyBUF_RECORDS)
            except Exception:
                return None
            try:
                if not (_fast_ok(&vo) and _same_layout(&vx, &vo) and _same_or_apart(&vx, &vo)
                        and _apart(&va, &vo)):
                    return None
                t = _fast_nt(t)
                with nogil:
                    if inner == 1:
                        _prelu_cols_run(tb, 0, dbl, <char *>vx.buf, NULL, <char *>vo.buf, pal, NULL,
                                        outer, C, prelu_row // C if prelu_row >= C else 1, t, grain)
                    else:
                        _prelu_rows_run(tb, 0, dbl, <char *>vx.buf, NULL, <char *>vo.buf, pal, NULL,
                                        outer * C, C, inner, t, grain)
            finally:
                PyBuffer_Release(&vo)
        finally:
            free(conv)
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
               Py_ssize_t L, int nthreads, Py_ssize_t grain, int half=0):
    """prelu with the channel axis not last: C-contiguous (nrow, L) rows, row r
    belongs to channel r % nchan.  mode 1 writes each row's dL/dalpha into
    gsum[r] (float64), summed per channel by the caller.  half 1 / 2: as
    prelu_cols."""
    if half:
        return _prelu_half(half, False, mode, a, b, out, alpha, gsum, nrow, nchan, L, 1, nthreads, grain)
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vo, val, vg
    cdef bint dbl
    cdef char *pa
    cdef char *pb
    cdef char *po
    cdef char *pal
    cdef double *pg = NULL
    _get_buffer(a, &va, PyBUF_RECORDS_RO)
    _get_buffer(b if mode != 0 else a, &vb, PyBUF_RECORDS_RO)
    _get_buffer(out, &vo, PyBUF_RECORDS)
    _get_buffer(alpha, &val, PyBUF_RECORDS_RO)
    _get_buffer(gsum if mode != 0 else alpha, &vg, PyBUF_RECORDS_RO)
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


cdef struct _PreluHalf:
    const fa_loop_table *tb
    Py_ssize_t nchan, L, rpc
    const float *alpha
    double *gsum


cdef object _prelu_half(int half, bint cols, int mode, a, b, out, alpha, gsum, Py_ssize_t nrow, Py_ssize_t nchan,
                        Py_ssize_t L, Py_ssize_t rpc, int nthreads, Py_ssize_t grain):
    """prelu_cols / prelu_rows on float16 / bfloat16 rows (uint16 views a,
    b, out; float32 alpha).  The forward: rows of nchan channels (cols) by
    the half loop prelu_cols_h / _b, which converts in registers, or rows of
    L elements of channel r % nchan through the float32 loop in blocks of
    rows (halfrows.pxi).  The backward (grad a, x b): the float32 loops in
    blocks of rows, the dL/dalpha sums in the float32 path's order: per
    chunk of rpc rows, whose blocks one thread takes in order (cols), or
    per row (rows)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vo, val, vg
    cdef int rc = 0
    _get_buffer(a, &va, PyBUF_RECORDS_RO)
    try:
        _get_buffer(b if mode != 0 else a, &vb, PyBUF_RECORDS_RO)
        try:
            _get_buffer(gsum if mode != 0 else alpha, &vg, PyBUF_RECORDS if mode != 0 else PyBUF_RECORDS_RO)
            try:
                _get_buffer(out, &vo, PyBUF_RECORDS)
                try:
                    _get_buffer(alpha, &val, PyBUF_RECORDS_RO)
                    try:
                        if val.itemsize != 4 or val.len // 4 < nchan:
                            raise ValueError("prelu: half data take float32 slopes, one per channel")
                        if mode != 0 and (vg.itemsize != 8 or vg.len // 8 < (
                                (nrow + rpc - 1) // rpc * nchan if cols else nrow)):
                            raise ValueError("prelu: the dL/dalpha sums take a float64 buffer, one per chunk "
                                             "and channel")
                        with nogil:
                            rc = _prelu_half_run(tb, half, cols, mode, <char *>va.buf, <char *>vb.buf,
                                                 <char *>vo.buf, <const float *>val.buf,
                                                 <double *>vg.buf if mode != 0 else NULL, nrow, nchan, L, rpc,
                                                 nthreads, grain)
                    finally:
                        PyBuffer_Release(&val)
                finally:
                    PyBuffer_Release(&vo)
            finally:
                PyBuffer_Release(&vg)
        finally:
            PyBuffer_Release(&vb)
    finally:
        PyBuffer_Release(&va)
    _hrows_check(rc, "prelu")
    return out


cdef int _prelu_half_run(const fa_loop_table *tb, int half, bint cols, int mode, char *pa, char *pb, char *po,
                         const float *alpha, double *gsum, Py_ssize_t nrow, Py_ssize_t nchan, Py_ssize_t L,
                         Py_ssize_t rpc, int nthreads, Py_ssize_t grain) noexcept nogil:
    """_prelu_half's work on the data (pb, gsum: the backward's x and sums);
    _hrows_run's result."""
    cdef _PreluHalf c
    cdef _HRows h
    if cols and mode == 0:
        _prelu_cols_half(tb, half, <const uint16_t *>pa, <uint16_t *>po, alpha, nrow, nchan, nthreads, grain)
        return 0
    c.tb, c.nchan, c.L, c.rpc, c.alpha, c.gsum = tb, nchan, L, rpc, alpha, gsum
    _hrows_set(&h, half, nrow, _prelu_half_rows if mode == 0 else
               _prelu_half_cols_bwd if cols else _prelu_half_rows_bwd, &c)
    _hrows_in(&h, pa, L)
    if mode != 0:
        _hrows_in(&h, pb, L)
        h.chunk = rpc if cols else 0
    _hrows_out(&h, po, L)
    return _hrows_run(tb, &h, nthreads, grain)


cdef object _fast_prelu_half(const fa_loop_table *tb, x, alpha, long ax, out, char *px, Py_ssize_t n, int dt,
                             int t, Py_ssize_t grain, empty_like):
    """fast_prelu for a C-contiguous float16 / bfloat16 plain ndarray x (px,
    n elements, dt): finite slopes of float32 or x's format, one per channel
    (C > 1; _fast_half_operands); the general path's half work
    (_prelu_half_run).  None for the general path."""
    cdef char *po
    cdef Py_ssize_t C, outer = 1, inner = 1
    cdef int nd = fa_nd_ndim(x), rc = 0, i, nt
    cdef float *wide
    cdef const float *al
    if not (nd >= 1 and n > 0 and fa_nd_c_contig(x) and -nd <= ax < nd):
        return None
    if ax < 0:
        ax += nd
    C = fa_nd_dim(x, ax)
    if C <= 1:
        return None
    out = _fast_half_operands(tb, x, out, px, n, dt, empty_like, alpha, C, True, &po, &al, &wide)
    if out is None:
        return None
    try:
        for i in range(ax):
            outer *= fa_nd_dim(x, i)
        for i in range(ax + 1, nd):
            inner *= fa_nd_dim(x, i)
        nt = 1 if n <= FAST_HOLD_N else _fast_nt(t)
        with nogil:
            if inner == 1:
                rc = _prelu_half_run(tb, dt - 1, True, 0, px, NULL, po, al, NULL, outer, C, C, 1, nt, grain)
            else:
                rc = _prelu_half_run(tb, dt - 1, False, 0, px, NULL, po, al, NULL, outer * C, C, inner, 1, nt,
                                     grain)
    finally:
        PyMem_RawFree(wide)
    _hrows_check(rc, "prelu")
    return out


cdef void _prelu_cols_half(const fa_loop_table *tb, int half, const uint16_t *a, uint16_t *o, const float *alpha,
                           Py_ssize_t nrow, Py_ssize_t ncol, int nthreads, Py_ssize_t grain) noexcept nogil:
    """prelu_cols_h / _b on nrow rows, one contiguous run of rows per thread
    (rows are independent: threads never change a result)."""
    cdef Py_ssize_t nth = _nchunks(nrow * ncol, 4, nthreads, grain), per, t, r0, r1
    if nth > nrow:
        nth = nrow
    if nth <= 1:            # no OpenMP region (an if(0) one costs ~0.4 us)
        (tb.prelu_cols_h if half == 1 else tb.prelu_cols_b)(a, o, nrow, ncol, alpha)
        return
    per = (nrow + nth - 1) // nth
    for t in prange(nth, schedule='static', num_threads=nth):
        r0 = t * per
        r1 = nrow if r0 + per > nrow else r0 + per
        if r0 < r1:
            (tb.prelu_cols_h if half == 1 else tb.prelu_cols_b)(a + r0 * ncol, o + r0 * ncol, r1 - r0, ncol,
                                                                alpha)


cdef int _prelu_half_rows(const void *ctx, Py_ssize_t r0, Py_ssize_t w, float **fin,
                          float **fout) noexcept nogil:
    """_prelu_half's float32 work on w staged rows of one channel each
    (_hrows_fn)."""
    cdef const _PreluHalf *c = <const _PreluHalf *>ctx
    cdef Py_ssize_t r
    for r in range(w):
        c.tb.prelu_row_f(fin[0] + r * c.L, fout[0] + r * c.L, c.L, c.alpha[(r0 + r) % c.nchan])
    return 0


cdef int _prelu_half_rows_bwd(const void *ctx, Py_ssize_t r0, Py_ssize_t w, float **fin,
                              float **fout) noexcept nogil:
    """The backward of _prelu_half_rows (inputs grad, x): each row's
    dL/dalpha into gsum[r] (_hrows_fn)."""
    cdef const _PreluHalf *c = <const _PreluHalf *>ctx
    cdef Py_ssize_t r
    for r in range(w):
        c.gsum[r0 + r] = c.tb.prelu_row_bwd_f(fin[0] + r * c.L, fin[1] + r * c.L, fout[0] + r * c.L, c.L,
                                              c.alpha[(r0 + r) % c.nchan])
    return 0


cdef int _prelu_half_cols_bwd(const void *ctx, Py_ssize_t r0, Py_ssize_t w, float **fin,
                              float **fout) noexcept nogil:
    """The backward per column on w staged rows (inputs grad, x) of one
    chunk of c.rpc rows (_HRows.chunk): its dL/dalpha into the chunk's row
    of gsum, in row order, as prelu_cols_bwd on the whole chunk (_hrows_fn)."""
    cdef const _PreluHalf *c = <const _PreluHalf *>ctx
    c.tb.prelu_cols_bwd_f(fin[0], fin[1], fout[0], w, c.nchan, c.alpha, c.gsum + r0 // c.rpc * c.nchan)
    return 0
