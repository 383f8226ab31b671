"""Duck arrays through the out-of-place forms (dask stays lazy, xarray and
pandas keep their labels) and fastact inside a dask.distributed cluster.
Needs the `dask` extra (dask[distributed], xarray, pandas)."""
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastact

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
xr = pytest.importorskip("xarray")
pd = pytest.importorskip("pandas")
distributed = pytest.importorskip("dask.distributed")
cloudpickle = pytest.importorskip("cloudpickle")


def _raising_scheduler(*args, **kwargs):
    raise AssertionError("the graph was computed")


@pytest.fixture
def no_compute():
    """Any compute inside the block fails the test: the calls must stay lazy."""
    with dask.config.set(scheduler=_raising_scheduler):
        yield


def _data(shape, seed=0, dtype=np.float32):
    return (np.random.default_rng(seed).standard_normal(shape) * 3).astype(dtype)


# ------------------------------------------------------------------ dask, lazily

def _lazy(fn, *args, **kw):
    with dask.config.set(scheduler=_raising_scheduler):
        r = fn(*args, **kw)
    return r


def test_raising_scheduler_catches_a_compute():
    x = da.from_array(_data(8), chunks=4)
    with pytest.raises(AssertionError, match="computed"):
        _lazy(lambda a: np.asarray(a), x)


@pytest.mark.parametrize("name,params", [("gelu", {}), ("relu", {"max": 6.0}), ("silu", {}),
                                         ("leaky_relu", {"alpha": 0.1}), ("softplus", {"beta": 2.0})])
def test_dask_elementwise_is_lazy_and_exact(name, params):
    xn = _data((37, 50))
    x = da.from_array(xn, chunks=(10, 16))
    fn = getattr(fastact, name)
    y = _lazy(fn, x, **params)
    assert isinstance(y, da.Array) and y.dtype == np.float32 and y.chunks == x.chunks
    np.testing.assert_array_equal(y.compute(), fn(xn, **params))
    g = _data((37, 50), 1)
    gd = da.from_array(g, chunks=(7, 25))       # other chunks than x: aligned
    b = _lazy(getattr(fastact, name + "_backward"), gd, x, **params)
    assert isinstance(b, da.Array)
    np.testing.assert_array_equal(b.compute(), getattr(fastact, name + "_backward")(g, xn, **params))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin", "sparsemax"])
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_dask_rows_split_across_chunks_equal_numpy(name, axis):
    xn = _data((6, 40, 33), 2, np.float64)
    x = da.from_array(xn, chunks=(4, 9, 10))    # every axis split
    fn = getattr(fastact, name)
    y = _lazy(fn, x, axis=axis)
    np.testing.assert_array_equal(y.compute(), fn(xn, axis=axis))
    g = _data(xn.shape, 3, np.float64)
    yn = fn(xn, axis=axis)
    bw = getattr(fastact, name + "_backward")
    b = _lazy(bw, da.from_array(g, chunks=(3, 20, 11)), y=da.from_array(yn, chunks=(2, 7, 33)), axis=axis)
    np.testing.assert_array_equal(b.compute(), bw(g, y=yn, axis=axis))


def test_dask_softmax_tuple_axis_mask_and_scale():
    xn = _data((4, 12, 12), 4)
    mask = np.tril(np.ones((12, 12), bool))
    x = da.from_array(xn, chunks=(2, 5, 5))
    y = _lazy(fastact.softmax, x, axis=-1, where=mask, scale=0.125)
    np.testing.assert_array_equal(y.compute(), fastact.softmax(xn, axis=-1, where=mask, scale=0.125))
    y = _lazy(fastact.log_softmax, x, axis=(1, 2), where=da.from_array(mask, chunks=6))
    np.testing.assert_array_equal(y.compute(), fastact.log_softmax(xn, axis=(1, 2), where=mask))


@pytest.mark.parametrize("name,params", [("glu", {}), ("geglu", {"approximate": "tanh"}),
                                         ("swiglu", {"alpha": 1.702, "limit": 7.0, "bias": 1.0,
                                                     "interleaved": True})])
