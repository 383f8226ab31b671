# ufuncs.pxi: included by src/front/_front.pyx (one module, compiled once).
# fastact.ufuncs: the element-wise kernels as NumPy ufuncs (legacy inner-loop
# API, PyUFunc_FromFuncAndData).  Operands: x (forward) or grad, x (backward),
# then the activation's numeric parameters as float64 inputs, then out.  Both
# loops (float32 `f..dd->f`, float64 `d..dd->d`) take the parameters as float64
# so the row's kernel mapping sees the very doubles the main API gets (the
# kernels round them to the dtype themselves): same p0..p3, same bits.
#
# Validation: the loop cannot return an error, so it takes the GIL (PyGILState
# through `with gil`) to pass each distinct parameter tuple to the ufunc's
# Python resolver (fastact/ufuncs.py: the row's _params._spec, the main API's
# checks and cache); an exception it raises stays set, every later call of the
# loop in that ufunc call returns at once, and NumPy raises it after the loop
# (it checks PyErr_Occurred after legacy loops).  Broadcast parameters (stride
# 0, the common case) are resolved once per inner-loop call; per-element ones
# once per run of bit-equal values.
#
# Floating-point flags: the kernels raise them in intermediate steps (exp
# overflowing where the result is exact) and the main API never warns, so each
# loop call restores the calling thread's flags as it found them (NumPy's own
# casts keep theirs) and np.errstate never sees fastact's arithmetic.

cdef extern from *:
    ctypedef Py_ssize_t npy_intp
    ctypedef void (*PyUFuncGenericFunction)(char **, const npy_intp *, const npy_intp *, void *) noexcept nogil
    object PyUFunc_FromFuncAndData(PyUFuncGenericFunction *func, void **data, char *types, int ntypes,
                                   int nin, int nout, int identity, const char *name, const char *doc,
                                   int unused)
    int PyUFunc_None
    char NPY_FLOAT
    char NPY_DOUBLE

from cpython.ref cimport PyObject

cdef extern from "<fenv.h>" nogil:
    ctypedef struct fexcept_t:
        pass
    int FE_ALL_EXCEPT
    int fegetexceptflag(fexcept_t *flagp, int excepts)
    int fesetexceptflag(const fexcept_t *flagp, int excepts)
from cpython.exc cimport PyErr_Occurred
from libc.stdlib cimport malloc
from libc.string cimport memcmp as _uf_memcmp

ctypedef struct _UF:
    PyObject *resolve       # vals... -> (kernel id, (p0, p1, p2, p3), grain); raises on bad values
    int mode                # 0: out = f(x); 1: out = grad * f'(x)
    int npar                # numeric parameters (float64 inputs after the arrays)
    bint dbl                # the float64 loop
    # the last tuple resolved (read and written with the GIL held): resolve is
    # a pure function of the parameters' bits, so equal bits reuse its result
    bint hit_ok
    double hit_vals[8]
    int hit_k
    double hit_p[4]
    Py_ssize_t hit_grain

cdef int _uf_numpy_ready = 0
cdef list _uf_keep = []     # names, docs and resolvers the ufuncs point to: alive with the module


cdef int _uf_prepare(_UF *u, const double *vals, int *k, double *p, int *nt,
                     Py_ssize_t *grain) except -1 with gil:
    """The kernel of one parameter tuple (raises like the main API), and the
    thread count of the calling thread's policy."""
    cdef int i
    if PyErr_Occurred() != NULL:    # an earlier inner loop of this call failed
        return -1
    if not (u.hit_ok and _uf_memcmp(u.hit_vals, vals, u.npar * sizeof(double)) == 0):
        u.hit_ok = False
        r = (<object>u.resolve)(*[vals[i] for i in range(u.npar)])
        for i in range(u.npar):
            u.hit_vals[i] = vals[i]
        u.hit_k = r[0]
        for i in range(4):
            u.hit_p[i] = r[1][i]
        u.hit_grain = r[2]
        u.hit_ok = True
    k[0] = u.hit_k
    for i in range(4):
        p[i] = u.hit_p[i]
    grain[0] = u.hit_grain
    nt[0] = _threads_now()
    return 0


# called through this type so the nogil loop sees only the return value: the
# exception it may leave set is NumPy's to raise after the loop
ctypedef int (*_uf_prepare_t)(_UF *, const double *, int *, double *, int *, Py_ssize_t *) noexcept nogil


cdef inline void _uf_vals(_UF *u, char **args, const npy_intp *steps, int na, npy_intp i,
                          double *v) noexcept nogil:
    cdef int j
    for j in range(u.npar):
        v[j] = (<double *>(args[na + j] + i * steps[na + j]))[0]


