# ndarray.pxi: included by src/front/_front.pyx (one module, compiled once).
# NumPy's C API: the fast paths read a plain ndarray's flags, dtype, data and
# size from its struct (the buffer protocol costs more per operand than a
# 16-element kernel), and the ufuncs (ufuncs.pxi) are made with it.

cdef extern from *:
    """
    /* the oldest NumPy fastact supports (pyproject: numpy>=1.22); NumPy 2's
       headers otherwise target a newer API and import_array refuses 1.22 */
    #define NPY_TARGET_VERSION NPY_1_22_API_VERSION
    #define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
    #include <numpy/arrayobject.h>
    #include <numpy/ufuncobject.h>

    /* ml_dtypes.bfloat16's type number.  A user dtype is numbered when its
       package registers it, so the general path records it on its first
       bfloat16 array (fa_nd_set_bf16); until then -1, no dtype's number. */
    static int fa_nd_bf16 = -1;
    static void fa_nd_set_bf16(int num) { fa_nd_bf16 = num; }

    /* An exact ndarray that a flat kernel may run over: native float32,
       float64 or (half) float16 or bfloat16, aligned, C- or F-contiguous (one
       block of memory, whatever its order) and, when `write`, writeable.
       Fills the data pointer, element count and storage type (0 f32, 1 f64,
       2 f16, 3 bf16, the DT_* codes of elementwise.pxi).  0: anything else,
       including subclasses, which take the buffer protocol. */
    static CYTHON_INLINE int fa_nd_flat(PyObject *o, int write, int half,
                                 char **data, Py_ssize_t *n, Py_ssize_t *isz, int *dt)
    {
        PyArrayObject *a;
        PyArray_Descr *d;
        int f, need = NPY_ARRAY_ALIGNED | (write ? NPY_ARRAY_WRITEABLE : 0);
        if (Py_TYPE(o) != &PyArray_Type)
            return 0;
        a = (PyArrayObject *)o;
        f = PyArray_FLAGS(a);
        if ((f & need) != need || !(f & (NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_F_CONTIGUOUS)))
            return 0;
        d = PyArray_DESCR(a);
        if (!PyArray_ISNBO(d->byteorder))
            return 0;
        switch (d->type_num) {
        case NPY_FLOAT:  *dt = 0; *isz = 4; break;
        case NPY_DOUBLE: *dt = 1; *isz = 8; break;
        case NPY_HALF:   if (!half) return 0; *dt = 2; *isz = 2; break;
        default:
            if (!half || d->type_num != fa_nd_bf16)
                return 0;
            *dt = 3; *isz = 2; break;
        }
        *data = (char *)PyArray_DATA(a);
        if ((size_t)*data % (size_t)*isz)
            return 0;
        *n = PyArray_SIZE(a);
        return 1;
    }

    static CYTHON_INLINE char *fa_nd_data(PyObject *o) { return (char *)PyArray_DATA((PyArrayObject *)o); }

    /* A new result starts at its input's address modulo 64.  A kernel's
       aligned head (loops/common.h) then aligns its loads with its stores;
       with malloc's 16-byte alignment the two streams sit a random multiple
       of 16 bytes apart, and a kernel of two or more operations per vector
       after a line-splitting load runs ~10% slower on an L2-resident array.
       The block is this file's (fa_pl_malloc, at the input's offset from a
       64-byte boundary, its malloc pointer and size in the 16 bytes before
       it); the array owns it through a NumPy allocator (NEP 49: one capsule
       per even offset) that frees and resizes it, as NumPy's own arrays
       carry theirs.  The allocator is set on the new array itself: making it
       NumPy's current one for the allocation would take two context-variable
       sets per call, more than the allocation. */
    #define FA_PL_HDR 16
    #define FA_PL_MIN_BYTES 4096      /* below: the call, not the loop, dominates */
    /* from here NumPy's allocator asks Linux for huge pages (fewer page faults on
       first touch), and the loops stream from memory, where a split load costs
       less: NumPy allocates */
    #define FA_PL_MAX_BYTES ((size_t)1 << 22)
    static void *fa_pl_malloc(void *ctx, size_t size)
    {
        char *raw, *p;
        if (size > (size_t)-1 - (FA_PL_HDR + 128))
            return NULL;
        raw = (char *)malloc(size + FA_PL_HDR + 128);
        if (raw == NULL)
            return NULL;
        p = raw + FA_PL_HDR + ((64 - ((uintptr_t)(raw + FA_PL_HDR) & 63)) & 63) + (uintptr_t)ctx;
        memcpy(p - FA_PL_HDR, &raw, sizeof raw);
        memcpy(p - FA_PL_HDR + 8, &size, sizeof size);
        return p;
    }
    static void fa_pl_free(void *ctx, void *p, size_t size)
    {
        char *raw;
        (void)ctx; (void)size;
        if (p == NULL)
            return;
        memcpy(&raw, (char *)p - FA_PL_HDR, sizeof raw);
        free(raw);
    }
    static void *fa_pl_calloc(void *ctx, size_t nelem, size_t elsize)
    {
        void *p;
        if (elsize && nelem > (size_t)-1 / elsize)
            return NULL;
        p = fa_pl_malloc(ctx, nelem * elsize);
        if (p != NULL)
            memset(p, 0, nelem * elsize);
        return p;
    }
    static void *fa_pl_realloc(void *ctx, void *p, size_t size)
    {
        size_t old;
        void *q;
        if (p == NULL)
            return fa_pl_malloc(ctx, size);
        q = fa_pl_malloc(ctx, size);
        if (q == NULL)
            return NULL;
        memcpy(&old, (char *)p - FA_PL_HDR + 8, sizeof old);
        memcpy(q, p, old < size ? old : size);
        fa_pl_free(ctx, p, old);
        return q;
    }
    /* one allocator per even offset (an odd address holds no aligned float) */
    static PyDataMem_Handler fa_pl_handlers[32];
    static PyObject *fa_pl_capsules[32];
    static int fa_pl_init(void)
    {
        int k;
        for (k = 0; k < 32; k++) {
            PyDataMem_Handler *h = &fa_pl_handlers[k];
            strcpy(h->name, "fastact_placed");
            h->version = 1;
            h->allocator.ctx = (void *)(uintptr_t)(2 * k);
            h->allocator.malloc = fa_pl_malloc;
            h->allocator.calloc = fa_pl_calloc;
            h->allocator.realloc = fa_pl_realloc;
            h->allocator.free = fa_pl_free;
            fa_pl_capsules[k] = PyCapsule_New(h, "mem_handler", NULL);
            if (fa_pl_capsules[k] == NULL)
                return -1;
        }
        return 0;
    }

    /* np.empty_like(o) of an exact, C- or F-contiguous ndarray (its dtype,
       shape and memory order), placed at o's address modulo 64 when it has
       FA_PL_MIN_BYTES or more and less than FA_PL_MAX_BYTES */
    static PyObject *fa_nd_empty_like(PyObject *o)
    {
        PyArrayObject *a = (PyArrayObject *)o, *r;
        PyArray_Descr *d = PyArray_DESCR(a);
        uintptr_t off = (uintptr_t)PyArray_DATA(a) & 63;
        size_t nbytes = (size_t)PyArray_NBYTES(a);
        int f = PyArray_IS_C_CONTIGUOUS(a) ? 0 : NPY_ARRAY_F_CONTIGUOUS;
        void *p;
        if (nbytes < FA_PL_MIN_BYTES || nbytes >= FA_PL_MAX_BYTES || (off & 1)
                || (f && !PyArray_IS_F_CONTIGUOUS(a)))
            return PyArray_NewLikeArray(a, NPY_KEEPORDER, NULL, 1);
        p = fa_pl_malloc((void *)off, nbytes);
        if (p == NULL)
            return PyErr_NoMemory();
        Py_INCREF(d);
        r = (PyArrayObject *)PyArray_NewFromDescr(&PyArray_Type, d, PyArray_NDIM(a), PyArray_DIMS(a),
                                                  NULL, p, f | NPY_ARRAY_WRITEABLE | NPY_ARRAY_ALIGNED,
                                                  NULL);
        if (r == NULL) {
            fa_pl_free(NULL, p, nbytes);
            return NULL;
        }
        /* the array owns the block, freed (or resized) by the allocator it carries;
           traced as NumPy traces its own */
        Py_INCREF(fa_pl_capsules[off >> 1]);
        ((PyArrayObject_fields *)r)->mem_handler = fa_pl_capsules[off >> 1];
        PyArray_ENABLEFLAGS(r, NPY_ARRAY_OWNDATA);
        PyTraceMalloc_Track(389047, (uintptr_t)p, nbytes);    /* np.lib.tracemalloc_domain */
        return (PyObject *)r;
    }
    static CYTHON_INLINE int fa_nd_c_contig(PyObject *o) { return PyArray_IS_C_CONTIGUOUS((PyArrayObject *)o); }
    static CYTHON_INLINE int fa_nd_ndim(PyObject *o) { return PyArray_NDIM((PyArrayObject *)o); }
    static CYTHON_INLINE Py_ssize_t fa_nd_dim(PyObject *o, int i) { return PyArray_DIM((PyArrayObject *)o, i); }

    /* The Py_buffer PyObject_GetBuffer(o, v, flags) would give for an exact
       ndarray of native float32, float64 or float16 (writeable when flags
       ask it), filled from its struct; obj NULL (PyBuffer_Release does
       nothing: the caller's reference keeps the array alive).  0: anything
       else, which takes the protocol. */
    static CYTHON_INLINE int fa_nd_buffer(PyObject *o, Py_buffer *v, int flags)
    {
        PyArrayObject *a;
        PyArray_Descr *d;
        const char *fmt;
        Py_ssize_t isz;
        if (Py_TYPE(o) != &PyArray_Type)
            return 0;
        a = (PyArrayObject *)o;
        d = PyArray_DESCR(a);
        if (!PyArray_ISNBO(d->byteorder))
            return 0;
        switch (d->type_num) {
        case NPY_FLOAT:  fmt = "f"; isz = 4; break;
        case NPY_DOUBLE: fmt = "d"; isz = 8; break;
        case NPY_HALF:   fmt = "e"; isz = 2; break;
        default: return 0;
        }
        if ((flags & PyBUF_WRITABLE) && !PyArray_ISWRITEABLE(a))
            return 0;
        v->buf = PyArray_DATA(a);
        v->obj = NULL;
        v->len = PyArray_SIZE(a) * isz;
        v->itemsize = isz;
        v->readonly = !PyArray_ISWRITEABLE(a);
        v->ndim = PyArray_NDIM(a);
        v->format = (char *)fmt;
        v->shape = PyArray_DIMS(a);
        v->strides = PyArray_STRIDES(a);
        v->suboffsets = NULL;
        v->internal = NULL;
        return 1;
    }

    /* Two exact ndarrays of one shape whose elements sit at the same offsets
       (strides compared where the extent is > 1). */
    static CYTHON_INLINE int fa_nd_same_layout(PyObject *a, PyObject *b)
    {
        PyArrayObject *x = (PyArrayObject *)a, *y = (PyArrayObject *)b;
        int i, nd = PyArray_NDIM(x);
        if (nd != PyArray_NDIM(y))
            return 0;
        for (i = 0; i < nd; i++)
            if (PyArray_DIM(x, i) != PyArray_DIM(y, i)
                    || (PyArray_DIM(x, i) > 1 && PyArray_STRIDE(x, i) != PyArray_STRIDE(y, i)))
                return 0;
        return 1;
    }
    """
    int fa_nd_flat(object o, int write, int half, char **data, Py_ssize_t *n, Py_ssize_t *isz,
                   int *dt) noexcept
    void fa_nd_set_bf16(int num) noexcept
    enum: NPY_USERDEF
    int fa_nd_same_layout(object a, object b) noexcept
    int fa_nd_buffer(object o, Py_buffer *v, int flags) noexcept
    char *fa_nd_data(object o) noexcept
    int fa_nd_c_contig(object o) noexcept
    int fa_nd_ndim(object o) noexcept
    Py_ssize_t fa_nd_dim(object o, int i) noexcept
    object fa_nd_empty_like(object o)
    int fa_pl_init() except -1
    int _import_array() except -1
    int _import_umath() except -1

