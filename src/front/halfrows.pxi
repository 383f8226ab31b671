# halfrows.pxi: included by src/front/_front.pyx (one module, compiled once).
# float16 / bfloat16 data of the row families (softmax, gated, bias_act,
# prelu) run through their float32 loops in blocks of rows small enough to
# stay in L1: each thread widens a block of every input into its own float32
# buffer, runs the family's float32 loop on it, and rounds the block of every
# output back.  No temporary is larger than a block (one row at least), and
# the conversions read and write L1 rather than a full-size copy.


# A family's float32 work on rows [r0, r0 + w): fin/fout point at the
# block's widened inputs and its float32 outputs, row r0 first.  Nonzero: a
# loop refused (an unknown kernel id).
ctypedef int (*_hrows_fn)(const void *ctx, Py_ssize_t r0, Py_ssize_t w, float **fin,
                          float **fout) noexcept nogil


cdef enum:
    _HR_MAXIN = 3
    _HR_MAXOUT = 2
    # float32 elements per staged block, all its arrays together (16 KB):
    # blocks of twice or four times that measured slower on Zen 4's 32 KB
    # L1d, and rows per block only divide the per-call costs
    _HR_BLOCK = 4096
    _HR_ALIGN = 16          # floats: every buffer starts on a 64-byte line
    _HR_NOMEM = 1
    _HR_REFUSED = 2


cdef struct _HRows:
    int code                        # 1 float16, 2 bfloat16
    int nin, nout
    const char *hin[_HR_MAXIN]      # the half data, row 0
    char *hout[_HR_MAXOUT]
    Py_ssize_t qin[_HR_MAXIN]       # elements per row of each array
    Py_ssize_t qout[_HR_MAXOUT]
    Py_ssize_t nrow, rb             # rows; rows per block
    Py_ssize_t chunk                # 0, or rows per chunk: no block crosses a chunk's end, and one
                                    # thread takes every block of a chunk (ordered sums per chunk)
    _hrows_fn fn
    const void *ctx


cdef int _hrows_run(const fa_loop_table *tb, _HRows *h, int nthreads, Py_ssize_t grain) noexcept nogil:
    """All rows of h, in blocks of h.rb rows, the blocks split into one
    contiguous run per thread (rows are independent: threads never change a
    result; with h.chunk, one thread takes a chunk's blocks in row order).  Returns _HR_NOMEM when a buffer could not be allocated (none
    of that thread's rows is written then), _HR_REFUSED when a loop refused,
    else 0."""
    cdef Py_ssize_t q = 1, tot = 0, nblk, per, t, nth
    cdef int k, rc = 0
    for k in range(h.nin):
        tot += h.qin[k]
        if h.qin[k] > q:
            q = h.qin[k]
    for k in range(h.nout):
        tot += h.qout[k]
        if h.qout[k] > q:
            q = h.qout[k]
    h.rb = _HR_BLOCK // tot if tot > 0 else 1
    if h.rb < 1:
        h.rb = 1
    if h.chunk and h.rb > h.chunk:
        h.rb = h.chunk
    nblk = _hrows_nblk(h)
    nth = _nchunks(h.nrow * q, 4, nthreads, grain)
    if nth > nblk:
        nth = nblk
    if nth <= 1:            # no OpenMP region (an if(0) one costs ~0.4 us)
        return _hrows_part(tb, h, 0, nblk)
    per = (nblk + nth - 1) // nth
    if h.chunk:             # whole chunks per thread
        per = (per + _hrows_bpc(h) - 1) // _hrows_bpc(h) * _hrows_bpc(h)
    for t in prange(nth, schedule='static', num_threads=nth):
        rc |= _hrows_part(tb, h, t * per, nblk if (t + 1) * per > nblk else (t + 1) * per)
    return rc


cdef inline float *_hbuf(size_t nfloat, void **raw) noexcept nogil:
    """A thread's staging buffer of nfloat floats on a 64-byte line; *raw
    is what PyMem_RawFree takes (NULL: out of memory, and so is the result).
    PyMem_RawMalloc: thread-safe without the GIL, and seen by tracemalloc."""
    raw[0] = PyMem_RawMalloc(nfloat * sizeof(float) + 64)
    if raw[0] == NULL:
        return NULL
    return <float *>((<size_t>raw[0] + 63) & ~(<size_t>63))


