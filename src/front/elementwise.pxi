# elementwise.pxi: included by src/front/_front.pyx (one module, compiled once).
# The element-wise kernels: one contiguous block or strided 1-D run, the
# chunked flat run, the N-d strided walk, and elementwise().


# The storage type of an element-wise call's arrays (`dt`): float32 and
# float64 run their own loops; float16 and bfloat16 (uint16_t bits) run the
# half loops, which compute in float32 blocks (src/loops/half.h).
cdef enum:
    DT_F32 = 0
    DT_F64 = 1
    DT_F16 = 2
    DT_BF16 = 3


cdef inline Py_ssize_t _dt_size(int dt) noexcept nogil:
    return 4 if dt == DT_F32 else 8 if dt == DT_F64 else 2


cdef inline int _block(const fa_loop_table *tb, int k, int mode, int dt, char *a, char *b, char *o,
                       Py_ssize_t n, const double *p) noexcept nogil:
    if dt == DT_F32:
        if mode == 0:
            return tb.fwd_block_f(k, <const float *>a, <float *>o, n, p)
        return tb.bwd_block_f(k, mode == 2, <const float *>a, <const float *>b, <float *>o, n, p)
    if dt == DT_F64:
        if mode == 0:
            return tb.fwd_block_d(k, <const double *>a, <double *>o, n, p)
        return tb.bwd_block_d(k, mode == 2, <const double *>a, <const double *>b, <double *>o, n, p)
    if dt == DT_F16:
        if mode == 0:
            return tb.fwd_block_h(k, <const uint16_t *>a, <uint16_t *>o, n, p)
        return tb.bwd_block_h(k, mode == 2, <const uint16_t *>a, <const uint16_t *>b, <uint16_t *>o, n, p)
    if mode == 0:
        return tb.fwd_block_b(k, <const uint16_t *>a, <uint16_t *>o, n, p)
    return tb.bwd_block_b(k, mode == 2, <const uint16_t *>a, <const uint16_t *>b, <uint16_t *>o, n, p)


cdef inline int _strided(const fa_loop_table *tb, int k, int mode, int dt, char *a, Py_ssize_t sa, char *b, Py_ssize_t sb,
                         char *o, Py_ssize_t so, Py_ssize_t n, const double *p) noexcept nogil:
    if dt == DT_F32:
        if mode == 0:
            return tb.fwd_strided_f(k, a, sa, o, so, n, p)
        return tb.bwd_strided_f(k, mode == 2, a, sa, b, sb, o, so, n, p)
    if dt == DT_F64:
        if mode == 0:
            return tb.fwd_strided_d(k, a, sa, o, so, n, p)
        return tb.bwd_strided_d(k, mode == 2, a, sa, b, sb, o, so, n, p)
    if dt == DT_F16:
        if mode == 0:
            return tb.fwd_strided_h(k, a, sa, o, so, n, p)
        return tb.bwd_strided_h(k, mode == 2, a, sa, b, sb, o, so, n, p)
    if mode == 0:
        return tb.fwd_strided_b(k, a, sa, o, so, n, p)
    return tb.bwd_strided_b(k, mode == 2, a, sa, b, sb, o, so, n, p)


# Out-of-place forward results of at least this many bytes are written with
# non-temporal stores (fwd_block_nt): larger than the last-level cache, they
# would only evict it, and skipping the read of their lines before the write
# saves a third of the memory traffic.  0: never.  Set by fastact._dispatch
# from the cache size (set_stream_min).
cdef Py_ssize_t _stream_min = 0


def set_stream_min(Py_ssize_t nbytes):
    """Out-of-place element-wise forwards of >= nbytes of float32/float64
    output use non-temporal stores (0: never); returns the previous value."""
    global _stream_min
    old = _stream_min
    _stream_min = nbytes if nbytes > 0 else 0
    return old


cdef inline int _block_out(const fa_loop_table *tb, bint nt, int k, int mode, int dt, char *a, char *b, char *o,
                           Py_ssize_t n, const double *p) noexcept nogil:
    """_block, or the streaming forward when nt (mode 0, float32/64, out of place)."""
    if nt:
        if dt == DT_F32:
            return tb.fwd_block_nt_f(k, <const float *>a, <float *>o, n, p)
        return tb.fwd_block_nt_d(k, <const double *>a, <double *>o, n, p)
    return _block(tb, k, mode, dt, a, b, o, n, p)