_import_array()
fa_pl_init()

import numpy as _np


def set_bfloat16(dt):
    """Take dtype dt (ml_dtypes.bfloat16, which fastact/_arrays.py recognizes)
    as bfloat16 on the fast paths from now on."""
    dt = _np.dtype(dt)
    if dt.itemsize != 2 or dt.kind != "V" or dt.num < NPY_USERDEF:
        raise ValueError(f"fastact._front.set_bfloat16: {dt} is not a 2-byte user dtype")
    fa_nd_set_bf16(dt.num)


def empty_like(a, dtype=None):
    """np.empty_like(a, dtype) for a new result: for an exact, contiguous
    ndarray of 4 KiB to 4 MiB, a's dtype and memory order, starting at a's
    address modulo 64 (fa_nd_empty_like); anything else is np.empty_like's."""
    if type(a) is _np.ndarray and (dtype is None or _np.dtype(dtype) == a.dtype):
        return fa_nd_empty_like(a)
    return _np.empty_like(a, dtype=dtype)


cdef inline int _get_buffer(object o, Py_buffer *v, int flags) except -1:
    """PyObject_GetBuffer, filled from the struct for a plain float ndarray
    (fa_nd_buffer: cheaper than the protocol)."""
    if fa_nd_buffer(o, v, flags):
        return 0
    return PyObject_GetBuffer(o, v, flags)
