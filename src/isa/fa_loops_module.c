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

static struct PyModuleDef fa_loops_def = {
    PyModuleDef_HEAD_INIT,
    "fastact._loops_" FA__STR(FA_TARGET),
    "The loop table of the " FA__STR(FA_TARGET) " CPU target (a PyCapsule: `table`).",
    -1, NULL, NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC FA_PYINIT(void)
{
    PyObject *m = PyModule_Create(&fa_loops_def);
    PyObject *cap;
    if (m == NULL)
        return NULL;
    cap = PyCapsule_New((void *)&FA_TABLE_SYMBOL, FA_TABLE_CAPSULE, NULL);
    if (cap == NULL || PyModule_AddObject(m, "table", cap) < 0) {
        Py_XDECREF(cap);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
