# fastpath.pxi: included by src/front/_front.pyx (one module, compiled once).
# The common call (`relu_(x)` on an aligned native float32/float64 array,
# a plain ndarray also float16 or bfloat16 (element-wise, softmax, gated),
# that is C- or F-contiguous, no out=, no n_threads=) decided and run
# entirely here, so small arrays are not dominated by Python overhead.  Any
# other case returns None and the caller takes the general path, which does
# all checking and produces the error messages.


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


cdef inline bint _fast_ok(Py_buffer *v, bint half=False) noexcept:
    """A native float32/float64 (half: also float16) buffer, aligned and
    contiguous.  Only the element-wise paths take float16 (its half loops);
    bfloat16 exports no buffer format, so only exact ndarrays (fa_nd_flat)
    bring it to a fast path."""
    cdef const char *f = v.format
    if v.itemsize == 2:
        if not (half and f[0] == b'e' and f[1] == 0):
            return False
    elif v.itemsize == 4:
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


cdef inline bint _bytes_apart(char *a, Py_ssize_t na, char *b, Py_ssize_t nb) noexcept:
    """The byte ranges [a, a + na) and [b, b + nb) have no common byte."""
    return a + na <= b or b + nb <= a


cdef const float *_fast_half_param(const fa_loop_table *tb, p, Py_ssize_t C, int dt, char *po, Py_ssize_t n,
                                   bint finite, float **wide):
    """A per-channel parameter of a half fast path (the bias, the slopes): a
    1-D plain ndarray of C float32 or of the data's format dt (widened
    exactly into *wide, the caller's to PyMem_RawFree), apart from the output
    (po, n elements, none for a new output: a parameter inside it goes
    general, copied there), and, if finite, no NaN or inf (the general path
    names them).  Its float32
    values, or NULL for the general path."""
    cdef char *pp
    cdef Py_ssize_t npar, isz, j
    cdef int pdt
    cdef const float *f
    wide[0] = NULL
    if not (fa_nd_flat(p, 0, 1, &pp, &npar, &isz, &pdt) and fa_nd_ndim(p) == 1 and npar == C
            and (pdt == dt or pdt == DT_F32) and (n == 0 or _bytes_apart(pp, npar * isz, po, n * 2))):
        return NULL
    f = <const float *>pp
    if pdt != DT_F32:
        wide[0] = <float *>PyMem_RawMalloc(C * sizeof(float))
        if wide[0] == NULL:
            return NULL
        (tb.widen_h if dt == DT_F16 else tb.widen_b)(<const uint16_t *>pp, wide[0], C)
        f = wide[0]
    if finite:
        for j in range(C):
            if not fabs(f[j]) <= FLT_MAX:
                PyMem_RawFree(wide[0])
                wide[0] = NULL
                return NULL
    return f


cdef object _fast_half_operands(const fa_loop_table *tb, x, out, char *px, Py_ssize_t n, int dt, empty_like, p,
                                Py_ssize_t C, bint finite, char **po, const float **par, float **wide):
    """The output and the per-channel parameter (the bias, the slopes) of a
    half fast path on the C-contiguous float16 / bfloat16 plain ndarray x
    (px, n elements, dt).  out: None (a new array, made only once the
    parameter passes), x itself, or an array of x's layout apart from it
    (its data at *po).  The parameter: _fast_half_param (its float32 values
    at *par; *wide the caller's to PyMem_RawFree).  The output, or None for
    the general path (nothing allocated)."""
    cdef Py_ssize_t no, isz
    cdef int dto
    po[0] = NULL
    wide[0] = NULL
    if out is not None and not (fa_nd_flat(out, 1, 1, po, &no, &isz, &dto) and dto == dt
                                and fa_nd_same_layout(x, out)
                                and (po[0] == px or _bytes_apart(po[0], n * 2, px, n * 2))):
        return None
    par[0] = _fast_half_param(tb, p, C, dt, po[0], n if out is not None else 0, finite, wide)
    if par[0] == NULL:
        return None
    if out is None:
        try:
            out = empty_like(x)
        except BaseException:
            PyMem_RawFree(wide[0])
            wide[0] = NULL
            raise
        po[0] = <char *>fa_nd_data(out)
    return out


cdef inline bint _apart(Py_buffer *a, Py_buffer *b) noexcept:
    """No common byte (an operand that is read whole while b is written)."""
    return _bytes_apart(<char *>a.buf, a.len, <char *>b.buf, b.len)


cdef inline bint _axis_of(object axis, long *ax) noexcept:
    """A plain int axis that fits a C long, into *ax (range checked by the caller)."""
    cdef int overflow = 0
    if not PyLong_CheckExact(axis):
        return False
    ax[0] = PyLong_AsLongAndOverflow(axis, &overflow)
    return not overflow


