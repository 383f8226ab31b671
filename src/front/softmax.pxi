# softmax.pxi: included by src/front/_front.pyx (one module, compiled once).
# softmax / log_softmax over rows or column strips, in blocks of rows.


def softmax_blocks(int mode, a, b, out, Py_ssize_t nouter, Py_ssize_t L, Py_ssize_t inner,
                   bint log_form, int nthreads, Py_ssize_t grain, int half=0):
    """Softmax over the middle axis of C-contiguous (nouter, L, inner) data
    (mode 0: out = softmax(a)) or its backward from y (mode 2: out from grad a
    and y b).  half 1 / 2: uint16 views of float16 / bfloat16 data, run
    through the float32 loops in blocks of outer rows (halfrows.pxi); there
    mode 1 is the backward from x b (y computed in float32 per block)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vo
    if half:
        return _sm_half(half, mode, a, b, out, NULL, nouter, L, inner, log_form, 1.0, nthreads, grain)
    if mode == 1:
        raise ValueError("softmax_blocks: mode 1 (the backward from x) is for half data only")
    _get_buffer(a, &va, PyBUF_RECORDS_RO)
    try:
        _get_buffer(b if mode != 0 else a, &vb, PyBUF_RECORDS_RO)
        try:
            _get_buffer(out, &vo, PyBUF_RECORDS)
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


cdef enum:
    _SM_PF_MIN_BYTES = 64 << 10   # beyond a 48 KB L1d
    _SM_BLOCK_BYTES = 8192        # row blocks (_row_block)
    _SM_FAR_BLOCK_BYTES = 4096    # row blocks of a far output (_sm_far)
    _SM_FAR_PF_ROW_BYTES = 8192   # a far output's rows up to this skip the prefetch,
    _SM_FAR_PF_LOG_ROW_BYTES = 4096   # log_softmax's up to this


cdef inline Py_ssize_t _row_block(Py_ssize_t L, Py_ssize_t isz, bint rows, Py_ssize_t nbytes) noexcept nogil:
    """Rows per item of a row softmax: blocks of up to nbytes (8 KB: with
    their output and the next block's prefetched rows at most half of a
    48 KB L1d); one row per item of nbytes or more, and for column strips."""
    cdef Py_ssize_t rb = nbytes // (L * isz) if L > 0 else 1
    if rb > FA_TABLE_SMC:
        rb = FA_TABLE_SMC
    if rb < 1 or not rows:
        rb = 1
    return rb


cdef inline Py_ssize_t _sm_nstrip(bint rows, Py_ssize_t inner) noexcept nogil:
    """Column strips per outer block (1 over rows)."""
    return 1 if rows else (inner + FA_TABLE_SMC - 1) // FA_TABLE_SMC


cdef inline bint _sm_far(const fa_loop_table *tb, int mode, bint rows, bint dbl, bint log_form, char *pa,
                         char *po, Py_ssize_t nbytes) noexcept nogil:
    """Whether a float32 softmax or log_softmax over rows writes a far
    output: out of place, at least the last-level cache's size
    (_stream_min), on a CPU whose hardware prefetchers keep up alone (the
    loops' sw_prefetch off: AMD).  There its rows stream from memory fastest
    in blocks of at most 4 KB, without the software prefetch for rows up to
    8 KB (log_softmax, whose sum pass writes nothing: 4 KB; longer rows
    still gain from it).  In place, within the cache and in float64 (slower
    per element) the 8 KB blocks with the prefetch are as fast or faster
    (docs/performance.md).  Rows are independent, so the blocks never change
    a result bit."""
    return (rows and mode == 0 and not dbl and pa != po and not tb.sw_prefetch[0]
            and _stream_min > 0 and nbytes >= _stream_min)


def softmax_row_plan(Py_ssize_t nouter, Py_ssize_t L, bint dbl, bint log_form, bint out_of_place,
                     int nthreads):
    """(rows per block, prefetch) that a row softmax forward of (nouter, L)
    takes on nthreads threads with the active loops: for the tests."""
    cdef char c[2]
    cdef Py_ssize_t rb, nitem, nth
    cdef bint pf
    rb, nitem, nth, pf = _sm_plan(_table(), 0, True, dbl, log_form, c, c + out_of_place, nouter, L, 1, nthreads)
    return rb, pf


cdef inline (Py_ssize_t, Py_ssize_t, Py_ssize_t, bint) _sm_plan(
        const fa_loop_table *tb, int mode, bint rows, bint dbl, bint log_form, char *pa, char *po,
        Py_ssize_t nouter, Py_ssize_t L, Py_ssize_t inner, Py_ssize_t nth) noexcept nogil:
    """(rows per item, items, threads, whether row blocks prefetch) for nth
    threads at most: no more threads than items.  Row blocks beyond L1
    (_SM_PF_MIN_BYTES per thread) prefetch, the forward the next block while
    summing this one, so that its maxima read L1 rather than L2 or memory,
    the backward each next row while summing the row (the element-wise loops
    start at 1 MB); a far output's short rows do not (_sm_far)."""
    cdef Py_ssize_t isz = 8 if dbl else 4
    cdef Py_ssize_t nbytes = nouter * L * inner * isz
    cdef bint far = _sm_far(tb, mode, rows, dbl, log_form, pa, po, nbytes)
    cdef Py_ssize_t rb = _row_block(L, isz, rows, _SM_FAR_BLOCK_BYTES if far else _SM_BLOCK_BYTES)
    cdef Py_ssize_t nitem = (nouter + rb - 1) // rb * _sm_nstrip(rows, inner)
    if nth > nitem:
        nth = nitem if nitem > 0 else 1
    cdef bint pf = rows and nbytes >= _SM_PF_MIN_BYTES * nth and not (
        far and L * isz <= (_SM_FAR_PF_LOG_ROW_BYTES if log_form else _SM_FAR_PF_ROW_BYTES))
    return rb, nitem, nth, pf


cdef void _softmax_run(const fa_loop_table *tb, int mode, bint dbl, char *pa, char *pb, char *po, Py_ssize_t nouter, Py_ssize_t L,
                       Py_ssize_t inner, bint log_form, int nthreads, Py_ssize_t grain) noexcept nogil:
    """inner == 1: blocks of up to FA_TABLE_SMC rows (short rows in one block
    overlap; rows of 8 KB+ are one item each); else FA_TABLE_SMC-column strips of
    one outer block.  Items are independent, so threads never change results."""
    cdef bint rows = inner == 1
    cdef Py_ssize_t it
    cdef Py_ssize_t isz = 8 if dbl else 4
    cdef Py_ssize_t rb, nitem, nth
    cdef bint pf
    rb, nitem, nth, pf = _sm_plan(tb, mode, rows, dbl, log_form, pa, po, nouter, L, inner,
                                  _nchunks(nouter * L * inner, isz, nthreads, grain))
    cdef Py_ssize_t nstrip = _sm_nstrip(rows, inner)
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
        pfe = (nouter - it * rb - w) * L if pf else -1
    else:
        pfe = -1
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
    a row block that may be prefetched (-1: no prefetching)."""
    cdef Py_ssize_t r, rs = L * (8 if dbl else 4)
    cdef Py_ssize_t pfr
    if rows:
        if mode == 0:
            if dbl:
                tb.softmax_rows_d(<const double *>a, <double *>o, w, L, log_form, pf if pf > 0 else 0)
            else:
                tb.softmax_rows_f(<const float *>a, <float *>o, w, L, log_form, pf if pf > 0 else 0)
        else:
            for r in range(w):
                pfr = pf + (w - 1 - r) * L if pf >= 0 else 0      # after row r
                if dbl:
                    tb.softmax_bwd_row_d(<const double *>(a + r * rs), <const double *>(b + r * rs),
                                         <double *>(o + r * rs), L, log_form, pfr)
                else:
                    tb.softmax_bwd_row_f(<const float *>(a + r * rs), <const float *>(b + r * rs),
                                         <float *>(o + r * rs), L, log_form, pfr)
    elif mode == 0:
        if dbl:
            tb.softmax_cols_d(<const double *>a, <double *>o, L, inner, w, log_form)
        else:
            tb.softmax_cols_f(<const float *>a, <float *>o, L, inner, w, log_form)
    elif dbl:
        tb.softmax_bwd_cols_d(<const double *>a, <const double *>b, <double *>o, L, inner, w, log_form)
    else:
        tb.softmax_bwd_cols_f(<const float *>a, <const float *>b, <float *>o, L, inner, w, log_form)


# ---- masked / scaled softmax ----------------------------------------------
# The mask is a read-only byte array (NumPy bool) of x's shape, usually a
# broadcast view: the byte of (outer o, l, c) is at
#   mbase + _moff(o) + l*ml + c*mi,
# _moff summing the outer dims' strides (any number of them, zero strides
# included), so a broadcast mask is never expanded.

cdef enum:
    _SM_MAXD = 64           # NumPy's dimension limit (NPY_MAXDIMS)


cdef struct _SmMask:
    const unsigned char *base  # NULL: no mask (scale only)
    int nd                     # outer dims of size > 1
    Py_ssize_t shp[_SM_MAXD]
    Py_ssize_t st[_SM_MAXD]
    Py_ssize_t ml, mi          # byte strides along the reduced axis and the inner axis


cdef inline const unsigned char *_sm_mrow(const _SmMask *mk, Py_ssize_t o) noexcept nogil:
    """The mask byte of (o, 0, 0): o split over the outer dims, last fastest."""
    cdef Py_ssize_t off = 0, q
    cdef int k
    if mk.base == NULL:
        return NULL
    for k in range(mk.nd - 1, -1, -1):
        q = o // mk.shp[k]
        off += (o - q * mk.shp[k]) * mk.st[k]
        o = q
    return mk.base + off


cdef inline void _sm_prep(const fa_loop_table *tb, bint dbl, const char *x, char *y, const unsigned char *m,
                          Py_ssize_t ms, Py_ssize_t n, double s, double fill) noexcept nogil:
    if dbl:
        tb.softmax_prep_d(<const double *>x, <double *>y, m, ms, n, s, fill)
    else:
        tb.softmax_prep_f(<const float *>x, <float *>y, m, ms, n, <float>s, <float>fill)


def softmax_masked(int mode, a, b, out, size_t mbase, tuple oshape, tuple ostride, Py_ssize_t ml,
                   Py_ssize_t mi, Py_ssize_t nouter, Py_ssize_t L, Py_ssize_t inner, bint log_form,
                   double scale, int nthreads, Py_ssize_t grain, int half=0):
    """softmax_blocks with a mask and a scale: mode 0 out = softmax(where(mask,
    scale*a, -inf)); mode 2 out = where(mask, J(y = b)^T (scale*a), 0), the
    backward from y.  mbase 0: no mask.  The caller keeps the mask alive
    and guarantees out does not overlap b or the mask (out is written
    before b is read).  half: as softmax_blocks (mode 1 there too)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vo
    cdef _SmMask mk
    cdef int k
    mk.base = <const unsigned char *>mbase
    mk.nd = len(oshape)
    if mk.nd > _SM_MAXD:
        raise ValueError("softmax: too many dimensions")
    for k in range(mk.nd):
        mk.shp[k] = oshape[k]
        mk.st[k] = ostride[k]
    mk.ml, mk.mi = ml, mi
    if half:
        return _sm_half(half, mode, a, b, out, &mk, nouter, L, inner, log_form, scale, nthreads, grain)
    if mode == 1:
        raise ValueError("softmax_masked: mode 1 (the backward from x) is for half data only")
    _get_buffer(a, &va, PyBUF_RECORDS_RO)
    try:
        _get_buffer(b if mode != 0 else a, &vb, PyBUF_RECORDS_RO)
        try:
            _get_buffer(out, &vo, PyBUF_RECORDS)
            try:
                with nogil:
                    _smm_run(tb, &mk, mode, vo.itemsize == 8, <char *>va.buf, <char *>vb.buf, <char *>vo.buf,
                             nouter, L, inner, log_form, scale, nthreads, grain)
            finally:
                PyBuffer_Release(&vo)
        finally:
            PyBuffer_Release(&vb)
    finally:
        PyBuffer_Release(&va)
    return out


cdef void _smm_run(const fa_loop_table *tb, const _SmMask *mk, int mode, bint dbl, char *pa, char *pb,
                   char *po, Py_ssize_t nouter, Py_ssize_t L, Py_ssize_t inner, bint log_form, double scale,
                   int nthreads, Py_ssize_t grain) noexcept nogil:
    """The items of _softmax_run (row blocks, or column strips of one outer
    block), each prepared by _sm_prep just before its kernel runs, so the
    prepared block is read back from cache; items are independent, so
    threads never change results."""
    cdef bint rows = inner == 1
    cdef Py_ssize_t it
    cdef Py_ssize_t isz = 8 if dbl else 4
    cdef Py_ssize_t rb, nitem, nth
    cdef bint pf
    # the kernels run in place on the prepared output (po, po): never a far
    # output, and the items do not prefetch (pf unused)
    rb, nitem, nth, pf = _sm_plan(tb, mode, rows, dbl, log_form, po, po, nouter, L, inner,
                                  _nchunks(nouter * L * inner, isz, nthreads, grain))
    cdef Py_ssize_t nstrip = _sm_nstrip(rows, inner)
    if nth <= 1:
        for it in range(nitem):
            _smm_item(tb, mk, it, mode, dbl, rows, pa, pb, po, nouter, L, inner, rb, nstrip, log_form, scale)
        return
    for it in prange(nitem, schedule='static', num_threads=nth):
        _smm_item(tb, mk, it, mode, dbl, rows, pa, pb, po, nouter, L, inner, rb, nstrip, log_form, scale)


cdef void _smm_item(const fa_loop_table *tb, const _SmMask *mk, Py_ssize_t it, int mode, bint dbl, bint rows,
                    char *pa, char *pb, char *po, Py_ssize_t nouter, Py_ssize_t L, Py_ssize_t inner,
                    Py_ssize_t rb, Py_ssize_t nstrip, bint log_form, double scale) noexcept nogil:
    cdef Py_ssize_t isz = 8 if dbl else 4
    cdef Py_ssize_t w, c0, ob, off
    if rows:
        w = nouter - it * rb
        if w > rb:
            w = rb
        off = it * rb * L * isz
        _smm_rows(tb, mk, mode, dbl, pa + off, pb + off, po + off, it * rb, w, L, log_form, scale)
        return
    ob = it // nstrip
    c0 = (it % nstrip) * FA_TABLE_SMC
    w = inner - c0
    if w > FA_TABLE_SMC:
        w = FA_TABLE_SMC
    off = (ob * L * inner + c0) * isz
    _smm_strip(tb, mk, mode, dbl, pa + off, pb + off, po + off, ob, c0, w, L, inner, log_form, scale)


cdef void _smm_rows(const fa_loop_table *tb, const _SmMask *mk, int mode, bint dbl, char *pa, char *pb,
                    char *po, Py_ssize_t row0, Py_ssize_t w, Py_ssize_t L, bint log_form,
                    double scale) noexcept nogil:
    """w <= FA_TABLE_SMC rows of softmax_masked, outer rows row0.. (their mask
    rows); pa, pb, po point at row row0's data."""
    cdef Py_ssize_t r, rs = L * (8 if dbl else 4)
    cdef double fill = -INFINITY if mode == 0 else 0.0
    for r in range(w):
        _sm_prep(tb, dbl, pa + r * rs, po + r * rs, _sm_mrow(mk, row0 + r), mk.ml, L, scale, fill)
    if mode == 0:
        _softmax_item(tb, 0, dbl, True, po, NULL, po, L, 1, w, log_form, -1)
        return
    _softmax_item(tb, 2, dbl, True, po, pb, po, L, 1, w, log_form, -1)
    if mk.base != NULL:
        for r in range(w):
            _sm_prep(tb, dbl, po + r * rs, po + r * rs, _sm_mrow(mk, row0 + r), mk.ml, L, 1.0, 0.0)


cdef void _smm_strip(const fa_loop_table *tb, const _SmMask *mk, int mode, bint dbl, char *pa, char *pb,
                     char *po, Py_ssize_t ob, Py_ssize_t c0, Py_ssize_t w, Py_ssize_t L, Py_ssize_t inner,
                     bint log_form, double scale) noexcept nogil:
    """Columns [c0, c0 + w) (w <= FA_TABLE_SMC) of outer block ob of
    softmax_masked; pa, pb, po point at its element (0, c0)."""
    cdef Py_ssize_t l, ls = inner * (8 if dbl else 4)
    cdef double fill = -INFINITY if mode == 0 else 0.0
    cdef const unsigned char *m = _sm_mrow(mk, ob)
    if m != NULL:
        m = m + c0 * mk.mi
    for l in range(L):
        _sm_prep(tb, dbl, pa + l * ls, po + l * ls, m + l * mk.ml if m != NULL else NULL, mk.mi, w,
                 scale, fill)
    if mode == 0:
        _softmax_item(tb, 0, dbl, False, po, NULL, po, L, inner, w, log_form, -1)
        return
    _softmax_item(tb, 2, dbl, False, po, pb, po, L, inner, w, log_form, -1)
    if m != NULL:
        for l in range(L):
            _sm_prep(tb, dbl, po + l * ls, po + l * ls, m + l * mk.ml, mk.mi, w, 1.0, 0.0)


# ---- float16 / bfloat16 (halfrows.pxi) -------------------------------------


cdef struct _SmHalf:
    const fa_loop_table *tb
    const _SmMask *mk               # NULL: the plain kernels (no mask, no scale)
    int mode
    Py_ssize_t L, inner
    bint log_form
    double scale


cdef object _sm_half(int half, int mode, a, b, out, const _SmMask *mk, Py_ssize_t nouter, Py_ssize_t L,
                     Py_ssize_t inner, bint log_form, double scale, int nthreads, Py_ssize_t grain):
    """softmax_blocks / softmax_masked on uint16 views of float16 (half 1) /
    bfloat16 (2) data (_sm_half_run)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vo
    cdef int rc = 0
    _get_buffer(a, &va, PyBUF_RECORDS_RO)
    try:
        _get_buffer(b if mode != 0 else a, &vb, PyBUF_RECORDS_RO)
        try:
            _get_buffer(out, &vo, PyBUF_RECORDS)
            try:
                with nogil:
                    rc = _sm_half_run(tb, half, mode, <char *>va.buf, <char *>vb.buf, <char *>vo.buf, mk, nouter, L,
                                      inner, log_form, scale, nthreads, grain)
            finally:
                PyBuffer_Release(&vo)
        finally:
            PyBuffer_Release(&vb)
    finally:
        PyBuffer_Release(&va)
    _hrows_check(rc, "softmax")
    return out


cdef int _sm_half_run(const fa_loop_table *tb, int half, int mode, char *pa, char *pb, char *po, const _SmMask *mk,
                      Py_ssize_t nouter, Py_ssize_t L, Py_ssize_t inner, bint log_form, double scale, int nthreads,
                      Py_ssize_t grain) noexcept nogil:
    """The float16 (half 1) / bfloat16 (2) softmax: blocks of outer rows
    widened, the float32 items, rounded back (_hrows_run's result).  mode 1:
    the backward from x pb (y computed in float32 per block); 2: from y pb.
    mk NULL: the plain kernels (no mask, scale 1)."""
    cdef _SmHalf c
    cdef _HRows h
    if _sml_rows(L, inner, mode, log_form):
        return _sml_run(tb, half, mode, pa, pb, po, mk, nouter, L, log_form, scale, nthreads, grain)
    c.tb, c.mk, c.mode, c.L, c.inner, c.log_form, c.scale = tb, mk, mode, L, inner, log_form, scale
    if _sms_strips(L, inner):
        return _sms_run(&c, half, pa, pb, po, nouter, nthreads, grain)
    _hrows_set(&h, half, nouter, _sm_half_rows, &c)
    _hrows_in(&h, pa, L * inner)
    if mode != 0:
        _hrows_in(&h, pb, L * inner)
    _hrows_out(&h, po, L * inner)
    return _hrows_run(tb, &h, nthreads, grain)


cdef int _sm_half_rows(const void *ctx, Py_ssize_t r0, Py_ssize_t w, float **fin,
                       float **fout) noexcept nogil:
    """_sm_half's float32 work on w staged outer blocks (_hrows_fn)."""
    cdef const _SmHalf *c = <const _SmHalf *>ctx
    if c.mode == 0:
        _sm_half_items(c, 0, r0, fin[0], NULL, fout[0], w)
        return 0
    if c.mode == 1:         # from x: y = softmax(x) first, over the x block
        _sm_half_items(c, 0, r0, fin[1], NULL, fin[1], w)
    _sm_half_items(c, 2, r0, fin[0], fin[1], fout[0], w)
    return 0


cdef void _sm_half_items(const _SmHalf *c, int mode, Py_ssize_t r0, float *a, float *b, float *o,
                         Py_ssize_t w) noexcept nogil:
    """The items of _softmax_run / _smm_run on w float32 (L, inner) blocks,
    outer rows r0.. (their mask rows), no prefetch (the block is in L1)."""
    cdef Py_ssize_t r, n, ob, c0, off
    cdef char *pb
    if c.inner == 1:        # at most FA_TABLE_SMC rows per call
        r = 0
        while r < w:
            n = w - r
            if n > FA_TABLE_SMC:
                n = FA_TABLE_SMC
            off = r * c.L
            pb = <char *>(b + off) if b != NULL else NULL
            if c.mk == NULL:
                _softmax_item(c.tb, mode, False, True, <char *>(a + off), pb, <char *>(o + off), c.L, 1, n,
                              c.log_form, -1)
            else:
                _smm_rows(c.tb, c.mk, mode, False, <char *>(a + off), pb, <char *>(o + off), r0 + r, n, c.L,
                          c.log_form, c.scale)
            r += n
        return
    for ob in range(w):     # strips of FA_TABLE_SMC columns
        c0 = 0
        while c0 < c.inner:
            n = c.inner - c0
            if n > FA_TABLE_SMC:
                n = FA_TABLE_SMC
            off = ob * c.L * c.inner + c0
            pb = <char *>(b + off) if b != NULL else NULL
            if c.mk == NULL:
                _softmax_item(c.tb, mode, False, False, <char *>(a + off), pb, <char *>(o + off), c.L, c.inner,
                              n, c.log_form, -1)
            else:
                _smm_strip(c.tb, c.mk, mode, False, <char *>(a + off), pb, <char *>(o + off), r0 + ob, c0, n,
                           c.L, c.inner, c.log_form, c.scale)
            c0 += n