cdef int _run_flat(const fa_loop_table *tb, int k, int mode, int dt, char *a, char *b, char *o, Py_ssize_t n,
                   const double *p, int nthreads, Py_ssize_t grain, bint stream=False) noexcept nogil:
    # stream: o is the caller's own array (out=), whose pages exist; a new
    # array's first-touched pages are zeroed by the kernel through the cache,
    # so streaming into them would write each line twice
    cdef Py_ssize_t isz = _dt_size(dt)
    cdef bint nt = (stream and mode == 0 and a != o and (dt == DT_F32 or dt == DT_F64)
                    and _stream_min > 0 and n * isz >= _stream_min)
    # a half element costs a float32 one (it is computed as one): split by float32 bytes
    cdef Py_ssize_t nch = _nchunks(n, 8 if dt == DT_F64 else 4, nthreads, grain)
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
        return _block_out(tb, nt, k, mode, dt, a, b, o, n, p)
    t_region = omp_get_wtime()
    tt[0] = tt[1] = t_region
    for c in prange(nch, nogil=True, schedule='static', num_threads=nthreads):
        if c == nch - 1:
            tt[1] = omp_get_wtime()
        start = c * chunk
        m = n - start
        if m > chunk:
            m = chunk
        rc |= _block_out(tb, nt, k, mode, dt, a + start * isz, b + start * isz if b != NULL else NULL,
                         o + start * isz, m, p)
        if c == 0:
            tt[0] = omp_get_wtime()
    if _guard:
        _note_start(t_region, tt[0], tt[1])
    return rc


cdef struct _Nd:
    # an N-d element-wise call with its axes merged where they walk memory
    # as one (_nd_plan): nd axes of shape[i], byte strides sa/sb/so[i]; the
    # run axis `inner`, L elements; runs: the product of the other axes,
    # numbered with the last of them fastest
    int nd, inner
    bint contig             # every array's run is contiguous: the block loop
    bint tile               # runs in tiles (_nd_part)
    Py_ssize_t L, runs
    Py_ssize_t shape[MAXDIM]
    Py_ssize_t sa[MAXDIM]
    Py_ssize_t sb[MAXDIM]
    Py_ssize_t so[MAXDIM]
    char *a
    char *b
    char *o


cdef enum:
    _ND_TILE = 16           # runs of a tile: a cache line of float32 across them
    _ND_PIECE = 256         # elements of each run per piece of a tile


cdef inline void _nd_drop(_Nd *w, int j) noexcept nogil:
    """Axis j out of w's axes (the run axis keeps its place)."""
    cdef int i
    for i in range(j, w.nd - 1):
        w.shape[i], w.sa[i], w.sb[i], w.so[i] = w.shape[i + 1], w.sa[i + 1], w.sb[i + 1], w.so[i + 1]
    w.nd -= 1
    if j < w.inner:
        w.inner -= 1


cdef inline Py_ssize_t _nd_abs(Py_ssize_t s) noexcept nogil:
    return s if s >= 0 else -s