# Below this many elements a fast path runs its one block holding the GIL:
# releasing and retaking it, and reading the thread policy, cost more than
# such a block (~1 us at the dearest kernel; NumPy's ufuncs hold the GIL below 500).
cdef enum:
    FAST_HOLD_N = 1024


cdef int _run_fast(const fa_loop_table *tb, Spec spec, int mode, int dt, char *a, char *b, char *o,
                   Py_ssize_t n, int t, bint stream=False) except -1:
    """_run_flat for a fast path (t from _fast_threads, >= 0; stream: o is the
    caller's out=); its return code."""
    cdef int nt, rc
    if n <= FAST_HOLD_N and spec.grain > 0 and n * _dt_size(dt) // 4 < 2 * spec.grain:
        return _block(tb, spec.k, mode, dt, a, b, o, n, spec.p)     # one chunk, as _run_flat would
    nt = _fast_nt(t)
    with nogil:
        rc = _run_flat(tb, spec.k, mode, dt, a, b, o, n, spec.p, nt, spec.grain, stream)
    return rc


def fast_inplace(Spec spec not None, tuple vals not None, x, n_threads):
    """x = f(x) in place when x qualifies for the fast path, else None.
    vals: the parameter values spec was found under (_same_values).
    n_threads: as given by the caller (_fast_threads).
    fast_call(spec, vals, 0, x, None, x, ...) computes the same, but checks a
    second operand and the layouts; in place needs neither."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer v
    cdef char *data
    cdef Py_ssize_t n, isz
    cdef int dt, rc = 0
    cdef int t = _fast_threads(n_threads)
    if t < 0 or not _same_values(vals, spec.vals):
        return None
    if fa_nd_flat(x, 1, 1, &data, &n, &isz, &dt):
        return x if _run_fast(tb, spec, 0, dt, data, NULL, data, n, t) == 0 else None
    # other buffers; a torch tensor (type known once one was seen) skips the failing buffer request
    view = x if type(x) is not _torch_tensor else _tensor_view(x)
    if view is None:
        return None
    if fa_nd_flat(view, 1, 1, &data, &n, &isz, &dt):
        return x if _run_fast(tb, spec, 0, dt, data, NULL, data, n, t) == 0 else None
    try:
        _get_buffer(view, &v, PyBUF_RECORDS)
    except Exception:       # not a writable buffer: a CPU tensor's view, or the general path explains
        view = _tensor_view(x)
        if view is None:
            return None
        try:
            _get_buffer(view, &v, PyBUF_RECORDS)
        except Exception:
            return None
    try:
        if not _fast_ok(&v, True):
            return None
        rc = _run_fast(tb, spec, 0, _ew_dt(v.itemsize), <char *>v.buf, NULL, <char *>v.buf,
                       v.len // v.itemsize, t)
    finally:
        PyBuffer_Release(&v)
    return x if rc == 0 else None


cdef object _torch_tensor = None


cdef object _tensor_view(x):
    """The NumPy view of a plain torch.Tensor on the CPU (Tensor.numpy() shares its
    memory and costs ~1 us, where DLPack export costs ~4), or None: any other object, a
    tensor that requires grad, lives on another device or has no NumPy dtype (numpy()
    refuses those) takes the general path, which explains.  A subclass (Parameter)
    always goes the general way."""
    global _torch_tensor
    if _torch_tensor is None:
        torch = sys.modules.get("torch")
        if torch is None:
            return None
        _torch_tensor = torch.Tensor
    if type(x) is not _torch_tensor:
        return None
    try:
        return x.numpy()
    except Exception:
        return None


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
    return a.buf == b.buf or _apart(a, b)


cdef inline bint _nd_same_or_apart(char *a, char *b, Py_ssize_t nbytes) noexcept:
    """Two blocks of nbytes: the same memory or no common byte."""
    return a == b or _bytes_apart(a, nbytes, b, nbytes)


cdef inline int _ew_dt(Py_ssize_t itemsize) noexcept nogil:
    """The element-wise storage type of a buffer _fast_ok(v, True) accepted."""
    return DT_F64 if itemsize == 8 else DT_F16 if itemsize == 2 else DT_F32


cdef object _fast_operands(a, b, out, empty_like, Py_buffer *va, Py_buffer *vb, Py_buffer *vo,
                           bint half=False):
    """The operands of a fast path (b may be None): out (a new array from
    empty_like(a) when None) with every buffer held, or None with none held
    when an operand is not native float32/64 (half: or float16), aligned and
    contiguous with one layout, or out is neither an input's very memory nor
    apart from it."""
    cdef bint have_b = b is not None, ok
    try:
        _get_buffer(a, va, PyBUF_RECORDS_RO)
    except Exception:
        return None
    if not _fast_ok(va, half):
        _fast_release(va, NULL, NULL)
        return None
    if have_b:
        try:
            _get_buffer(b, vb, PyBUF_RECORDS_RO)
        except Exception:
            _fast_release(va, NULL, NULL)
            return None
        if not (_fast_ok(vb, half) and _same_layout(va, vb)):
            _fast_release(va, vb, NULL)
            return None
    try:
        if out is None:
            out = empty_like(a)
        _get_buffer(out, vo, PyBUF_RECORDS)
    except Exception:
        _fast_release(va, vb if have_b else NULL, NULL)
        return None
    ok = _fast_ok(vo, half) and _same_layout(va, vo) and _same_or_apart(va, vo)
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


cdef object _nd_operands(a, b, out, bint half, bint c_only, char **pa, char **pb, char **po,
                         Py_ssize_t *n, int *dt):
    """_fast_operands for exact ndarrays (half: float16 and bfloat16 too,
    fa_nd_flat), read from their structs: False when
    an operand is not an exact ndarray (the caller tries the buffer protocol),
    None when they do not qualify (the general path decides), else out (a new
    array like a when None) with the data pointers, the element count and the
    storage type.  c_only: C order only (softmax's axis walk)."""
    cdef Py_ssize_t nb, no, isz
    cdef int dtb, dto
    if not fa_nd_flat(a, 0, half, pa, n, &isz, dt):
        return False
    if c_only and not fa_nd_c_contig(a):
        return None
    if b is not None:
        if not fa_nd_flat(b, 0, half, pb, &nb, &isz, &dtb):
            return False
        if dtb != dt[0] or not fa_nd_same_layout(a, b):
            return None
    if out is None:
        out = fa_nd_empty_like(a)
        po[0] = fa_nd_data(out)
        return out
    if not fa_nd_flat(out, 1, half, po, &no, &isz, &dto):
        return False
    if (dto != dt[0] or not fa_nd_same_layout(a, out) or not _nd_same_or_apart(pa[0], po[0], n[0] * isz)
            or (b is not None and not _nd_same_or_apart(pb[0], po[0], n[0] * isz))):
        return None
    return out


cdef void _softmax_scaled(const fa_loop_table *tb, const _SmMask *mk, int mode, bint dbl, char *pa, char *pb,
                          char *po, Py_ssize_t nouter, Py_ssize_t L, Py_ssize_t inner, bint log_form,
                          double scale, int nthreads, Py_ssize_t grain) noexcept nogil:
    """_softmax_run, or with a mask (mk.base) or a scale other than 1 the
    masked run (forward only): the general path's kernels for those, so the
    same bits."""
    if mk.base == NULL and scale == 1.0:
        _softmax_run(tb, mode, dbl, pa, pb, po, nouter, L, inner, log_form, nthreads, grain)
        return
    _smm_run(tb, mk, mode, dbl, pa, pa, po, nouter, L, inner, log_form, scale, nthreads, grain)


cdef bint _fast_mask(Py_buffer *vm, object a, Py_ssize_t nd, char *po, Py_ssize_t obytes,
                     _SmMask *mk) noexcept:
    """mk for a C-contiguous bool mask broadcast against a's shape (trailing
    axes aligned) for a softmax over a's last axis, as the general path
    builds it from the broadcast view (zero strides); False when it does not
    qualify (the general path decides and explains), or overlaps the output
    (written before the mask is read)."""
    cdef Py_ssize_t md = vm.ndim, lead = nd - vm.ndim, i, n, dm
    if not (vm.itemsize == 1 and vm.format[0] == b'?' and vm.format[1] == 0 and md <= nd and md <= _SM_MAXD
            and PyBuffer_IsContiguous(vm, b'C')):
        return False
    if not _bytes_apart(<char *>vm.buf, vm.len, po, obytes):
        return False
    mk.base = <const unsigned char *>vm.buf
    mk.nd = 0
    mk.mi = 0
    mk.ml = 0
    for i in range(nd):
        n = fa_nd_dim(a, i)
        dm = vm.shape[i - lead] if i >= lead else 1
        if dm != 1 and dm != n:
            return False
        if i == nd - 1:
            mk.ml = vm.strides[i - lead] if dm != 1 else 0
        elif n != 1:
            mk.shp[mk.nd] = n
            mk.st[mk.nd] = vm.strides[i - lead] if dm != 1 else 0
            mk.nd += 1
    return True


def fast_softmax(int mode, a, b, out, axis_obj, bint log_form, n_threads, Py_ssize_t grain,
                 empty_like, double scale=1.0, where=None):
    """softmax / log_softmax (mode 0) or their backward from y = b (mode 2)
    on C-contiguous native arrays of one shape (plain ndarrays also float16
    or bfloat16, unless the axis is 0), or None for the general path
    (which checks everything and explains).  out None: a new array.  scale:
    the factor on x (softmin: -1; finite), forward only; where: a bool
    ndarray mask (_fast_mask), forward over the last axis of a plain ndarray
    only."""
    cdef const fa_loop_table *tb = _table()
    cdef Py_buffer va, vb, vo
    cdef int nt, i, rc
    cdef bint have_b = mode != 0
    cdef Py_ssize_t nouter = 1, L, inner = 1
    cdef int t = _fast_threads(n_threads)
    cdef long axis
    cdef char *pa
    cdef char *pb = NULL
    cdef char *po
    cdef Py_ssize_t n
    cdef int dt, nd
    cdef _SmMask mk
    cdef Py_buffer vm
    cdef bint have_m = where is not None
    mk.base = NULL
    mk.nd = 0
    mk.ml = mk.mi = 0
    if (t < 0 or not _axis_of(axis_obj, &axis) or (scale != 1.0 and (mode != 0 or not isfinite(scale)))
            or (have_m and mode != 0)):
        return None
    r = _nd_operands(a, b if have_b else None, out, True, True, &pa, &pb, &po, &n, &dt)
    if r is not False:          # plain ndarrays (the common call), read from their structs
        nd = fa_nd_ndim(a)
        if r is None or not (nd >= 1 and n > 0 and -nd <= axis < nd):
            return None
        if axis < 0:
            axis += nd
        for i in range(axis):
            nouter *= fa_nd_dim(a, i)
        L = fa_nd_dim(a, axis)
        for i in range(axis + 1, nd):
            inner *= fa_nd_dim(a, i)
        if have_m:
            if axis != nd - 1:       # _fast_mask reduces over the last axis only
                return None
            try:
                _get_buffer(where, &vm, PyBUF_RECORDS_RO)
            except Exception:
                return None
        try:
            if have_m and not _fast_mask(&vm, a, nd, po, n * _dt_size(dt), &mk):
                return None
            if dt >= DT_F16:        # float16 / bfloat16: blocks of rows staged in L1, as the general path
                nt = 1 if n <= FAST_HOLD_N else _fast_nt(t)
                with nogil:
                    rc = _sm_half_run(tb, dt - 1, mode, pa, pb, po, &mk if have_m or scale != 1.0 else NULL,
                                      nouter, L, inner, log_form, scale, nt, grain)
                _hrows_check(rc, "softmax")
            elif n <= FAST_HOLD_N:  # small: one thread, the GIL held (see FAST_HOLD_N)
                _softmax_scaled(tb, &mk, mode, dt == DT_F64, pa, pb, po, nouter, L, inner, log_form, scale, 1,
                                grain)
            else:
                nt = _fast_nt(t)
                with nogil:
                    _softmax_scaled(tb, &mk, mode, dt == DT_F64, pa, pb, po, nouter, L, inner, log_form, scale,
                                    nt, grain)
        finally:
            if have_m:
                PyBuffer_Release(&vm)
        return r
    if have_m:
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
            _softmax_scaled(tb, &mk, mode, va.itemsize == 8, <char *>va.buf, <char *>vb.buf if have_b else NULL,
                            <char *>vo.buf, nouter, L, inner, log_form, scale, nt, grain)
    finally:
        _fast_release(&va, &vb if have_b else NULL, &vo)
    return out


def fast_call(Spec spec not None, tuple vals not None, int mode, a, b, out, n_threads, empty_like):
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
    cdef char *pa
    cdef char *pb = NULL
    cdef char *po
    cdef Py_ssize_t n
    cdef int dt
    if t < 0 or not _same_values(vals, spec.vals) or (mode == 2 and not spec.y_ok):
        return None
    cdef bint own_out = out is not None
    r = _nd_operands(a, b if have_b else None, out, True, False, &pa, &pb, &po, &n, &dt)
    if r is not False:          # plain ndarrays (the common call), read from their structs
        if r is None or _run_fast(tb, spec, mode, dt, pa, pb, po, n, t, own_out) != 0:
            return None         # (kernel not compiled: the general path raises)
        return r
    out = _fast_operands(a, b if have_b else None, out, empty_like, &va, &vb, &vo, True)
    if out is None:
        return None
    try:
        nt = _fast_nt(t)
        with nogil:
            rc = _run_flat(tb, spec.k, mode, _ew_dt(va.itemsize), <char *>va.buf,
                           <char *>vb.buf if have_b else NULL, <char *>vo.buf,
                           va.len // va.itemsize, spec.p, nt, spec.grain, own_out)
    finally:
        _fast_release(&va, &vb if have_b else NULL, &vo)
    if rc != 0:         # kernel not compiled: the general path raises
        return None
    return out