@pytest.mark.parametrize("axis", [-1, 0])
def test_dask_gated_split_axis(name, params, axis):
    xn = _data((10, 24), 5)
    x = da.from_array(xn, chunks=(3, 5))        # the halves' boundary inside a chunk and across
    fn = getattr(fastact, name)
    y = _lazy(fn, x, axis=axis, **params)
    ref = fn(xn, axis=axis, **params)
    assert y.shape == ref.shape
    np.testing.assert_array_equal(y.compute(), ref)
    g = _data(ref.shape, 6)
    bw = getattr(fastact, name + "_backward")
    b = _lazy(bw, da.from_array(g, chunks=2), x, axis=axis, **params)
    assert b.shape == xn.shape
    np.testing.assert_array_equal(b.compute(), bw(g, xn, axis=axis, **params))


@pytest.mark.parametrize("alpha,axis", [(0.2, 1), (np.array([0.1, 0.2, 0.3, 0.4], np.float32), 1),
                                        (np.linspace(0, 1, 10, dtype=np.float32).reshape(10, 1), 1)])
def test_dask_prelu(alpha, axis):
    xn = _data((3, 4, 10, 6), 7)
    x = da.from_array(xn, chunks=(2, 3, 4, 4))
    y = _lazy(fastact.prelu, x, alpha, axis=axis)
    np.testing.assert_array_equal(y.compute(), fastact.prelu(xn, alpha, axis=axis))
    g = _data(xn.shape, 8)
    gx, ga = _lazy(fastact.prelu_backward, da.from_array(g, chunks=2), x, alpha=alpha, axis=axis)
    rx, ra = fastact.prelu_backward(g, xn, alpha=alpha, axis=axis)
    np.testing.assert_array_equal(gx.compute(), rx)
    ga = ga.compute()
    assert ga.shape == np.shape(ra) and ga.dtype == ra.dtype
    np.testing.assert_allclose(ga, ra, rtol=1e-5, atol=1e-5)     # per-block partial sums


def test_dask_bias_act_dense_layer():
    xn, W = _data((64, 16), 9), _data((16, 24), 10) / 4
    b = _data(24, 11)
    x = da.from_array(xn, chunks=(16, 8))
    z = x @ W
    h = _lazy(fastact.bias_act, z, b, "gelu")
    zn = z.compute()
    np.testing.assert_array_equal(h.compute(), fastact.bias_act(zn, b, "gelu"))
    g = _data(zn.shape, 12)
    gx, gb = _lazy(fastact.bias_act_backward, da.from_array(g, chunks=(8, 6)), z, bias=b, act="gelu")
    rx, rb = fastact.bias_act_backward(g, zn, bias=b, act="gelu")
    np.testing.assert_array_equal(gx.compute(), rx)
    np.testing.assert_allclose(gb.compute(), rb, rtol=1e-6)


def test_dask_bad_parameters_raise_at_call_time(no_compute):
    x = da.from_array(_data((6, 8)), chunks=3)
    with pytest.raises(ValueError, match="hardtanh"):
        fastact.hardtanh(x, min=2.0, max=1.0)
    with pytest.raises(ValueError, match="softmax.*axis"):
        fastact.softmax(x, axis=2)
    with pytest.raises(ValueError, match="glu.*odd"):
        fastact.glu(da.from_array(_data((6, 7)), chunks=3))
    with pytest.raises(ValueError, match="bias"):
        fastact.bias_act(x, np.zeros(5, np.float32), "relu")
    with pytest.raises(ValueError, match="relu_backward"):
        fastact.relu_backward(x, da.from_array(_data((6, 9)), chunks=3))
    with pytest.raises(TypeError, match="gelu"):
        fastact.gelu(da.from_array(np.arange(6)))
    with pytest.raises(ValueError, match="where|mask"):
        fastact.softmax(x, where=np.ones((5, 8), bool))
    with pytest.raises(ValueError, match="prelu.*channels"):
        fastact.prelu(x, np.ones(3, np.float32), axis=1)
    with pytest.raises(TypeError, match="unexpected|dim"):
        fastact.softmax(x, dim=1)


def test_dask_in_place_forms_name_the_out_of_place_form():
    x = da.from_array(_data((4, 4)), chunks=2)
    for call, name in [(lambda: fastact.relu_(x), "relu("), (lambda: fastact.softmax_(x), "softmax("),
                       (lambda: fastact.gelu_backward_(x.compute(), x), "gelu_backward("),
                       (lambda: fastact.bias_act_(x, np.zeros(4, np.float32), "relu"), "bias_act(")]:
        with pytest.raises(TypeError, match=r"x is a Array.*in place; use " + name.replace("(", r"\(")):
            call()
    with pytest.raises(TypeError, match="out="):
        fastact.relu(x, out=np.empty((4, 4), np.float32))