cdef int _hrows_part(const fa_loop_table *tb, const _HRows *h, Py_ssize_t b0, Py_ssize_t b1) noexcept nogil:
    """Blocks [b0, b1) of _hrows_run with this thread's own buffer.  Every
    input block is widened before the block's outputs are written, so an
    output may be an input (in place)."""
    cdef float *fin[_HR_MAXIN]
    cdef float *fout[_HR_MAXOUT]
    cdef Py_ssize_t total = 0, r0, w, b
    cdef int k, rc = 0
    cdef void *buf
    cdef float *p
    if b0 >= b1:
        return 0
    for k in range(h.nin):
        total += (h.rb * h.qin[k] + _HR_ALIGN - 1) // _HR_ALIGN * _HR_ALIGN
    for k in range(h.nout):
        total += (h.rb * h.qout[k] + _HR_ALIGN - 1) // _HR_ALIGN * _HR_ALIGN
    p = _hbuf(total, &buf)
    if p == NULL:
        return _HR_NOMEM
    for k in range(h.nin):
        fin[k] = p
        p += (h.rb * h.qin[k] + _HR_ALIGN - 1) // _HR_ALIGN * _HR_ALIGN
    for k in range(h.nout):
        fout[k] = p
        p += (h.rb * h.qout[k] + _HR_ALIGN - 1) // _HR_ALIGN * _HR_ALIGN
    for b in range(b0, b1):
        r0 = _hrows_block(h, b, &w)
        if w <= 0:
            continue
        for k in range(h.nin):
            (tb.widen_h if h.code == 1 else tb.widen_b)(
                <const uint16_t *>(h.hin[k] + 2 * r0 * h.qin[k]), fin[k], w * h.qin[k])
        if h.fn(h.ctx, r0, w, fin, fout):
            rc = _HR_REFUSED
            break
        for k in range(h.nout):
            (tb.narrow_h if h.code == 1 else tb.narrow_b)(
                fout[k], <uint16_t *>(h.hout[k] + 2 * r0 * h.qout[k]), w * h.qout[k])
    PyMem_RawFree(buf)
    return rc


cdef inline Py_ssize_t _hrows_bpc(const _HRows *h) noexcept nogil:
    """Blocks per chunk (h.chunk set)."""
    return (h.chunk + h.rb - 1) // h.rb


cdef inline Py_ssize_t _hrows_nblk(const _HRows *h) noexcept nogil:
    """Blocks of h: with chunks, _hrows_bpc per chunk (the last chunk's
    extra ones empty)."""
    if h.chunk:
        return (h.nrow + h.chunk - 1) // h.chunk * _hrows_bpc(h)
    return (h.nrow + h.rb - 1) // h.rb


cdef inline Py_ssize_t _hrows_block(const _HRows *h, Py_ssize_t b, Py_ssize_t *w) noexcept nogil:
    """Block b's first row; *w its rows (<= 0: an empty block)."""
    cdef Py_ssize_t r0, end = h.nrow
    if h.chunk:
        r0 = b // _hrows_bpc(h) * h.chunk
        if r0 + h.chunk < end:
            end = r0 + h.chunk
        r0 += b % _hrows_bpc(h) * h.rb
    else:
        r0 = b * h.rb
    w[0] = end - r0 if end - r0 < h.rb else h.rb
    return r0


cdef inline void _hrows_set(_HRows *h, int code, Py_ssize_t nrow, _hrows_fn fn, const void *ctx) noexcept nogil:
    h.code = code
    h.chunk = 0
    h.nin = 0
    h.nout = 0
    h.nrow = nrow
    h.fn = fn
    h.ctx = ctx


cdef inline void _hrows_in(_HRows *h, const char *data, Py_ssize_t q) noexcept nogil:
    h.hin[h.nin] = data
    h.qin[h.nin] = q
    h.nin += 1


cdef inline void _hrows_out(_HRows *h, char *data, Py_ssize_t q) noexcept nogil:
    h.hout[h.nout] = data
    h.qout[h.nout] = q
    h.nout += 1


cdef inline object _hrows_check(int rc, str fname):
    """Raise for a nonzero _hrows_run result."""
    if rc & _HR_NOMEM:
        raise MemoryError(f"{fname}: no memory for a float32 staging block")
    if rc:
        raise RuntimeError(f"fastact internal error: {fname} kernel refused")
