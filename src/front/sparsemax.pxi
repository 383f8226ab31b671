# sparsemax.pxi: included by src/front/_front.pyx (one module, compiled once).
# sparsemax over C-contiguous rows (the axis moved last), in blocks of rows.


def sparsemax_rows(int mode, a, b, out, Py_ssize_t nr, Py_ssize_t L, int nthreads, Py_ssize_t grain,
                   int half=0):
    """sparsemax of the nr rows of length L of C-contiguous a (mode 0: out =
    sparsemax(a)) or its backward from y (mode 2: out from grad a and y b).
    half 1 / 2: uint16 views of float16 / bfloat16 data, run through the
    float32 loops in blocks of rows (halfrows.pxi); there mode 1 is the
    backward from x b (y computed in float32 per block)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vo
    cdef _HRows h
    cdef _SpmHalf c
    cdef int rc = 0
    if mode == 1 and not half:
        raise ValueError("sparsemax_rows: mode 1 (the backward from x) is for half data only")
    if half:
        _get_buffer(a, &va, PyBUF_RECORDS_RO)
        try:
            _get_buffer(b if mode != 0 else a, &vb, PyBUF_RECORDS_RO)
            try:
                _get_buffer(out, &vo, PyBUF_RECORDS)
                try:
                    c.tb, c.L = tb, L
                    _hrows_set(&h, half, nr, _spm_half_rows0 if mode == 0 else _spm_half_rows1 if mode == 1
                               else _spm_half_rows2, &c)
                    _hrows_in(&h, <char *>va.buf, L)
                    if mode != 0:
                        _hrows_in(&h, <char *>vb.buf, L)
                    _hrows_out(&h, <char *>vo.buf, L)
                    with nogil:
                        rc = _hrows_run(tb, &h, nthreads, grain)
                finally:
                    PyBuffer_Release(&vo)
            finally:
                PyBuffer_Release(&vb)
        finally:
            PyBuffer_Release(&va)
        _hrows_check(rc, "sparsemax")
        return out
    _get_buffer(a, &va, PyBUF_RECORDS_RO)
    try:
        _get_buffer(b if mode != 0 else a, &vb, PyBUF_RECORDS_RO)
        try:
            _get_buffer(out, &vo, PyBUF_RECORDS)
            try:
                with nogil:
                    _spm_run(tb, mode, vo.itemsize == 8, <char *>va.buf, <char *>vb.buf, <char *>vo.buf,
                             nr, L, nthreads, grain)
            finally:
                PyBuffer_Release(&vo)
        finally:
            PyBuffer_Release(&vb)
    finally:
        PyBuffer_Release(&va)
    return out


cdef void _spm_run(const fa_loop_table *tb, int mode, bint dbl, char *pa, char *pb, char *po,
                   Py_ssize_t nr, Py_ssize_t L, int nthreads, Py_ssize_t grain) noexcept nogil:
    """Blocks of up to FA_TABLE_SMC rows, each reduced by one thread in a
    fixed order: threads never change results."""
    cdef Py_ssize_t it
    cdef Py_ssize_t isz = 8 if dbl else 4
    cdef Py_ssize_t rb = FA_TABLE_SMC
    cdef Py_ssize_t nitem = (nr + rb - 1) // rb
    cdef Py_ssize_t nth = _nchunks(nr * L, isz, nthreads, grain)
    if nth > nitem:
        nth = nitem if nitem > 0 else 1
    if nth <= 1:
        for it in range(nitem):
            _spm_item(tb, it, mode, dbl, pa, pb, po, nr, L, rb)
        return
    for it in prange(nitem, schedule='static', num_threads=nth):
        _spm_item(tb, it, mode, dbl, pa, pb, po, nr, L, rb)


cdef inline void _spm_item(const fa_loop_table *tb, Py_ssize_t it, int mode, bint dbl, char *pa, char *pb,
                           char *po, Py_ssize_t nr, Py_ssize_t L, Py_ssize_t rb) noexcept nogil:
    cdef Py_ssize_t w = nr - it * rb
    if w > rb:
        w = rb
    cdef Py_ssize_t off = it * rb * L * (8 if dbl else 4)
    if mode == 0:
        if dbl:
            tb.sparsemax_rows_d(<const double *>(pa + off), <double *>(po + off), w, L)
        else:
            tb.sparsemax_rows_f(<const float *>(pa + off), <float *>(po + off), w, L)
    elif dbl:
        tb.sparsemax_bwd_rows_d(<const double *>(pa + off), <const double *>(pb + off), <double *>(po + off), w, L)
    else:
        tb.sparsemax_bwd_rows_f(<const float *>(pa + off), <const float *>(pb + off), <float *>(po + off), w, L)


cdef struct _SpmHalf:
    const fa_loop_table *tb
    Py_ssize_t L


# float16 / bfloat16: the float32 loops on w staged rows (_hrows_fn); the
# backward's inputs are grad, then x (mode 1: y computed over the x block
# first, in float32) or y (mode 2).
cdef int _spm_half_rows0(const void *ctx, Py_ssize_t r0, Py_ssize_t w, float **fin,
                         float **fout) noexcept nogil:
    cdef const _SpmHalf *c = <const _SpmHalf *>ctx
    c.tb.sparsemax_rows_f(fin[0], fout[0], w, c.L)
    return 0


cdef int _spm_half_rows1(const void *ctx, Py_ssize_t r0, Py_ssize_t w, float **fin,
                         float **fout) noexcept nogil:
    cdef const _SpmHalf *c = <const _SpmHalf *>ctx
    c.tb.sparsemax_rows_f(fin[1], fin[1], w, c.L)
    return _spm_half_rows2(ctx, r0, w, fin, fout)


cdef int _spm_half_rows2(const void *ctx, Py_ssize_t r0, Py_ssize_t w, float **fin,
                         float **fout) noexcept nogil:
    cdef const _SpmHalf *c = <const _SpmHalf *>ctx
    c.tb.sparsemax_bwd_rows_f(fin[0], fin[1], fout[0], w, c.L)
    return 0
