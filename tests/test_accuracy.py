"""Accuracy sweeps: >= 1e6 float32 inputs over every binade of the useful
range plus special values, against the float64 (extended where needed)
reference in fastact.reference; float64 on a smaller sweep against the
extended-precision reference.  Limits: fa_testutil.F32_LIMITS/F64_LIMITS."""
import numpy as np
import pytest

from fastact import reference as ref
from fa_testutil import BWD_LIMIT, CASES, ELEMENTWISE, F32_LIMITS, F64_LIMITS, measure, sweep_inputs

X32 = sweep_inputs(np.float32, 1_000_000)
X64 = sweep_inputs(np.float64, 200_000, lo_exp=-1022, hi_exp=10)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_float32_forward_accuracy(name):
    for params in CASES[name][:1]:
        got = measure(name, params, np.float32, X32)
        assert got <= F32_LIMITS[name], f"{name}: {got:.2f} ULP > {F32_LIMITS[name]}"


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_float32_backward_accuracy(name):
    got = measure(name, CASES[name][0], np.float32, X32, backward=True)
    assert got <= BWD_LIMIT, f"{name}_backward: {got:.2f} ULP > {BWD_LIMIT}"


@pytest.mark.skipif(not ref.EXTENDED, reason="float64 checks need an extended-precision long double")
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_float64_accuracy(name):
    got = measure(name, CASES[name][0], np.float64, X64)
    assert got <= F64_LIMITS[name], f"{name} float64: {got:.2f} ULP > {F64_LIMITS[name]}"
    got = measure(name, CASES[name][0], np.float64, X64, backward=True)
    assert got <= BWD_LIMIT, f"{name}_backward float64: {got:.2f} ULP > {BWD_LIMIT}"
