"""Accuracy sweeps: >= 1e6 float32 inputs over every binade of the useful
range plus special values, against the float64 (extended where needed)
reference in fastact.reference; float64 on a smaller sweep against the
extended-precision reference.  Limits: fa_testutil.F32_LIMITS/F64_LIMITS."""
import numpy as np
import pytest

from fastact import reference as ref
from fa_testutil import ACCURACY_CASES, BWD_LIMIT, F32_LIMITS, F64_LIMITS, measure, params_id, sweep_inputs

X32 = sweep_inputs(np.float32, 1_000_000)
X64 = sweep_inputs(np.float64, 200_000, lo_exp=-1022, hi_exp=10)


IDS = [f"{n}[{params_id(p)}]" for n, p in ACCURACY_CASES]


@pytest.mark.parametrize("name,params", ACCURACY_CASES, ids=IDS)
def test_float32_forward_accuracy(name, params):
    got = measure(name, params, np.float32, X32)
    assert got <= F32_LIMITS[name], f"{name}{params}: {got:.2f} ULP > {F32_LIMITS[name]}"


@pytest.mark.parametrize("name,params", ACCURACY_CASES, ids=IDS)
def test_float32_backward_accuracy(name, params):
    got = measure(name, params, np.float32, X32, backward=True)
    assert got <= BWD_LIMIT, f"{name}_backward{params}: {got:.2f} ULP > {BWD_LIMIT}"


@pytest.mark.skipif(not ref.EXTENDED, reason="float64 checks need an extended-precision long double")
@pytest.mark.parametrize("name,params", ACCURACY_CASES, ids=IDS)
def test_float64_accuracy(name, params):
    got = measure(name, params, np.float64, X64)
    assert got <= F64_LIMITS[name], f"{name}{params} float64: {got:.2f} ULP > {F64_LIMITS[name]}"
    got = measure(name, params, np.float64, X64, backward=True)
    assert got <= BWD_LIMIT, f"{name}_backward{params} float64: {got:.2f} ULP > {BWD_LIMIT}"
