/* fa_loops_module.c: the extension module fastact._loops_<FA_TARGET>, built
 * once per CPU target with that target's flags (setup.py).  It exports one
 * attribute, `table`: a PyCapsule (named FA_TABLE_CAPSULE) holding the
 * address of this target's fa_loop_table.  fastact._dispatch imports it only
 * after checking that the CPU runs the target's instructions, and hands the
 * capsule to fastact._front.set_table. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "fa_table_impl.c"

#define FA_MODULE_NAME FA__CAT(_loops_, FA_TARGET)
#define FA_PYINIT FA__CAT(PyInit_, FA_MODULE_NAME)

#if FA_HAVE_FMA && defined(__AVX512F__)
#  if defined(_MSC_VER)
#    include <intrin.h>
#  else
#    include <cpuid.h>
#  endif
/* fa_fast_divider (fa_math.h) from the CPU's vendor: AMD's AVX-512 cores
 * (Zen 4 on) divide a 512-bit vector in ~5 cycles, Intel's in ~10-16. */
static void fa_tune_init(void)
{
    unsigned int r[4] = {0, 0, 0, 0};
#  if defined(_MSC_VER)
    int v[4];
    __cpuid(v, 0);
    r[1] = (unsigned int)v[1]; r[2] = (unsigned int)v[2]; r[3] = (unsigned int)v[3];
#  else
    __get_cpuid(0, &r[0], &r[1], &r[2], &r[3]);
#  endif
    /* "AuthenticAMD" in ebx, edx, ecx */
    fa_fast_divider = r[1] == 0x68747541u && r[3] == 0x69746e65u && r[2] == 0x444d4163u;
}
#else
static void fa_tune_init(void) {}
#endif

/* fast_divider() -> bool | None: whether the loops divide with the vector
 * divider (None: this target has no such choice); fast_divider(flag) sets
 * it, so that the tests run both paths on any CPU. */
static PyObject *fa_fast_divider_py(PyObject *self, PyObject *args)
{
    int flag = -1;
    (void)self;
    if (!PyArg_ParseTuple(args, "|p:fast_divider", &flag))
        return NULL;
#if FA_HAVE_FMA && defined(__AVX512F__)
    if (flag >= 0)
        fa_fast_divider = flag;
    return PyBool_FromLong(fa_fast_divider);
#else
    Py_RETURN_NONE;
#endif
}

static PyMethodDef fa_loops_methods[] = {
    {"fast_divider", fa_fast_divider_py, METH_VARARGS,
     "fast_divider([flag]) -> bool | None: read (or set) whether hard_swish divides with the "
     "vector divider (chosen by the CPU's vendor when the module loads; None: no choice here)."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef fa_loops_def = {
    PyModuleDef_HEAD_INIT,
    "fastact._loops_" FA__STR(FA_TARGET),
    "The loop table of the " FA__STR(FA_TARGET) " CPU target (a PyCapsule: `table`).",
    -1, fa_loops_methods, NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC FA_PYINIT(void)
{
    PyObject *m = PyModule_Create(&fa_loops_def);
    PyObject *cap;
    if (m == NULL)
        return NULL;
    fa_tune_init();
    cap = PyCapsule_New((void *)&FA_TABLE_SYMBOL, FA_TABLE_CAPSULE, NULL);
    if (cap == NULL || PyModule_AddObject(m, "table", cap) < 0) {
        Py_XDECREF(cap);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