# ------------------------------------------------------------------ xarray, pandas

def _da(shape=(3, 8)):
    return xr.DataArray(_data(shape, 13), dims=("batch", "feat"),
                        coords={"batch": [10, 20, 30], "feat": np.arange(shape[1]) * 2.0, "tag": ("batch", list("abc"))},
                        attrs={"units": "V"}, name="h")


@pytest.mark.parametrize("call", [lambda a: fastact.gelu(a), lambda a: fastact.relu(a, max=1.0),
                                  lambda a: fastact.softmax(a, axis=0), lambda a: fastact.sparsemax(a),
                                  lambda a: fastact.prelu(a, 0.1),
                                  lambda a: fastact.bias_act(a, np.ones(8, np.float32), "silu")])
def test_xarray_keeps_dims_coords_attrs_name(call):
    a = _da()
    r = call(a)
    assert isinstance(r, xr.DataArray)
    assert r.dims == a.dims and r.name == "h" and r.attrs == {"units": "V"}
    assert r.coords.identical(a.coords)
    np.testing.assert_array_equal(r.values, call(a.values))


def test_xarray_backward_gated_and_dask_backed():
    a = _da()
    g = a.copy(data=_data(a.shape, 14))
    r = fastact.tanh_backward(g, y=a)
    assert isinstance(r, xr.DataArray) and r.dims == a.dims and r.coords.identical(a.coords)
    np.testing.assert_array_equal(r.values, fastact.tanh_backward(g.values, y=a.values))
    h = fastact.glu(a)                           # the halved dim keeps no coordinate
    assert h.dims == a.dims and h.shape == (3, 4) and "feat" not in h.coords and "tag" in h.coords
    np.testing.assert_array_equal(h.values, fastact.glu(a.values))
    lazy = a.chunk({"batch": 1, "feat": 3})
    with dask.config.set(scheduler=_raising_scheduler):
        r = fastact.softmax(lazy)
    assert isinstance(r.data, da.Array) and r.coords.identical(a.coords)
    np.testing.assert_array_equal(r.values, fastact.softmax(a.values))


def test_pandas_keeps_index_columns_name():
    s = pd.Series(_data(5, 15), index=list("vwxyz"), name="z")
    r = fastact.sigmoid(s)
    assert isinstance(r, pd.Series) and r.name == "z" and list(r.index) == list("vwxyz")
    np.testing.assert_array_equal(r.to_numpy(), fastact.sigmoid(s.to_numpy()))
    df = pd.DataFrame(_data((4, 6), 16, np.float64), index=[3, 1, 4, 1], columns=list("abcdef"))
    for fn in (fastact.elu, lambda d: fastact.log_softmax(d, axis=1),
               lambda d: fastact.bias_act(d, np.arange(6.0), "relu")):
        r = fn(df)
        assert isinstance(r, pd.DataFrame)
        assert r.index.equals(df.index) and r.columns.equals(df.columns)
        np.testing.assert_array_equal(r.to_numpy(), fn(df.to_numpy()))
    gx = fastact.mish_backward(df, df)
    assert isinstance(gx, pd.DataFrame) and gx.columns.equals(df.columns)
    gx, gb = fastact.bias_act_backward(df, df, bias=np.zeros(6), act="gelu")
    assert isinstance(gx, pd.DataFrame) and isinstance(gb, np.ndarray)
    h = fastact.glu(df, axis=1)
    assert h.shape == (4, 3) and h.index.equals(df.index)


def test_pandas_and_xarray_in_place_raise():
    s = pd.Series(_data(4, 17))
    with pytest.raises(TypeError, match=r"relu_: x is a Series.*use relu\("):
        fastact.relu_(s)
    with pytest.raises(TypeError, match=r"use softmax\("):
        fastact.softmax_(_da())
    with pytest.raises(TypeError, match="gelu"):
        fastact.gelu(pd.DataFrame({"a": [1.0], "b": ["x"]}))


