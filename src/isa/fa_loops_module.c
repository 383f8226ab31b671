/* fa_loops_module.c: the extension module fastact._loops_<FA_TARGET>, built
 * once per CPU target with that target's flags (setup.py).  It exports one
 * attribute, `table`: a PyCapsule (named FA_TABLE_CAPSULE) holding the
 * address of this target's fa_loop_table.  fastact._dispatch imports it only
 * after checking that the CPU runs the target's instructions, and hands the
 * capsule to fastact._front.set_table.  Its fast_divider() and sw_prefetch()
 * read (or set) the tuning that fa_tune_init takes from the CPU's vendor
 * when the module loads (fa_tune, fa_defs.h). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "fa_table_impl.c"

#define FA_MODULE_NAME FA__CAT(_loops_, FA_TARGET)
#define FA_PYINIT FA__CAT(PyInit_, FA_MODULE_NAME)

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#  if defined(_MSC_VER)
#    include <intrin.h>
#  else
#    include <cpuid.h>
#  endif
/* fa_tune (fa_defs.h) from the CPU's vendor: AMD's cores (Zen 4 on, for
 * AVX-512) divide fast and prefetch well by themselves.  fast_divider has
 * an effect only where the AVX-512 formulas read it. */
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
    const int amd = r[1] == 0x68747541u && r[3] == 0x69746e65u && r[2] == 0x444d4163u;
    fa_tune.fast_divider = amd;
    fa_tune.sw_prefetch = !amd;
}
#else
static void fa_tune_init(void) {}
#endif

/* Read fa_tune's field *f, or set it first when called with a flag, so
 * that the tests can run both paths on any CPU.  None where the field
 * changes nothing (`relevant` 0). */
static PyObject *fa__tune_field(PyObject *args, const char *fmt, int *f, int relevant)
{
    int flag = -1;
    if (!PyArg_ParseTuple(args, fmt, &flag))
        return NULL;
    if (!relevant)
        Py_RETURN_NONE;
    if (flag >= 0)
        *f = flag;
    return PyBool_FromLong(*f);
}
static PyObject *fa_fast_divider_py(PyObject *self, PyObject *args)
{
    (void)self;
    return fa__tune_field(args, "|p:fast_divider", &fa_tune.fast_divider, FA_DIVIDER_CHOICE);
}
static PyObject *fa_sw_prefetch_py(PyObject *self, PyObject *args)
{
    (void)self;
    return fa__tune_field(args, "|p:sw_prefetch", &fa_tune.sw_prefetch, 1);
}

/* walk([mode]) -> 'auto' | 'up' | 'down' | None: fa_tune.walk (None where
 * the target has no down walk, FA_HAVE_DOWN) */
static PyObject *fa_walk_py(PyObject *self, PyObject *args)
{
    static const char *const names[] = {"auto", "up", "down"};
    const char *mode = NULL;
    (void)self;
    if (!PyArg_ParseTuple(args, "|s:walk", &mode))
        return NULL;
    if (!FA_HAVE_DOWN)
        Py_RETURN_NONE;
    if (mode != NULL) {
        int k = 0;
        while (k < 3 && strcmp(mode, names[k]) != 0)
            k++;
        if (k == 3) {
            PyErr_Format(PyExc_ValueError, "walk: mode must be 'auto', 'up' or 'down', not '%s'", mode);
            return NULL;
        }
        fa_tune.walk = k;
    }
    return PyUnicode_FromString(names[fa_tune.walk]);
}

static PyMethodDef fa_loops_methods[] = {
    {"fast_divider", fa_fast_divider_py, METH_VARARGS,
     "fast_divider([flag]) -> bool | None: read (or set) whether hard_swish divides with the "
     "vector divider (chosen by the CPU's vendor when the module loads; None: no choice here)."},
    {"sw_prefetch", fa_sw_prefetch_py, METH_VARARGS,
     "sw_prefetch([flag]) -> bool: read (or set) whether the element-wise loops prefetch "
     "arrays beyond L2 (chosen by the CPU's vendor when the module loads)."},
    {"walk", fa_walk_py, METH_VARARGS,
     "walk([mode]) -> str | None: read (or set) the direction of the element-wise forward loops: "
     "'auto' (down where an output lies just after an input modulo 4 KB), 'up' or 'down' "
     "(None: this target has one direction)."},
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