cdef void _uf_loop(char **args, const npy_intp *dims, const npy_intp *steps, void *data) noexcept nogil:
    cdef fexcept_t flags
    fegetexceptflag(&flags, FE_ALL_EXCEPT)
    _uf_run(args, dims, steps, <_UF *>data)
    fesetexceptflag(&flags, FE_ALL_EXCEPT)


cdef void _uf_run(char **args, const npy_intp *dims, const npy_intp *steps, _UF *u) noexcept nogil:
    cdef const fa_loop_table *tb = _T
    cdef _uf_prepare_t prep = <_uf_prepare_t>_uf_prepare
    cdef npy_intp n = dims[0], i, j
    cdef int na = 2 if u.mode else 1
    cdef int nin = na + u.npar, q, k = 0, nt = 1
    cdef bint bcast = True, same
    cdef Py_ssize_t isz = 8 if u.dbl else 4, grain = 0
    cdef char *a = args[0]
    cdef char *b = args[1] if u.mode else NULL
    cdef char *o = args[nin]
    cdef npy_intp sa = steps[0], sb = steps[1] if u.mode else 0, so = steps[nin]
    cdef double p[4]
    cdef double cur[8]
    cdef double nxt[8]
    if n <= 0:
        return
    for q in range(u.npar):
        if steps[na + q] != 0:
            bcast = False
    if bcast:
        _uf_vals(u, args, steps, na, 0, cur)
        if prep(u, cur, &k, p, &nt, &grain) != 0:
            return
        if sa == isz and so == isz and (b == NULL or sb == isz):
            # contiguous: the front's chunked, threaded run of the block loop
            _run_flat(tb, k, u.mode, u.dbl, a, b, o, n, p, nt, grain)
        else:
            _strided(tb, k, u.mode, u.dbl, a, sa, b, sb, o, so, n, p)
        return
    # per-element parameters: one kernel call per run of bit-equal values
    i = 0
    while i < n:
        _uf_vals(u, args, steps, na, i, cur)
        if prep(u, cur, &k, p, &nt, &grain) != 0:
            return
        j = i + 1
        while j < n:
            _uf_vals(u, args, steps, na, j, nxt)
            if _uf_memcmp(cur, nxt, u.npar * sizeof(double)) != 0:
                break
            j += 1
        _strided(tb, k, u.mode, u.dbl, a + i * sa, sa, b + i * sb if b != NULL else NULL, sb,
                 o + i * so, so, j - i, p)
        i = j


def make_ufunc(str name, str doc, resolve, int mode, int npar):
    """A numpy.ufunc `name` over the element-wise kernels: mode 0 f(x, *params),
    mode 1 grad * f'(x) as (grad, x, *params); resolve(*params) -> (kernel id,
    (p0, p1, p2, p3), grain) validates a parameter tuple (raises like the main API)."""
    global _uf_numpy_ready
    cdef int na = 2 if mode else 1, nargs = na + npar + 1, t, j
    if npar > 8 or mode not in (0, 1):
        raise ValueError("make_ufunc: at most 8 parameters, mode 0 or 1")
    if not _uf_numpy_ready:
        _import_umath()
        _uf_numpy_ready = 1
    bname = name.encode()
    bdoc = doc.encode()
    _uf_keep.extend((bname, bdoc, resolve))
    # never freed: NumPy keeps these pointers for the ufunc's (the module's) life
    cdef _UF *u = <_UF *>malloc(2 * sizeof(_UF))
    cdef PyUFuncGenericFunction *funcs = <PyUFuncGenericFunction *>malloc(2 * sizeof(PyUFuncGenericFunction))
    cdef void **data = <void **>malloc(2 * sizeof(void *))
    cdef char *types = <char *>malloc(2 * nargs)
    if u == NULL or funcs == NULL or data == NULL or types == NULL:
        raise MemoryError()
    for t in range(2):
        u[t].resolve = <PyObject *>resolve
        u[t].mode = mode
        u[t].npar = npar
        u[t].dbl = t == 1
        u[t].hit_ok = False
        funcs[t] = _uf_loop
        data[t] = &u[t]
        for j in range(nargs):
            types[t * nargs + j] = NPY_DOUBLE if (t == 1 or (j >= na and j < na + npar)) else NPY_FLOAT
    return PyUFunc_FromFuncAndData(funcs, data, types, 2, na + npar, 1, PyUFunc_None,
                                   <const char *>bname, <const char *>bdoc, 0)