cdef void _nd_plan(_Nd *w, Py_buffer *va, Py_buffer *vb, Py_buffer *vo) noexcept nogil:
    """The walk of _run_nd: axes of length 1 dropped; the run axis the one
    where `out` has the smallest stride (its fastest-moving memory), so the
    walk follows memory order; an axis merged into the run axis while, for
    every array, stepping it once equals stepping the run L times (so runs
    grow past a row: a C-ordered block of rows is one run).  When an array
    is contiguous along another axis than the run's (a transposed input into
    a C-ordered output), that axis becomes the fastest of the runs and the
    runs go in tiles (w.tile)."""
    cdef int i, j, m = 0
    cdef Py_ssize_t best = -1, s, isz = vo.itemsize
    cdef Py_ssize_t sh, a_, b_, o_
    w.a, w.b, w.o = <char *>va.buf, <char *>vb.buf if vb != NULL else NULL, <char *>vo.buf
    for i in range(vo.ndim):
        if vo.shape[i] != 1:
            w.shape[m] = vo.shape[i]
            w.sa[m] = va.strides[i]
            w.sb[m] = vb.strides[i] if vb != NULL else 0
            w.so[m] = vo.strides[i]
            m += 1
    w.nd = m
    w.tile = False
    if m == 0:                  # one element
        w.nd, w.inner, w.L, w.runs, w.contig = 1, 0, 1, 1, True
        w.shape[0], w.sa[0], w.sb[0], w.so[0] = 1, isz, isz, isz
        return
    w.inner = m - 1
    for i in range(m):
        s = _nd_abs(w.so[i])
        if best < 0 or s < best:
            best = s
            w.inner = i
    # merge: axis j joins the run when its strides are the run's times L
    j = 0
    while j < w.nd:
        if (j != w.inner and w.sa[j] == w.sa[w.inner] * w.shape[w.inner]
                and w.sb[j] == w.sb[w.inner] * w.shape[w.inner]
                and w.so[j] == w.so[w.inner] * w.shape[w.inner]):
            w.shape[w.inner] *= w.shape[j]
            _nd_drop(w, j)
            j = 0               # the run grew: every axis may join it now
        else:
            j += 1
    w.L = w.shape[w.inner]
    w.runs = 1
    for i in range(w.nd):
        if i != w.inner:
            w.runs *= w.shape[i]
    if w.sa[w.inner] < 0 and w.so[w.inner] < 0 and (vb == NULL or w.sb[w.inner] < 0):
        # every array reversed along the run: walk it forward (an element's
        # result depends on its own inputs only), a reversed view's runs
        # then contiguous
        w.a += (w.L - 1) * w.sa[w.inner]
        w.o += (w.L - 1) * w.so[w.inner]
        if vb != NULL:
            w.b += (w.L - 1) * w.sb[w.inner]
        w.sa[w.inner], w.sb[w.inner], w.so[w.inner] = -w.sa[w.inner], -w.sb[w.inner], -w.so[w.inner]
    w.contig = (w.sa[w.inner] == isz and w.so[w.inner] == isz
                and (vb == NULL or w.sb[w.inner] == isz))
    if w.contig:
        return
    for j in range(w.nd):
        if j != w.inner and (_nd_abs(w.sa[j]) == isz or _nd_abs(w.so[j]) == isz
                             or (vb != NULL and _nd_abs(w.sb[j]) == isz)):
            sh, a_, b_, o_ = w.shape[j], w.sa[j], w.sb[j], w.so[j]
            _nd_drop(w, j)      # moved last: the fastest of the runs
            w.shape[w.nd], w.sa[w.nd], w.sb[w.nd], w.so[w.nd] = sh, a_, b_, o_
            w.nd += 1
            w.tile = True
            return


cdef inline void _nd_ptrs(const _Nd *w, const Py_ssize_t *idx, char **pa, char **pb, char **po) noexcept nogil:
    """The start of the run at the odometer position idx."""
    cdef int i
    pa[0], pb[0], po[0] = w.a, w.b, w.o
    for i in range(w.nd):
        if i != w.inner:
            pa[0] += idx[i] * w.sa[i]
            if pb[0] != NULL:
                pb[0] += idx[i] * w.sb[i]
            po[0] += idx[i] * w.so[i]


cdef inline void _nd_index(const _Nd *w, Py_ssize_t r, Py_ssize_t *idx) noexcept nogil:
    """The odometer position of run r."""
    cdef int i = w.nd - 1
    while i >= 0:
        idx[i] = 0
        if i != w.inner:
            idx[i] = r % w.shape[i]
            r //= w.shape[i]
        i -= 1


cdef inline void _nd_next(const _Nd *w, Py_ssize_t *idx) noexcept nogil:
    """The odometer one run on (the last outer axis fastest)."""
    cdef int i = w.nd - 1
    while i >= 0:
        if i != w.inner:
            idx[i] += 1
            if idx[i] < w.shape[i]:
                return
            idx[i] = 0
        i -= 1


