# smlong.pxi: included by src/front/_front.pyx (one module, compiled once).
# float16 / bfloat16 softmax work too large for the staging blocks of
# halfrows.pxi, which stage whole rows and whole outer blocks: column strips
# (below) and long rows.  Each long row goes through the float32 row kernel's steps
# in pieces (_sml_piece floats over a pass's arrays), widened into L1 again
# for every pass -- the max, the sum (resumed from piece to piece by the
# loop table's sm_piece_reduce_f), then the outputs, whose exps are computed
# again.  The same formulas in the same order: the bits of the float32
# kernel on the widened row, without a float32 copy of the row.


# Rows longer than these go in pieces, by how many more exp passes the
# pieces take than a staged row: none (log_softmax forward, the backwards
# from y, log_softmax's from x), one (softmax forward), two (softmax
# backward from x).  Below them a staged row (one float32 copy of the row
# per array, at most 1 MB) stays in L2, where a pass per step costs less
# than the pieces' repeated widening and exps (bench/half.py --long).
cdef Py_ssize_t _sml_min[3]
_sml_min[:] = [131072, 262144, 262144]
# floats per piece, all of a pass's arrays together (as _HR_BLOCK)
cdef Py_ssize_t _sml_piece = 4096


def sml_tune(tuple mins=None, Py_ssize_t piece=0):
    """The row lengths above which half rows go in pieces (by extra exp
    passes: 0, 1, 2) and the piece size; set when given (tests: many pieces
    on short rows).  Returns the previous (mins, piece)."""
    global _sml_piece
    old = ((_sml_min[0], _sml_min[1], _sml_min[2]), _sml_piece)
    if mins is not None:
        _sml_min[0], _sml_min[1], _sml_min[2] = mins
    if piece > 0:
        _sml_piece = piece
    return old


cdef struct _Sml:
    const fa_loop_table *tb
    const _SmMask *mk       # NULL: no mask, scale 1
    int half, mode
    bint log_form
    double scale
    Py_ssize_t L, P         # row length; piece length (a multiple of FA_TABLE_SMP_STEP)
    const char *pa          # x (mode 0), grad (modes 1, 2)
    const char *pb          # x (mode 1), y (mode 2)
    char *po


cdef inline bint _sml_rows(Py_ssize_t L, Py_ssize_t inner, int mode, bint log_form) noexcept nogil:
    """Whether a half softmax of rows of L (inner 1) goes in pieces."""
    cdef int extra = 0 if log_form or mode == 2 else 1 if mode == 0 else 2
    return inner == 1 and L > _sml_min[extra] and L >= FA_TABLE_SMP_MIN


