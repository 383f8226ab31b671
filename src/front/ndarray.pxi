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

    /* An exact ndarray that a flat kernel may run over: native float32,
       float64 or (half) float16, aligned, C- or F-contiguous (one block of
       memory, whatever its order) and, when `write`, writeable.  Fills the
       data pointer, element count and storage type (0 f32, 1 f64, 2 f16, the
       DT_* codes of elementwise.pxi).  0: anything else, including
       subclasses, which take the buffer protocol. */
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
        default: return 0;
        }
        *data = (char *)PyArray_DATA(a);
        if ((size_t)*data % (size_t)*isz)
            return 0;
        *n = PyArray_SIZE(a);
        return 1;
    }

    static CYTHON_INLINE char *fa_nd_data(PyObject *o) { return (char *)PyArray_DATA((PyArrayObject *)o); }
    /* np.empty_like(o) of an exact ndarray (its dtype and memory order) */
    static CYTHON_INLINE PyObject *fa_nd_empty_like(PyObject *o)
    {
        return PyArray_NewLikeArray((PyArrayObject *)o, NPY_KEEPORDER, NULL, 1);
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
    int fa_nd_same_layout(object a, object b) noexcept
    int fa_nd_buffer(object o, Py_buffer *v, int flags) noexcept
    char *fa_nd_data(object o) noexcept
    int fa_nd_c_contig(object o) noexcept
    int fa_nd_ndim(object o) noexcept
    Py_ssize_t fa_nd_dim(object o, int i) noexcept
    object fa_nd_empty_like(object o)
    int _import_array() except -1
    int _import_umath() except -1

_import_array()


cdef inline int _get_buffer(object o, Py_buffer *v, int flags) except -1:
    """PyObject_GetBuffer, filled from the struct for a plain float ndarray
    (fa_nd_buffer: cheaper than the protocol)."""
    if fa_nd_buffer(o, v, flags):
        return 0
    return PyObject_GetBuffer(o, v, flags)