cdef int _nd_part(const fa_loop_table *tb, int k, int mode, int dt, const _Nd *w, const double *p,
                  Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    """Runs [r0, r1) of the walk.  In tiles (w.tile): _ND_TILE runs at a
    time, _ND_PIECE elements of each in turn, so the cache lines that an
    array contiguous across the runs brings in are used by all the runs of
    the tile while they are in L1 (run by run, each would be read again
    from farther away once per run)."""
    cdef Py_ssize_t idx[MAXDIM]
    cdef char *pa[_ND_TILE]
    cdef char *pb[_ND_TILE]
    cdef char *po[_ND_TILE]
    cdef Py_ssize_t r, c, m, ia = w.sa[w.inner], ib = w.sb[w.inner], io = w.so[w.inner]
    cdef int j, nb, rc = 0
    _nd_index(w, r0, idx)
    r = r0
    while r < r1:
        nb = _ND_TILE if w.tile and r1 - r >= _ND_TILE else (<int>(r1 - r) if w.tile else 1)
        for j in range(nb):
            _nd_ptrs(w, idx, &pa[j], &pb[j], &po[j])
            _nd_next(w, idx)
        if w.contig:
            rc |= _block(tb, k, mode, dt, pa[0], pb[0], po[0], w.L, p)
        elif nb == 1:
            rc |= _strided(tb, k, mode, dt, pa[0], ia, pb[0], ib, po[0], io, w.L, p)
        else:
            c = 0
            while c < w.L:
                m = w.L - c if w.L - c < _ND_PIECE else _ND_PIECE
                for j in range(nb):
                    rc |= _strided(tb, k, mode, dt, pa[j] + c * ia, ia, pb[j] + c * ib if pb[j] != NULL else NULL,
                                   ib, po[j] + c * io, io, m, p)
                c += m
        r += nb
    return rc


cdef int _nd_piece(const fa_loop_table *tb, int k, int mode, int dt, const _Nd *w, const double *p, Py_ssize_t r,
                   Py_ssize_t e0, Py_ssize_t e1) noexcept nogil:
    """Elements [e0, e1) of run r of the walk."""
    cdef Py_ssize_t idx[MAXDIM]
    cdef char *pa
    cdef char *pb
    cdef char *po
    if e0 >= e1:
        return 0
    _nd_index(w, r, idx)
    _nd_ptrs(w, idx, &pa, &pb, &po)
    pa += e0 * w.sa[w.inner]
    if pb != NULL:
        pb += e0 * w.sb[w.inner]
    po += e0 * w.so[w.inner]
    if w.contig:
        return _block(tb, k, mode, dt, pa, pb, po, e1 - e0, p)
    return _strided(tb, k, mode, dt, pa, w.sa[w.inner], pb, w.sb[w.inner], po, w.so[w.inner], e1 - e0, p)


cdef int _run_nd(const fa_loop_table *tb, int k, int mode, int dt, Py_buffer *va, Py_buffer *vb, Py_buffer *vo,
                 const double *p, int nthreads, Py_ssize_t grain) noexcept nogil:
    # Any shape and strides: runs along one axis (_nd_plan), contiguous ones
    # through the block loops, others through the strided loops (gathered
    # into a buffer, computed, scattered back); runs split over the threads
    # as _run_flat splits elements, or, fewer runs than threads (a 1-D
    # strided view), each run in pieces (an element is computed alone: the
    # same bits whatever the split).
    cdef _Nd w
    cdef Py_ssize_t nch, per, t, P, m
    cdef int i, rc = 0
    for i in range(vo.ndim):
        if vo.shape[i] == 0:
            return 0
    _nd_plan(&w, va, vb, vo)
    nch = _nchunks(w.runs * w.L, 8 if dt == DT_F64 else 4, nthreads, grain)
    if nch <= 1:
        return _nd_part(tb, k, mode, dt, &w, p, 0, w.runs)
    if w.runs < nch:
        P = (nch + w.runs - 1) // w.runs            # pieces per run
        m = ((w.L + P - 1) // P + CHUNK_ALIGN - 1) // CHUNK_ALIGN * CHUNK_ALIGN
        for t in prange(w.runs * P, schedule='static', num_threads=nch):
            rc |= _nd_piece(tb, k, mode, dt, &w, p, t // P, t % P * m,
                            w.L if (t % P + 1) * m > w.L else (t % P + 1) * m)
        return rc
    per = (w.runs + nch - 1) // nch
    for t in prange(nch, schedule='static', num_threads=nch):
        rc |= _nd_part(tb, k, mode, dt, &w, p, t * per, w.runs if (t + 1) * per > w.runs else (t + 1) * per)
    return rc


def elementwise(int k, int mode, a, b, out, double p0, double p1, double p2, double p3,
                int nthreads, Py_ssize_t grain, int half=0, bint stream=False):
    """mode 0: out = f(a); 1: out = a * f'(b) with b = x; 2: the same with b = y.
    a, b, out: NumPy arrays of one float dtype and shape, checked by the caller;
    half=1 (float16) or 2 (bfloat16): uint16 views of arrays of that format;
    stream: out is the caller's own array (see _run_flat)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vo
    cdef Py_buffer *pvb = NULL
    cdef double p[4]
    p[0] = p0; p[1] = p1; p[2] = p2; p[3] = p3
    cdef int rc = 0
    cdef bint flat
    cdef int dt
    cdef Py_ssize_t n
    _get_buffer(a, &va, PyBUF_RECORDS_RO)
    try:
        if mode != 0:
            _get_buffer(b, &vb, PyBUF_RECORDS_RO)
            pvb = &vb
        try:
            _get_buffer(out, &vo, PyBUF_RECORDS)
            try:
                if half:
                    if not (va.itemsize == vo.itemsize == 2 and (pvb == NULL or vb.itemsize == 2)):
                        raise ValueError("fastact internal error: half=%d on arrays of %d bytes"
                                         % (half, vo.itemsize))
                    dt = DT_F16 if half == 1 else DT_BF16
                else:
                    dt = DT_F64 if vo.itemsize == 8 else DT_F32
                n = vo.len // vo.itemsize
                flat = ((PyBuffer_IsContiguous(&va, b'C') and PyBuffer_IsContiguous(&vo, b'C')
                         and (pvb == NULL or PyBuffer_IsContiguous(pvb, b'C')))
                        or (PyBuffer_IsContiguous(&va, b'F') and PyBuffer_IsContiguous(&vo, b'F')
                            and (pvb == NULL or PyBuffer_IsContiguous(pvb, b'F'))))
                with nogil:
                    if flat:
                        rc = _run_flat(tb, k, mode, dt, <char *>va.buf,
                                       <char *>vb.buf if pvb != NULL else NULL,
                                       <char *>vo.buf, n, p, nthreads, grain, stream)
                    else:
                        rc = _run_nd(tb, k, mode, dt, &va, pvb, &vo, p, nthreads, grain)
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


cdef enum:
    _HC_GRAIN = 1 << 17     # float32 elements per thread at least (a copy-like pass: GRAIN["cheap"])


cdef void _half_convert_part(const fa_loop_table *tb, int half, bint widen, char *s, char *d, Py_ssize_t i0,
                             Py_ssize_t i1) noexcept nogil:
    """half_convert's elements [i0, i1)."""
    if i0 >= i1:
        return
    if widen:
        (tb.widen_h if half == 1 else tb.widen_b)(<const uint16_t *>s + i0, <float *>d + i0, i1 - i0)
    else:
        (tb.narrow_h if half == 1 else tb.narrow_b)(<const float *>s + i0, <uint16_t *>d + i0, i1 - i0)


def half_convert(int half, src, dst, int nthreads=1):
    """dst = src through the active table's conversions: half=1 float16, 2
    bfloat16; a uint16 src widens into a float32 dst, a float32 src rounds
    into a uint16 dst.  C-contiguous, equal sizes.  Split over up to
    nthreads threads in chunks of whole cache lines of both (elements
    convert alone: the same bits whatever the split)."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer vs, vd
    cdef Py_ssize_t n, per, t, nth
    _get_buffer(src, &vs, PyBUF_RECORDS_RO)
    try:
        _get_buffer(dst, &vd, PyBUF_RECORDS)
        try:
            if not (PyBuffer_IsContiguous(&vs, b'C') and PyBuffer_IsContiguous(&vd, b'C')
                    and vs.len // vs.itemsize == vd.len // vd.itemsize
                    and {vs.itemsize, vd.itemsize} == {2, 4} and half in (1, 2)):
                raise ValueError("half_convert: C-contiguous uint16 and float32 arrays of one size")
            n = vs.len // vs.itemsize
            with nogil:
                nth = _nchunks(n, 4, nthreads, _HC_GRAIN)
                if nth <= 1:
                    _half_convert_part(tb, half, vs.itemsize == 2, <char *>vs.buf, <char *>vd.buf, 0, n)
                else:
                    per = ((n + nth - 1) // nth + 31) // 32 * 32
                    for t in prange(nth, schedule='static', num_threads=nth):
                        _half_convert_part(tb, half, vs.itemsize == 2, <char *>vs.buf, <char *>vd.buf, t * per,
                                           n if (t + 1) * per > n else (t + 1) * per)
        finally:
            PyBuffer_Release(&vd)
    finally:
        PyBuffer_Release(&vs)
    return dst