cdef int _sml_run(const fa_loop_table *tb, int half, int mode, const char *pa, const char *pb, char *po,
                  const _SmMask *mk, Py_ssize_t nrow, Py_ssize_t L, bint log_form, double scale, int nthreads,
                  Py_ssize_t grain) noexcept nogil:
    """_sm_half_run for rows that go in pieces (_sml_rows): one contiguous
    run of rows per thread (rows are independent: threads never change a
    result).  _HR_NOMEM when a thread's buffer could not be allocated (its
    rows are not written then), else 0."""
    cdef _Sml c
    cdef Py_ssize_t nth, per, t
    cdef int rc = 0
    c.tb, c.mk, c.half, c.mode, c.log_form, c.scale = tb, mk, half, mode, log_form, scale
    c.L, c.pa, c.pb, c.po = L, pa, pb, po
    c.P = (_sml_piece // (1 if mode == 0 else 2)) // FA_TABLE_SMP_STEP * FA_TABLE_SMP_STEP
    if c.P < 2 * FA_TABLE_SMP_STEP:     # _sml_len's piece before a short rest must keep a step
        c.P = 2 * FA_TABLE_SMP_STEP
    nth = _nchunks(nrow * L, 4, nthreads, grain)
    if nth > nrow:
        nth = nrow
    if nth <= 1:
        return _sml_part(&c, 0, nrow)
    per = (nrow + nth - 1) // nth
    for t in prange(nth, schedule='static', num_threads=nth):
        rc |= _sml_part(&c, t * per, nrow if (t + 1) * per > nrow else (t + 1) * per)
    return rc


cdef int _sml_part(const _Sml *c, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    """Rows [r0, r1) with this thread's own buffers: a piece per array (one
    forward, two backward) and the reductions' state (_hbuf)."""
    cdef Py_ssize_t r, na = 1 if c.mode == 0 else 2
    cdef float *A
    cdef double *st
    cdef void *buf
    if r0 >= r1:
        return 0
    A = _hbuf(na * c.P + 2 * FA_TABLE_SMP_STATE, &buf)
    if A == NULL:
        return _HR_NOMEM
    st = <double *>(A + na * c.P)
    for r in range(r0, r1):
        if c.mode == 0:
            _sml_forward(c, r, A, st)
        else:
            _sml_backward(c, r, A, A + c.P, st)
    PyMem_RawFree(buf)
    return 0


cdef inline Py_ssize_t _sml_len(const _Sml *c, Py_ssize_t off) noexcept nogil:
    """The length of the piece at off: c.P, but every piece before the last
    a multiple of FA_TABLE_SMP_STEP and the last at least that long (the
    one before a short rest gives it a step: the last then has fewer than
    two steps, within c.P >= 2 steps)."""
    cdef Py_ssize_t rest = c.L - off
    if rest <= c.P:
        return rest
    if rest - c.P < FA_TABLE_SMP_STEP:
        return c.P - FA_TABLE_SMP_STEP
    return c.P


cdef inline void _sml_load(const _Sml *c, const char *h, Py_ssize_t r, Py_ssize_t off, Py_ssize_t n, float *f,
                           int prep, double fill) noexcept nogil:
    """Widen elements [off, off + n) of row r of h into f; prep: then as
    the masked / scaled rows' prologue (_smm_rows), masked entries fill."""
    (c.tb.widen_h if c.half == 1 else c.tb.widen_b)(<const uint16_t *>h + r * c.L + off, f, n)
    if prep and c.mk != NULL:
        _sm_prep(c.tb, False, <char *>f, <char *>f, _sml_mask(c, r, off), c.mk.ml, n, c.scale, fill)


cdef inline const unsigned char *_sml_mask(const _Sml *c, Py_ssize_t r, Py_ssize_t off) noexcept nogil:
    cdef const unsigned char *m = _sm_mrow(c.mk, r)
    return m + off * c.mk.ml if m != NULL else NULL


cdef inline void _sml_store(const _Sml *c, const float *f, Py_ssize_t r, Py_ssize_t off, Py_ssize_t n) noexcept nogil:
    (c.tb.narrow_h if c.half == 1 else c.tb.narrow_b)(f, <uint16_t *>c.po + r * c.L + off, n)


cdef inline void _sml_fill(const _Sml *c, Py_ssize_t r, float v) noexcept nogil:
    """Row r of the output all v (rounded to the format)."""
    cdef uint16_t hv
    cdef Py_ssize_t i
    cdef uint16_t *o = <uint16_t *>c.po + r * c.L
    (c.tb.narrow_h if c.half == 1 else c.tb.narrow_b)(&v, &hv, 1)
    for i in range(c.L):
        o[i] = hv


cdef inline float _qnan() noexcept nogil:
    """The loops' quiet NaN (fa_qnan: positive, zero payload) bit for bit,
    which libc's NAN need not be."""
    cdef uint32_t u = 0x7fc00000
    cdef float f
    memcpy(&f, &u, sizeof(f))
    return f


# The statistics of a row's forward: its max m, and v = 1/sum (softmax) or
# log(sum) (log_softmax); for a row of max -inf, ninf is what every output is.
cdef struct _SmlStats:
    float m, v, ninf
    bint neg_inf


cdef void _sml_stats(const _Sml *c, const char *x, Py_ssize_t r, float *A, double *st,
                     _SmlStats *s) noexcept nogil:
    """The forward's reductions over row r of x (prepped as the forward's
    input: masked entries -inf)."""
    cdef Py_ssize_t off, n, i
    cdef bint nan = False
    s.m = _sml_reduce(c, FA_TABLE_SMP_MAX, x, r, A, st, 0.0)
    s.neg_inf = s.m == -INFINITY
    if s.neg_inf:           # fa__softmax_ninf: NaN anywhere makes a NaN row
        off = 0
        while off < c.L and not nan:
            n = _sml_len(c, off)
            _sml_load(c, x, r, off, n, A, 1, -INFINITY)
            for i in range(n):
                if A[i] != A[i]:
                    nan = True
            off += n
        s.ninf = _qnan() if nan else (-INFINITY if c.log_form else 0.0)
        return
    s.v = _sml_reduce(c, FA_TABLE_SMP_LOGSUM if c.log_form else FA_TABLE_SMP_EXPSUM, x, r, A, st, s.m)


cdef float _sml_reduce(const _Sml *c, int op, const char *h, Py_ssize_t r, float *A, double *st,
                       float m) noexcept nogil:
    """op (FA_TABLE_SMP_MAX / EXPSUM / LOGSUM) over row r of h, the forward's
    input, piece by piece."""
    cdef Py_ssize_t off = 0, n
    cdef double v = 0.0
    while off < c.L:
        n = _sml_len(c, off)
        _sml_load(c, h, r, off, n, A, 1, -INFINITY)
        v = c.tb.sm_piece_reduce_f(op, A, NULL, A, n, m, st, off == 0, off + n == c.L)
        off += n
    return <float>v


cdef void _sml_forward(const _Sml *c, Py_ssize_t r, float *A, double *st) noexcept nogil:
    cdef _SmlStats s
    cdef Py_ssize_t off = 0, n
    cdef int nan = 0
    _sml_stats(c, c.pa, r, A, st, &s)
    if s.neg_inf:
        _sml_fill(c, r, s.ninf)
        return
    while off < c.L:        # piece k is read before it is written: in place is safe
        n = _sml_len(c, off)
        _sml_load(c, c.pa, r, off, n, A, 1, -INFINITY)
        nan |= c.tb.sm_piece_out_f(A, A, n, s.m, s.v, c.log_form)
        _sml_store(c, A, r, off, n)
        off += n
    if nan:                 # a NaN log_softmax output makes the whole row NaN
        _sml_fill(c, r, _qnan())


cdef inline int _sml_y(const _Sml *c, const _SmlStats *s, Py_ssize_t r, Py_ssize_t off, Py_ssize_t n,
                       float *Y, bint row_nan) noexcept nogil:
    """Y = the forward's float32 outputs of the piece at off of row r of x
    (mode 1), as _sml_forward computes them; returns whether one is NaN
    (log_softmax: then the whole row is, row_nan)."""
    cdef Py_ssize_t i
    cdef float f
    if s.neg_inf or row_nan:
        f = _qnan() if row_nan else s.ninf
        for i in range(n):
            Y[i] = f
        return 0
    _sml_load(c, c.pb, r, off, n, Y, 1, -INFINITY)
    return c.tb.sm_piece_out_f(Y, Y, n, s.m, s.v, c.log_form)


cdef void _sml_backward(const _Sml *c, Py_ssize_t r, float *G, float *Y, double *st) noexcept nogil:
    """Mode 2: from y (c.pb); mode 1: from x (c.pb), y computed in float32
    piece by piece, twice (for the dot, then for the outputs).  The grad is
    prepped as _smm_rows does (scaled, masked entries 0), and masked outputs
    are 0."""
    cdef _SmlStats s
    cdef Py_ssize_t off = 0, n
    cdef bint row_nan = False
    cdef double d = 0.0
    cdef int op = FA_TABLE_SMP_SUM if c.log_form else FA_TABLE_SMP_DOT
    if c.mode == 1:
        _sml_stats(c, c.pb, r, G, st, &s)
    while off < c.L:        # d: sum(g*y) or sum(g)
        n = _sml_len(c, off)
        _sml_load(c, c.pa, r, off, n, G, 1, 0.0)
        if c.mode == 2:
            if not c.log_form:
                _sml_load(c, c.pb, r, off, n, Y, 0, 0.0)
        elif _sml_y(c, &s, r, off, n, Y, False):
            row_nan = True
        d = c.tb.sm_piece_reduce_f(op, G, Y, G, n, 0.0, st, off == 0, off + n == c.L)
        off += n
    off = 0
    while off < c.L:        # piece k of grad and y is read before out's piece k is written
        n = _sml_len(c, off)
        _sml_load(c, c.pa, r, off, n, G, 1, 0.0)
        if c.mode == 2:
            _sml_load(c, c.pb, r, off, n, Y, 0, 0.0)
        else:
            _sml_y(c, &s, r, off, n, Y, row_nan)
        c.tb.sm_piece_bwd_out_f(G, Y, G, n, <float>d, c.log_form)
        if c.mk != NULL and c.mk.base != NULL:
            _sm_prep(c.tb, False, <char *>G, <char *>G, _sml_mask(c, r, off), c.mk.ml, n, 1.0, 0.0)
        _sml_store(c, G, r, off, n)
        off += n


# ---- column strips ---------------------------------------------------------
# A softmax over a middle axis (inner > 1) whose outer blocks (L x inner)
# are too large to stage whole goes in column strips of one outer block,
# every row of it: FA_TABLE_SMC columns (the float32 loops' own items), or
# fewer for strips of more than 2048 rows, down to _SMS_MINW columns at
# _SMS_MAXL rows (_sms_width, _sms_count), so that a strip holds at most
# _SMS_FLOATS floats per array.  Each thread gathers a strip's rows into its buffer,
# packed (row stride: the strip's width), runs the float32 column kernel on
# it and rounds the strip back.  The column kernels' results do not depend
# on the row stride or on the strip's width: the float32 bits.  Strips of
# more than _SMS_MAXL rows are tall strips (below): FA_TABLE_SMC columns
# gathered in pieces of rows, once per pass of the column kernel's steps.

cdef enum:
    _SMS_FLOATS = 131072    # floats of a strip per array: 512 KB
    _SMS_VEC = 16           # floats of an AVX-512 vector
    _SMS_MINW = 2 * _SMS_VEC    # columns of a strip at least
    _SMS_MAXL = _SMS_FLOATS // _SMS_MINW    # rows of a strip at most (4096)
    _SMS_MIN = 65536        # floats of an outer block beyond which it goes in strips


cdef inline Py_ssize_t _sms_width(Py_ssize_t L) noexcept nogil:
    """Columns of a strip of L rows: FA_TABLE_SMC, or up to _SMS_MAXL rows
    the multiple of _SMS_VEC that keeps it within _SMS_FLOATS (whole
    vectors); a tall strip (more rows) goes in pieces of rows."""
    cdef Py_ssize_t w
    if L > _SMS_MAXL:
        return FA_TABLE_SMC
    w = _SMS_FLOATS // L
    return FA_TABLE_SMC if w >= FA_TABLE_SMC else w // _SMS_VEC * _SMS_VEC


cdef inline Py_ssize_t _sms_count(Py_ssize_t L, Py_ssize_t inner, Py_ssize_t W) noexcept nogil:
    """Strips of W columns over inner columns; a last one narrower than
    _SMS_VEC joins the one before it where the two fit FA_TABLE_SMC and
    _SMS_FLOATS (a strip of a few columns would run the column kernel's
    remainder loop alone); tall strips (in pieces) stay as split, a strip
    per thread where they were narrowed for the threads."""
    cdef Py_ssize_t n = (inner + W - 1) // W, last = inner - (n - 1) * W
    if (n > 1 and L <= _SMS_MAXL and last < _SMS_VEC and W + last <= FA_TABLE_SMC
            and (W + last) * L <= _SMS_FLOATS):
        return n - 1
    return n


cdef inline bint _sms_strips(Py_ssize_t L, Py_ssize_t inner) noexcept nogil:
    """Whether a half softmax over a middle axis goes in column strips."""
    return inner > 1 and L * inner > _SMS_MIN


cdef int _sms_run(const _SmHalf *c, int half, const char *pa, const char *pb, char *po, Py_ssize_t nouter,
                  int nthreads, Py_ssize_t grain) noexcept nogil:
    """_sm_half_run in column strips (_sms_strips): one contiguous run of
    strips per thread (strips are independent: threads never change a
    result).  _HR_NOMEM when a thread's buffer could not be allocated (its
    strips are not written then), else 0."""
    cdef Py_ssize_t W = _sms_width(c.L), nstrip, nitem, nth, per, t, k
    cdef int rc = 0
    nth = _nchunks(nouter * c.L * c.inner, 4, nthreads, grain)
    if c.L > _SMS_MAXL and nouter * ((c.inner + W - 1) // W) < nth:
        # fewer tall strips than threads: narrower ones (whole vectors), a
        # strip per thread (a column's result does not depend on its strip)
        k = (nth + nouter - 1) // nouter
        W = ((c.inner + k - 1) // k + _SMS_VEC - 1) // _SMS_VEC * _SMS_VEC
    nstrip = _sms_count(c.L, c.inner, W)
    nitem = nouter * nstrip
    if nth > nitem:
        nth = nitem
    if nth <= 1:
        return _sms_part(c, half, pa, pb, po, nstrip, W, 0, nitem)
    per = (nitem + nth - 1) // nth
    for t in prange(nth, schedule='static', num_threads=nth):
        rc |= _sms_part(c, half, pa, pb, po, nstrip, W, t * per, nitem if (t + 1) * per > nitem else (t + 1) * per)
    return rc


cdef inline void _sms_place(const _SmHalf *c, Py_ssize_t nstrip, Py_ssize_t W, Py_ssize_t it, Py_ssize_t *ob,
                            Py_ssize_t *c0, Py_ssize_t *w, Py_ssize_t *base) noexcept nogil:
    """Strip it: its outer block, first column, width (the last takes the
    rest) and first element."""
    ob[0] = it // nstrip
    c0[0] = it % nstrip * W
    w[0] = c.inner - c0[0] if it % nstrip == nstrip - 1 else W
    base[0] = ob[0] * c.L * c.inner + c0[0]


cdef int _sms_part(const _SmHalf *c, int half, const char *pa, const char *pb, char *po, Py_ssize_t nstrip,
                   Py_ssize_t W, Py_ssize_t i0, Py_ssize_t i1) noexcept nogil:
    """Strips [i0, i1) with this thread's own buffer: the strip of the first
    input, which takes the output in place, and of the second (y, or x of
    the backward from x, whose y is computed over it in float32)."""
    cdef Py_ssize_t q = _SMS_FLOATS if c.L * FA_TABLE_SMC > _SMS_FLOATS else c.L * FA_TABLE_SMC
    cdef Py_ssize_t it, ob, c0, w, base, ln
    cdef void *buf
    cdef float *A
    cdef float *B
    if i0 >= i1:
        return 0
    if c.L > _SMS_MAXL:
        return _smt_part(c, half, pa, pb, po, nstrip, W, i0, i1)
    A = _hbuf((1 if c.mode == 0 else 2) * q, &buf)
    if A == NULL:
        return _HR_NOMEM
    B = A + q
    for it in range(i0, i1):
        _sms_place(c, nstrip, W, it, &ob, &c0, &w, &base)
        _sms_gather(c, half, pa, base, w, A)
        if c.mode != 0:
            _sms_gather(c, half, pb, base, w, B)
        if c.mode == 1:
            _sms_item(c, 0, ob, c0, w, B, NULL, B)
        _sms_item(c, 0 if c.mode == 0 else 2, ob, c0, w, A, B, A)
        for ln in range(c.L):
            (c.tb.narrow_h if half == 1 else c.tb.narrow_b)(A + ln * w, <uint16_t *>po + base + ln * c.inner, w)
    PyMem_RawFree(buf)
    return 0


cdef inline void _sms_gather(const _SmHalf *c, int half, const char *h, Py_ssize_t base, Py_ssize_t w,
                             float *f) noexcept nogil:
    cdef Py_ssize_t ln
    for ln in range(c.L):
        (c.tb.widen_h if half == 1 else c.tb.widen_b)(<const uint16_t *>h + base + ln * c.inner, f + ln * w, w)


cdef inline void _sms_item(const _SmHalf *c, int mode, Py_ssize_t ob, Py_ssize_t c0, Py_ssize_t w, float *a,
                           float *b, float *o) noexcept nogil:
    """The float32 strip item on a packed strip (row stride w); c0 places
    it in the mask."""
    if c.mk == NULL:
        _softmax_item(c.tb, mode, False, False, <char *>a, <char *>b if mode != 0 else NULL, <char *>o, c.L, w,
                      w, c.log_form, -1)
    else:
        _smm_strip(c.tb, c.mk, mode, False, <char *>a, <char *>b if mode != 0 else NULL, <char *>o, ob, c0, w,
                   c.L, w, c.log_form, c.scale)


# ---- tall column strips ----------------------------------------------------
# A strip of more than _SMS_MAXL rows goes through the float32 column
# kernel's steps in pieces of _smt_rows rows (a multiple of
# FA_TABLE_SMP_STEP), each piece gathered packed into the thread's buffer
# again for every pass: the max, the sum (resumed from piece to piece by
# sm_cols_piece_reduce_f), then the outputs, whose exps are computed again;
# the backward's dot, then its outputs; from x, the forward's two passes
# first and y computed again per piece.  The same formulas in the same
# order: the bits of the column kernel on the widened strip, with buffers of
# a piece.  Fewer tall strips than threads are made narrower (multiples of
# 16 columns), a strip per thread.  A piece of 256 rows of 64 columns (64 KB
# per array) leaves the strip's half data (128 bytes per row) in L2 between
# the passes; pieces of 512 rows measured the same, of 2048 rows up to 1.15x
# slower (bench/half.py --tall).

cdef Py_ssize_t _smt_rows = 256


def smt_tune(Py_ssize_t rows=0):
    """The rows of a tall strip's piece (a multiple of FA_TABLE_SMP_STEP);
    set when given.  Returns the previous value."""
    global _smt_rows
    old = _smt_rows
    if rows > 0:
        if rows % FA_TABLE_SMP_STEP:
            raise ValueError(f"smt_tune: rows must be a multiple of {FA_TABLE_SMP_STEP}")
        _smt_rows = rows
    return old


cdef struct _Smt:
    const _SmHalf *c
    int half
    Py_ssize_t ob, c0, w, base  # the strip (_sms_place)
    Py_ssize_t R                # rows of a piece


cdef int _smt_part(const _SmHalf *c, int half, const char *pa, const char *pb, char *po, Py_ssize_t nstrip,
                   Py_ssize_t W, Py_ssize_t i0, Py_ssize_t i1) noexcept nogil:
    """Tall strips [i0, i1) (W columns, the last the rest) with this
    thread's own buffer: a piece of the first input (it takes the output in
    place) and of the second (backwards), the partials
    (FA_TABLE_SMCP_STATE doubles) and column vectors (the forward's max and
    value; the backward's from x, those of x and the dot)."""
    cdef _Smt t
    cdef Py_ssize_t it, q
    cdef void *buf
    cdef float *A
    cdef float *B
    cdef double *st
    cdef float *cv
    t.c, t.half = c, half
    t.R = _smt_rows if c.L > _smt_rows else c.L     # one piece: the strip
    q = t.R * W
    q = (q + 15) // 16 * 16                         # the next arrays on a 64-byte line
    A = _hbuf((1 if c.mode == 0 else 2) * q + 2 * FA_TABLE_SMCP_STATE + 4 * FA_TABLE_SMC, &buf)
    if A == NULL:
        return _HR_NOMEM
    B = A + q
    st = <double *>(A + (1 if c.mode == 0 else 2) * q)
    cv = <float *>(st + FA_TABLE_SMCP_STATE)
    for it in range(i0, i1):
        _sms_place(c, nstrip, W, it, &t.ob, &t.c0, &t.w, &t.base)
        if c.mode == 0:
            _smt_forward(&t, pa, po, A, st, cv, cv + FA_TABLE_SMC)
        else:
            _smt_backward(&t, pa, pb, po, A, B, st, cv)
    PyMem_RawFree(buf)
    return 0


cdef inline Py_ssize_t _smt_len(const _Smt *t, Py_ssize_t l0) noexcept nogil:
    """Rows of the piece at row l0: t.R, the last the rest."""
    return t.R if t.c.L - l0 > t.R else t.c.L - l0


cdef inline const unsigned char *_smt_mask(const _Smt *t, Py_ssize_t l0) noexcept nogil:
    """The mask byte of the strip's (l0, 0), or NULL (no mask)."""
    cdef const unsigned char *m = _sm_mrow(t.c.mk, t.ob) if t.c.mk != NULL else NULL
    return m + t.c0 * t.c.mk.mi + l0 * t.c.mk.ml if m != NULL else NULL


cdef void _smt_load(const _Smt *t, const char *h, Py_ssize_t l0, Py_ssize_t r, float *f, int prep,
                    double fill) noexcept nogil:
    """Widen rows [l0, l0 + r) of the strip of h into f (row stride t.w);
    prep: then each row as _smm_strip's prologue (scaled, masked entries
    fill)."""
    cdef const _SmHalf *c = t.c
    cdef const unsigned char *m = _smt_mask(t, l0) if prep else NULL
    cdef Py_ssize_t ln
    cdef float *fr
    for ln in range(r):
        fr = f + ln * t.w
        (c.tb.widen_h if t.half == 1 else c.tb.widen_b)(<const uint16_t *>h + t.base + (l0 + ln) * c.inner, fr,
                                                         t.w)
        if prep and c.mk != NULL:
            _sm_prep(c.tb, False, <char *>fr, <char *>fr, m + ln * c.mk.ml if m != NULL else NULL, c.mk.mi,
                     t.w, c.scale, fill)


cdef void _smt_store(const _Smt *t, const float *f, char *po, Py_ssize_t l0, Py_ssize_t r) noexcept nogil:
    cdef Py_ssize_t ln
    for ln in range(r):
        (t.c.tb.narrow_h if t.half == 1 else t.c.tb.narrow_b)(f + ln * t.w,
                                                             <uint16_t *>po + t.base + (l0 + ln) * t.c.inner, t.w)


cdef void _smt_stats(const _Smt *t, const char *x, float *A, double *st, float *m, float *v) noexcept nogil:
    """The forward's column max m and value v (1/sum, or log(sum)) of the
    strip of x, prepped as the forward's input."""
    cdef Py_ssize_t l0, r
    cdef int k, op
    for k in range(2):
        op = FA_TABLE_SMP_MAX if k == 0 else FA_TABLE_SMP_LOGSUM if t.c.log_form else FA_TABLE_SMP_EXPSUM
        l0 = 0
        while l0 < t.c.L:
            r = _smt_len(t, l0)
            _smt_load(t, x, l0, r, A, 1, -INFINITY)
            t.c.tb.sm_cols_piece_reduce_f(op, A, NULL, r, t.w, l0, t.c.L, m, v, st)
            l0 += r


cdef inline void _smt_y(const _Smt *t, const char *x, Py_ssize_t l0, Py_ssize_t r, float *Y, const float *m,
                        const float *v) noexcept nogil:
    """Y = the forward's float32 outputs of rows [l0, l0 + r) of x's strip."""
    _smt_load(t, x, l0, r, Y, 1, -INFINITY)
    t.c.tb.sm_cols_piece_out_f(Y, Y, r, t.w, m, v, t.c.log_form)


cdef void _smt_forward(const _Smt *t, const char *x, char *po, float *A, double *st, float *m,
                       float *v) noexcept nogil:
    cdef Py_ssize_t l0 = 0, r
    _smt_stats(t, x, A, st, m, v)
    while l0 < t.c.L:       # piece k is read before it is written: in place is safe
        r = _smt_len(t, l0)
        _smt_y(t, x, l0, r, A, m, v)
        _smt_store(t, A, po, l0, r)
        l0 += r


cdef void _smt_backward(const _Smt *t, const char *g, const char *s, char *po, float *G, float *Y, double *st,
                        float *cv) noexcept nogil:
    """Mode 2: from y (s); mode 1: from x (s), y computed in float32 piece
    by piece, twice (for the dot, then for the outputs).  The grad is
    prepped as _smm_strip does (scaled, masked entries 0), and masked
    outputs are 0."""
    cdef const _SmHalf *c = t.c
    cdef float *mx = cv
    cdef float *vx = cv + FA_TABLE_SMC
    cdef float *d = cv + 2 * FA_TABLE_SMC
    cdef Py_ssize_t l0, r, ln
    cdef const unsigned char *m
    if c.mode == 1:
        _smt_stats(t, s, G, st, mx, vx)
    l0 = 0
    while l0 < c.L:         # d: sum(g*y) or sum(g)
        r = _smt_len(t, l0)
        _smt_load(t, g, l0, r, G, 1, 0.0)
        if not c.log_form:
            if c.mode == 2:
                _smt_load(t, s, l0, r, Y, 0, 0.0)
            else:
                _smt_y(t, s, l0, r, Y, mx, vx)
        c.tb.sm_cols_piece_reduce_f(FA_TABLE_SMP_SUM if c.log_form else FA_TABLE_SMP_DOT, G, Y, r, t.w, l0, c.L,
                                    NULL, d, st)
        l0 += r
    l0 = 0
    while l0 < c.L:         # piece k of grad and y is read before out's piece k is written
        r = _smt_len(t, l0)
        _smt_load(t, g, l0, r, G, 1, 0.0)
        if c.mode == 2:
            _smt_load(t, s, l0, r, Y, 0, 0.0)
        else:
            _smt_y(t, s, l0, r, Y, mx, vx)
        c.tb.sm_cols_piece_bwd_out_f(G, Y, G, r, t.w, d, c.log_form)
        m = _smt_mask(t, l0)
        if m != NULL:
            for ln in range(r):
                _sm_prep(c.tb, False, <char *>(G + ln * t.w), <char *>(G + ln * t.w), m + ln * c.mk.ml, c.mk.mi,
                         t.w, 1.0, 0.0)
        _smt_store(t, G, po, l0, r)
        l0 += r