def test_import_fastact_does_not_import_dask_xarray_pandas(tmp_path):
    code = textwrap.dedent("""
        import sys, numpy as np, fastact
        fastact.relu(np.ones(4, np.float32)); fastact.relu([1.0, -1.0])
        try:
            fastact.relu_(object())
        except TypeError:
            pass
        bad = sorted(m for m in ("dask", "xarray", "pandas") if m in sys.modules)
        assert not bad, bad
    """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)


# ------------------------------------------------------------------ pickling, distributed

@pytest.mark.parametrize("dumps", [pickle.dumps, cloudpickle.dumps], ids=["pickle", "cloudpickle"])
def test_functions_pickle(dumps):
    x = _data(9, 18)
    for fn in (fastact.gelu, fastact.softmax, fastact.bias_act, fastact.relu_, fastact.glu_backward):
        assert pickle.loads(dumps(fn)) is fn
    f = pickle.loads(dumps(fastact.get("gelu")))
    np.testing.assert_array_equal(f.forward(x), fastact.gelu(x))


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as cluster, \
            distributed.Client(cluster, set_as_default=False) as c:    # the other tests keep dask's threads
        yield c


def test_distributed_gelu_softmax_dense_layer(client, variant):
    client.run(fastact._dispatch.use, variant)     # the workers run the kernels under test
    xn = _data((96, 32), 19)
    W, b = _data((32, 48), 20) / 6, _data(48, 21)
    x = da.from_array(xn, chunks=(24, 16))
    y_gelu, y_soft, h = client.gather(client.compute([fastact.gelu(x), fastact.softmax(x, axis=-1),
                                                      fastact.bias_act(x @ W, b, "gelu")]))
    np.testing.assert_array_equal(y_gelu, fastact.gelu(xn))
    np.testing.assert_array_equal(y_soft, fastact.softmax(xn, axis=-1))
    zn = client.compute(x @ W).result()      # dask's matmul sums per block: compare on its own product
    np.testing.assert_array_equal(h, fastact.bias_act(zn, b, "gelu"))
    np.testing.assert_allclose(h, fastact.reference.gelu(xn.astype(np.float64) @ W + b), rtol=1e-3, atol=1e-4)


def test_distributed_worker_thread_budget(client):
    # the nanny starts each worker with OMP_NUM_THREADS=1 (distributed's pre-spawn
    # environment for threads_per_worker=1): fastact's default is that budget
    # (functions of fastact and the standard library only: the workers cannot
    # import this test module, which pytest loads by path)
    res = client.gather([client.submit(fastact.get_num_threads, pure=False) for _ in range(4)], errors="raise")
    assert res == [1, 1, 1, 1], res
    info = client.run(os.environ.get, "OMP_NUM_THREADS")
    assert sorted(info.values()) == ["1", "1"], info


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_distributed_worker_forked_after_a_parallel_call(tmp_path, variant):
    # GNU OpenMP cannot start a team in a child forked after its parent ran one
    # (GCC bug 58378): a worker process forked ("fork" start method) by a client
    # that has called fastact on 2 threads must compute, not hang.  Its own
    # process, under a timeout, so that a hang fails this test.
    code = textwrap.dedent("""
        import numpy as np, dask, dask.array as da, fastact
        from dask.distributed import LocalCluster, Client
        if __name__ == "__main__":
            xn = np.random.default_rng(0).standard_normal((1 << 20,)).astype(np.float32)
            ref = fastact.gelu(xn, n_threads=2)            # the parent runs a parallel region
            with dask.config.set({"distributed.worker.multiprocessing-method": "fork"}), \\
                    LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                 dashboard_address=None) as cluster, Client(cluster) as c:
                pids = c.run(__import__("os").getpid)
                y = c.compute(fastact.gelu(da.from_array(xn, chunks=1 << 19))).result(timeout=60)
                n = c.submit(fastact.get_num_threads, pure=False).result(timeout=60)
            assert __import__("os").getpid() not in pids.values()
            assert np.array_equal(y, ref)
            print("ok", n)
    """)
    script = tmp_path / "forked_worker.py"
    script.write_text(code)
    env = dict(os.environ, PYTHONWARNINGS="ignore", FASTACT_CPU=variant)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                       cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    # a forked worker runs fastact on one thread (documented), whatever its budget
    assert r.stdout.split() == ["ok", "1"], r.stdout
