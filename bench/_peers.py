"""Peer implementations for bench/run.py: what a user would write instead of fastact.

Every benchmark entry (Entry) has a fastact call and, per peer library, an
implementation with up to three forms:

    ip(a)      forward in place on `a` (ndarray, or a torch tensor sharing the memory)
    oop(a)     forward out of place: returns a new array / tensor
    bip(g, s)  backward in place: writes grad * f'(.) into g (s = x or y, see Entry.bwd_from)
    boop(g, s) backward out of place: returns it

The peers are "the straightforward expression" in each library: NumPy ufunc
chains with out= (so float32 stays float32 and no temporaries are made where
the expression allows), scipy.special where it has the function, numexpr
evaluate(..., out=), and PyTorch's own CPU kernels (in place through the
`_` / inplace=True / out= forms on torch.from_numpy views of the same memory),
jit-compiled JAX, and ONNX Runtime running one-node ONNX models (below).
A peer missing a form is simply not timed in that mode; an Impl with `dtypes`
is timed only for those dtypes.  Nothing here is imported by fastact itself.
"""
import re
import math
import os
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

import numpy as np

import fastact

try:
    import scipy.special as sps
except ImportError:          # pragma: no cover
    sps = None
try:
    import numexpr as ne
except ImportError:          # pragma: no cover
    ne = None
try:
    import torch
    import torch.nn.functional as F
except ImportError:          # pragma: no cover
    torch = None
    F = None

# JAX (jax.jit on the CPU backend): XLA takes its thread count at start-up, so a bench
# process runs JAX at FASTACT_BENCH_JAX_THREADS threads (default 1) and JAX enters only
# the cells of that thread count (JAX_THREADS).
JAX_THREADS = int(os.environ.get("FASTACT_BENCH_JAX_THREADS", "1"))
try:
    if "jax" not in sys.modules:
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        if JAX_THREADS == 1:
            os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
                                       " intra_op_parallelism_threads=1").strip()
    import jax
    import jax.numpy as jnp
    # float64 cells compute in float64 (without x64 JAX silently runs them in float32);
    # float32 arrays stay float32 (Python constants are weakly typed)
    jax.config.update("jax_enable_x64", True)
    if JAX_THREADS == 1 and hasattr(os, "sched_setaffinity"):
        # the XLA flags above leave XLA's CPU client its thread pools (jit calls measured
        # 1.66 CPU seconds per wall second): the client, created by jax.devices(), sizes its
        # pools from the affinity mask and its threads inherit it, so it is created while
        # this process may run on one CPU only; the mask is then restored for the others
        _cpus = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(_cpus)})
        try:
            jax.devices()
            jax.jit(lambda v: v + 1)(np.ones(4, np.float32)).block_until_ready()
        finally:
            os.sched_setaffinity(0, _cpus)
except ImportError:          # pragma: no cover
    jax = jnp = None
try:
    import onnx
    import onnxruntime as ort
    from onnx import helper as onnx_helper, numpy_helper as onnx_numpy_helper
    from onnxruntime.capi import onnxruntime_pybind11_state as _ORT_ERR
except ImportError:          # pragma: no cover
    onnx = ort = onnx_helper = onnx_numpy_helper = _ORT_ERR = None

LIBS = ["fastact", "numpy", "scipy", "numexpr", "torch", "jax", "onnxruntime"]
AVAILABLE = {"fastact": True, "numpy": True, "scipy": sps is not None,
             "numexpr": ne is not None, "torch": torch is not None, "jax": jax is not None,
             "onnxruntime": ort is not None}
# single-threaded whatever the thread setting (their time is reused for "all threads")
SINGLE_THREADED = {"numpy", "scipy"}

SQRT1_2 = 1 / math.sqrt(2)
K_GELU = math.sqrt(2 / math.pi)
SOFTMAX_ROW = 1000   # softmax / log_softmax run over rows of this length


@dataclass
class Impl:
    ip: Optional[Callable] = None
    oop: Optional[Callable] = None
    bip: Optional[Callable] = None
    boop: Optional[Callable] = None
    into: Optional[Callable] = None  # into(a, o): the forward written into a preallocated o
    dtypes: Optional[tuple] = None  # dtype names it runs (None: every dtype)


@dataclass
class Entry:
    label: str                      # row label in the tables
    fa: str                         # fastact name
    kw: dict = field(default_factory=dict)
    peers: Dict[str, Impl] = field(default_factory=dict)
    bwd_from: Optional[str] = None  # None: no backward benchmark; "x" or "y"
    rows: bool = False              # softmax-like: reshape to (-1, SOFTMAX_ROW)

    def fastact_impl(self, nt):
        f = fastact.get(self.fa)
        kw = dict(self.kw)
        bkw = dict(kw)
        if self.bwd_from == "y":
            bip = lambda g, s: f.backward_(g, y=s, n_threads=nt, **bkw)
            boop = lambda g, s: f.backward(g, y=s, n_threads=nt, **bkw)
        else:
            bip = lambda g, s: f.backward_(g, s, n_threads=nt, **bkw)
            boop = lambda g, s: f.backward(g, s, n_threads=nt, **bkw)
        # the gated functions have no in-place form: their output is half of x
        return Impl(ip=(lambda a: f.forward_(a, n_threads=nt, **kw)) if f.forward_ is not None else None,
                    oop=lambda a: f.forward(a, n_threads=nt, **kw), bip=bip, boop=boop,
                    into=lambda a, o: f.forward(a, out=o, n_threads=nt, **kw))

    def reference_forward(self, x):
        """Forward output used as the saved `y` of a from-y backward."""
        return fastact.get(self.fa).forward(x, **self.kw)


# ---------------------------------------------------------------- numexpr helper

def _ne(expr, **consts):
    """numexpr forms of `expr` in the variable `a` (forward) or `g`, `s`.
    Constants are passed as scalars of the array's dtype: a Python float
    literal would make numexpr compute a float32 expression in float64."""
    if ne is None:
        return None

    def env(arr, **arrays):
        d = {k: arr.dtype.type(v) for k, v in consts.items()}
        d.update(arrays)
        return d

    if re.search(r"\bg\b", expr):      # the variable g, not the g of log1p
        return Impl(bip=lambda g, s: ne.evaluate(expr, local_dict=env(g, g=g, s=s), out=g),
                    boop=lambda g, s: ne.evaluate(expr, local_dict=env(g, g=g, s=s)))
    return Impl(ip=lambda a: ne.evaluate(expr, local_dict=env(a, a=a), out=a),
                oop=lambda a: ne.evaluate(expr, local_dict=env(a, a=a)))


def _merge(*impls):
    out = Impl()
    for im in impls:
        if im is None:
            continue
        for k in ("ip", "oop", "bip", "boop", "into"):
            if getattr(im, k) is not None:
                setattr(out, k, getattr(im, k))
    return out


# ------------------------------------------------------------------ NumPy forms

def np_sigmoid_ip(a):
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)


def np_sigmoid(a):
    return 1 / (1 + np.exp(-a))


def np_gelu_tanh_ip(a):
    v = a * a
    v *= a
    v *= 0.044715
    v += a
    v *= K_GELU
    np.tanh(v, out=v)
    v += 1
    a *= 0.5
    a *= v


def np_gelu_tanh(a):
    return 0.5 * a * (1 + np.tanh(K_GELU * (a + 0.044715 * a * a * a)))


def np_silu_ip(a):
    e = np.exp(-a)
    e += 1
    a /= e


def np_softplus_ip(a):
    np.logaddexp(a, 0, out=a)


def np_elu_ip(a):
    np.copyto(a, np.expm1(a), where=a <= 0)


def np_softmax_ip(a):
    a -= a.max(axis=-1, keepdims=True)
    np.exp(a, out=a)
    a /= a.sum(axis=-1, keepdims=True)


def np_softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_log_softmax_ip(a):
    a -= a.max(axis=-1, keepdims=True)
    a -= np.log(np.exp(a).sum(axis=-1, keepdims=True))


def np_log_softmax(a):
    b = a - a.max(axis=-1, keepdims=True)
    return b - np.log(np.exp(b).sum(axis=-1, keepdims=True))


def _np_ip_from_oop(fn):
    """In-place form of an expression: compute, then copy back (what a user does)."""
    def ip(a):
        np.copyto(a, fn(a))
    return ip


def _np(oop, ip=None):
    return Impl(ip=ip or _np_ip_from_oop(oop), oop=oop)


# ---------------------------------------------------------------- torch forms

def _t_out(fn, *args, **kw):
    """torch form with out=: in place (out= the input) and out of place."""
    return Impl(ip=lambda t: fn(t, *args, out=t, **kw), oop=lambda t: fn(t, *args, **kw),
                into=lambda t, o: fn(t, *args, out=o, **kw))


def _t(ip, oop):
    return Impl(ip=ip, oop=oop)


def _t_bwd(op, *args, **kw):
    """aten backward op (the kernel autograd calls for the function): op(grad, s, *args), in
    place through its grad_input= (or out=) overload; without either (mish) out of place only."""
    if "grad_input" in op.overloads():
        bip = lambda g, s: op.grad_input(g, s, *args, grad_input=g, **kw)
    elif "out" in op.overloads():
        bip = lambda g, s: op.out(g, s, *args, out=g, **kw)
    else:
        bip = None
    return Impl(bip=bip, boop=lambda g, s: op(g, s, *args, **kw))


def _t_elu_bwd(alpha, scale, input_scale):
    """aten.elu_backward (elu, selu, celu): grad, alpha, scale, input_scale, is_result, x."""
    op = torch.ops.aten.elu_backward
    return Impl(bip=lambda g, s: op.grad_input(g, alpha, scale, input_scale, False, s, grad_input=g),
                boop=lambda g, s: op(g, alpha, scale, input_scale, False, s))


# ---------------------------------------------------------------- JAX

def _jax_fns():
    """{bench label: the JAX function of one array} (jax.nn where it has the function)."""
    if jax is None:
        return {}
    nn = jax.nn
    h = SOFTMAX_ROW // 2
    return {
        "relu": nn.relu, "relu(max=6)": lambda x: jnp.clip(x, 0, 6), "relu6": nn.relu6,
        "leaky_relu": lambda x: nn.leaky_relu(x, 0.01), "hardtanh": nn.hard_tanh,
        "hard_sigmoid(1/6)": nn.hard_sigmoid, "softsign": nn.soft_sign, "hard_swish": nn.hard_swish,
        "sigmoid": nn.sigmoid, "tanh": jnp.tanh, "softplus": nn.softplus,
        "log_sigmoid": nn.log_sigmoid, "elu": nn.elu, "selu": nn.selu, "celu": nn.celu,
        "gelu(erf)": lambda x: nn.gelu(x, approximate=False),
        "gelu(tanh)": lambda x: nn.gelu(x, approximate=True), "silu": nn.silu,
        "swish(beta=1.5)": lambda x: x * nn.sigmoid(1.5 * x), "mish": nn.mish,
        "tanhshrink": lambda x: x - jnp.tanh(x), "squareplus": nn.squareplus,
        "sparse_plus": nn.sparse_plus,
        "softmax(rows 1000)": lambda x: nn.softmax(x, axis=-1),
        "log_softmax(rows 1000)": lambda x: nn.log_softmax(x, axis=-1),
        "softmin(rows 1000)": lambda x: nn.softmax(-x, axis=-1),
        "softmax(rows 1000) where= scale=1/8":
            lambda x: nn.softmax(x * 0.125, axis=-1, where=jnp.asarray(np.arange(SOFTMAX_ROW) < 750)),
        "glu(rows 1000)": lambda x: x[:, :h] * nn.sigmoid(x[:, h:]),
        "swiglu(rows 1000)": lambda x: nn.silu(x[:, :h]) * x[:, h:],
        "geglu(rows 1000)": lambda x: nn.gelu(x[:, :h], approximate=False) * x[:, h:],
    }


def _jax_impl(label):
    """Impl of jit-compiled JAX: out of place (JAX arrays are immutable), the backward as
    the VJP of the forward at the saved input; every call waits for its result."""
    f = _jax_fns().get(label)
    if f is None:
        return None
    fwd = jax.jit(f)
    bwd = jax.jit(lambda g, s: jax.vjp(f, s)[1](g)[0])
    return Impl(oop=lambda a: fwd(a).block_until_ready(),
                boop=lambda g, s: bwd(g, s).block_until_ready())


# ---------------------------------------------------------------- ONNX Runtime
#
# One-node ONNX models (built in memory with onnx.helper) of the operators whose ONNX
# definition is the entry's function, run by ONNX Runtime's CPU execution provider.
# - One InferenceSession per (entry, dtype, thread count), created on first use and kept;
#   the model's dims are symbolic, so one session serves every size.  SessionOptions:
#   intra_op_num_threads = the cell's thread count (set_threads; 1 runs on the calling
#   thread, without a pool), inter_op_num_threads = 1; "session.intra_op.allow_spinning"
#   is left at its default ("1": after a run the pool's threads spin a while before they
#   sleep, as in a user's session) below ORT_SPIN_MAX_N elements, and set to "0" from
#   there.  The spinning is counted in iterations, so on 2 cores it lasts as long as the
#   next contender competes with it: in the 16M `into` cells, 2 threads, fastact's relu
#   took 7.1 ms beside a spinning ORT session and 3.0 ms beside none, while ORT's own time
#   is the same either way (Relu, 16M: 4.05 ms spinning, 4.03 not); below 8M the settle
#   pause of _timing.race before each block lets the spinning end.
# - Into a preallocated output only (the grid's `into` cells, beside fastact's `out=`),
#   through IOBinding: the input array and a preallocated output are bound, so the output's
#   allocation and first touch are not timed; binding the input costs ~1 us a call.  The output is one
#   buffer per dtype and size shared by the ORT peers: the array returned is overwritten by
#   the next ORT call.  No in-place form (ORT has no documented contract for an output bound
#   to its input's memory) and no backward (ORT's inference build has no gradient kernels).
# - Where ORT has no kernel for an operator and dtype, it runs the operator's ONNX function
#   body (what a user of that model gets): float32 HardSwish as HardSigmoid, Mul; Mish as
#   Softplus, Tanh, Mul; Swish as Mul, Sigmoid, Mul; and most float64 models (Elu, Softsign,
#   ThresholdedRelu, PRelu, Mish, Swish) as their elementary nodes.  float64 is timed
#   (Impl.dtypes) only where ORT runs it and the float64 model is the entry's float64
#   function (OrtOp.f64): not where the constants are ONNX float32 attributes (LeakyRelu's
#   0.01, HardSigmoid's and HardSwish's 1/6, Selu's, Gelu tanh's), not Softplus (no
#   threshold), not Shrink (ORT's float64 kernel rounds x to float32), and not Celu or Gelu
#   erf (no float64 kernel or function).  peer_ulp measures float32 only; in float64 ORT's
#   Sigmoid (and Swish on it) loses relative accuracy for x < 0 and gives 0 below x ~ -37,
#   and Elu's exp(x) - 1 cancels near 0.

ORT_THREADS = 1          # the thread count of the ORT sessions used next (set_threads)
ORT_SPIN_MAX_N = 8_000_000   # from this many elements the sessions do not spin (see above)
ORT_IR_VERSION = 10      # the models' IR version (ORT 1.32 runs it with every opset used here)


@dataclass
class OrtOp:
    op: str
    opset: int = 18              # ONNX opset (ORT warns below 7); each operator here has had
                                 # its current definition since 18 or earlier, Gelu since 20, Swish 24
    attrs: dict = field(default_factory=dict)
    consts: tuple = ()           # constant inputs after x (initializers of x's dtype)
    f64: bool = True             # False: the float64 model is not the float64 function


def _ort_ops():
    """{bench label: the ONNX operator (ONNX's definition checked against the fastact row)}."""
    sl = np.linspace(0.05, 0.5, SOFTMAX_ROW).reshape(1, -1)   # prelu(alpha 1x1000)'s slope
    return {
        "relu": OrtOp("Relu"),
        "relu(max=6)": OrtOp("Clip", consts=(0.0, 6.0)),
        "relu6": OrtOp("Clip", consts=(0.0, 6.0)),
        "leaky_relu": OrtOp("LeakyRelu", attrs={"alpha": 0.01}, f64=False),
        "thresholded_relu": OrtOp("ThresholdedRelu", attrs={"alpha": 1.0}),
        "hardtanh": OrtOp("Clip", consts=(-1.0, 1.0)),
        "hard_sigmoid(1/6)": OrtOp("HardSigmoid", attrs={"alpha": 1 / 6, "beta": 0.5}, f64=False),
        "softsign": OrtOp("Softsign"),
        "hard_swish": OrtOp("HardSwish", f64=False),     # its function body: HardSigmoid(1/6)
        "softshrink": OrtOp("Shrink", attrs={"lambd": 0.5, "bias": 0.5}, f64=False),
        "hardshrink": OrtOp("Shrink", attrs={"lambd": 0.5, "bias": 0.0}, f64=False),
        "shrink(bias=0.25)": OrtOp("Shrink", attrs={"lambd": 0.5, "bias": 0.25}, f64=False),
        "prelu(scalar 0.25)": OrtOp("PRelu", consts=(np.array([0.25]),)),
        "prelu(alpha 1x1000)": OrtOp("PRelu", consts=(sl,)),
        "sigmoid": OrtOp("Sigmoid"),
        "tanh": OrtOp("Tanh"),
        # no threshold in ONNX: log(1 + exp(x)) and x differ by less than half a float32 ulp
        # for x > 20 (fastact's default threshold), by more than a float64 one
        "softplus": OrtOp("Softplus", f64=False),
        "elu": OrtOp("Elu", attrs={"alpha": 1.0}),
        "selu": OrtOp("Selu", attrs={"alpha": 1.6732632423543772, "gamma": 1.0507009873554805}, f64=False),
        "celu": OrtOp("Celu", attrs={"alpha": 1.0}),
        "gelu(erf)": OrtOp("Gelu", 20, attrs={"approximate": "none"}),
        "gelu(tanh)": OrtOp("Gelu", 20, attrs={"approximate": "tanh"}, f64=False),
        "silu": OrtOp("Swish", 24, attrs={"alpha": 1.0}),
        "swish(beta=1.5)": OrtOp("Swish", 24, attrs={"alpha": 1.5}),
        "mish": OrtOp("Mish"),
        "softmax(rows 1000)": OrtOp("Softmax", attrs={"axis": -1}),
        "log_softmax(rows 1000)": OrtOp("LogSoftmax", attrs={"axis": -1}),
    }


def _ort_model(spec, dtype, rank):
    """Serialized one-node model y = op(x, *consts) with symbolic dims."""
    et = onnx_helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    dims = [f"d{i}" for i in range(rank)]
    names = ["x"] + [f"c{i}" for i in range(len(spec.consts))]
    inits = [onnx_numpy_helper.from_array(np.asarray(c, dtype=dtype), nm)
             for nm, c in zip(names[1:], spec.consts)]
    node = onnx_helper.make_node(spec.op, names, ["y"], **spec.attrs)
    graph = onnx_helper.make_graph([node], spec.op, [onnx_helper.make_tensor_value_info("x", et, dims)],
                                   [onnx_helper.make_tensor_value_info("y", et, dims)], initializer=inits)
    model = onnx_helper.make_model(graph, opset_imports=[onnx_helper.make_opsetid("", spec.opset)])
    model.ir_version = ORT_IR_VERSION
    onnx.checker.check_model(model)
    return model.SerializeToString()


_ORT_SESSIONS = {}   # (label, dtype name, threads, spin) -> InferenceSession, or None: ORT cannot run it
_ORT_OUT = {}        # (dtype name, size) -> the preallocated output shared by the ORT peers
_ORT_BOUND = {}      # (label, dtype char, shape, threads) -> (session, IOBinding, output view)


def _ort_session(label, spec, dtype, rank, nt, spin=True):
    key = (label, np.dtype(dtype).name, nt, spin)
    if key not in _ORT_SESSIONS:
        so = ort.SessionOptions()
        so.intra_op_num_threads = nt
        so.inter_op_num_threads = 1
        if not spin:
            so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.log_severity_level = 3    # the failed probe of a missing kernel is not a warning here
        try:
            _ORT_SESSIONS[key] = ort.InferenceSession(_ort_model(spec, dtype, rank), so,
                                                      providers=["CPUExecutionProvider"])
        except (_ORT_ERR.NotImplemented, _ORT_ERR.InvalidGraph):   # no kernel for this dtype
            _ORT_SESSIONS[key] = None
    return _ORT_SESSIONS[key]


class _OrtRun:
    """oop(a) of one entry: bind a (bind_cpu_input: no copy) beside the bound output, run,
    return the output."""

    def __init__(self, label, spec, rank):
        self.label, self.spec, self.rank = label, spec, rank

    def binding(self, key, dtype, shape, nt):
        size = int(np.prod(shape))
        sess = _ort_session(self.label, self.spec, dtype, self.rank, nt, size < ORT_SPIN_MAX_N)
        buf = _ORT_OUT.get((dtype.name, size))
        if buf is None:
            buf = _ORT_OUT[(dtype.name, size)] = np.empty(size, dtype)
        out = buf.reshape(shape)
        io = sess.io_binding()
        io.bind_output("y", "cpu", 0, dtype.type, shape, out.ctypes.data)
        while len(_ORT_BOUND) >= 2:     # an IOBinding keeps its last input alive
            del _ORT_BOUND[next(iter(_ORT_BOUND))]
        b = _ORT_BOUND[key] = (sess, io, out)
        return b

    def __call__(self, a, o=None):
        # o: the grid's preallocated output of an `into` cell; ORT writes into its own
        # bound buffer of the same size instead (binding per call would be timed)
        key = (self.label, a.dtype.char, a.shape, ORT_THREADS)
        b = _ORT_BOUND.get(key)
        if b is None:
            b = self.binding(key, a.dtype, a.shape, ORT_THREADS)
        sess, io, out = b
        io.bind_cpu_input("x", a)
        sess.run_with_iobinding(io)
        return out


def _ort_impl(label, rows):
    """Impl of ONNX Runtime for the entry, with the dtypes ORT runs (None: no such operator)."""
    spec = _ort_ops().get(label)
    if spec is None:
        return None
    rank = 2 if rows else 1
    dts = tuple(d for d in ("float32", "float64")
                if (d == "float32" or spec.f64) and _ort_session(label, spec, d, rank, 1) is not None)
    if not dts:
        return None
    return Impl(into=_OrtRun(label, spec, rank), dtypes=dts)


# ---------------------------------------------------------------- entries

def entries():
    """All benchmark entries, one per function (and variant) of fastact.ACTIVATIONS."""
    E = []
    T = torch is not None
    A = AVAILABLE

    def add(label, fa, kw=None, numpy=None, scipy=None, numexpr=None, torch_=None, bwd_from=None,
            rows=False, jax_=None):
        peers = {}
        if jax_ is None and A["jax"]:
            jax_ = _jax_impl(label)
        ort_ = _ort_impl(label, rows) if A["onnxruntime"] else None
        for lib, im in (("numpy", numpy), ("scipy", scipy), ("numexpr", numexpr), ("torch", torch_),
                        ("jax", jax_), ("onnxruntime", ort_)):
            if im is not None and A[lib]:
                peers[lib] = im
        E.append(Entry(label, fa, kw or {}, peers, bwd_from, rows))

    # ---- cheap (memory-bound) ------------------------------------------------
    add("relu", "relu",
        numpy=_merge(Impl(ip=lambda a: np.maximum(a, 0, out=a), oop=lambda a: np.maximum(a, 0)),
                     Impl(bip=lambda g, s: np.multiply(g, s > 0, out=g), boop=lambda g, s: g * (s > 0))),
        numexpr=_merge(_ne("where(a > 0, a, 0)"), _ne("where(s > 0, g, 0)")),
        torch_=_merge(_t(lambda t: torch.relu_(t), lambda t: torch.relu(t)),
                      _t_bwd(torch.ops.aten.threshold_backward, 0.0) if T else None),
        bwd_from="x")
    add("relu(max=6)", "relu", {"max": 6.0},
        numpy=Impl(ip=lambda a: np.clip(a, 0, 6, out=a), oop=lambda a: np.clip(a, 0, 6)),
        numexpr=_ne("where(a < 0, 0, where(a > m, m, a))", m=6.0),
        # the backward: hardtanh_backward (F.relu6's), 0 at both kinks as fastact; autograd of
        # clamp passes the grad at the bounds
        torch_=_merge(_t(lambda t: torch.clamp_(t, 0, 6), lambda t: torch.clamp(t, 0, 6)),
                      _t_bwd(torch.ops.aten.hardtanh_backward, 0.0, 6.0)) if T else None,
        bwd_from="x")
    add("relu6", "relu6",
        numpy=Impl(ip=lambda a: np.clip(a, 0, 6, out=a), oop=lambda a: np.clip(a, 0, 6)),
        numexpr=_ne("where(a < 0, 0, where(a > m, m, a))", m=6.0),
        torch_=_merge(_t(lambda t: F.relu6(t, inplace=True), lambda t: F.relu6(t)),
                      _t_bwd(torch.ops.aten.hardtanh_backward, 0.0, 6.0)) if T else None,
        bwd_from="x")
    add("leaky_relu", "leaky_relu",
        numpy=Impl(ip=lambda a: np.maximum(a, 0.01 * a, out=a), oop=lambda a: np.maximum(a, 0.01 * a)),
        numexpr=_ne("where(a > 0, a, k * a)", k=0.01),
        torch_=_merge(_t(lambda t: F.leaky_relu_(t, 0.01), lambda t: F.leaky_relu(t, 0.01)),
                      _t_bwd(torch.ops.aten.leaky_relu_backward, 0.01, False)) if T else None,
        bwd_from="x")
    add("thresholded_relu", "thresholded_relu",
        numpy=Impl(ip=lambda a: np.multiply(a, a > 1, out=a), oop=lambda a: a * (a > 1)),
        numexpr=_ne("where(a > 1, a, 0)"),
        torch_=_merge(_t(lambda t: F.threshold_(t, 1.0, 0.0), lambda t: F.threshold(t, 1.0, 0.0)),
                      _t_bwd(torch.ops.aten.threshold_backward, 1.0)) if T else None,
        bwd_from="x")
    add("hardtanh", "hardtanh",
        numpy=Impl(ip=lambda a: np.clip(a, -1, 1, out=a), oop=lambda a: np.clip(a, -1, 1)),
        numexpr=_ne("where(a < -1, -1, where(a > 1, 1, a))"),
        torch_=_merge(_t(lambda t: F.hardtanh_(t), lambda t: F.hardtanh(t)),
                      _t_bwd(torch.ops.aten.hardtanh_backward, -1.0, 1.0)) if T else None,
        bwd_from="x")
    add("linear", "linear")   # identity: no peer does any work
    add("hard_sigmoid(1/6)", "hard_sigmoid", {"slope": 1 / 6, "offset": 0.5},
        numpy=_np(lambda a: np.clip(a / 6 + 0.5, 0, 1)),
        numexpr=_ne("where(a < -3, 0, where(a > 3, 1, a * k + h))", k=1 / 6, h=0.5),
        torch_=_merge(_t(lambda t: F.hardsigmoid(t, inplace=True), lambda t: F.hardsigmoid(t)),
                      _t_bwd(torch.ops.aten.hardsigmoid_backward)) if T else None,
        bwd_from="x")
    add("softsign", "softsign",
        numpy=_np(lambda a: a / (1 + np.abs(a))),
        numexpr=_ne("a / (1 + abs(a))"),
        torch_=_t(lambda t: t.div_(1 + t.abs()), lambda t: F.softsign(t)) if T else None,
        bwd_from="x")
    add("hard_swish", "hard_swish",
        numpy=_np(lambda a: a * np.clip(a + 3, 0, 6) / 6),
        numexpr=_ne("where(a < -3, 0, where(a > 3, a, a * (a + 3) * k))", k=1 / 6),
        torch_=_merge(_t(lambda t: F.hardswish(t, inplace=True), lambda t: F.hardswish(t)),
                      _t_bwd(torch.ops.aten.hardswish_backward)) if T else None,
        bwd_from="x")
    add("softshrink", "softshrink",
        numpy=_np(lambda a: np.where(a > 0.5, a - 0.5, np.where(a < -0.5, a + 0.5, 0)).astype(a.dtype, copy=False)),
        numexpr=_ne("where(a > l, a - l, where(a < -l, a + l, 0))", l=0.5),
        torch_=_merge(_t_out(torch._C._nn.softshrink, 0.5),
                      _t_bwd(torch.ops.aten.softshrink_backward, 0.5)) if T else None,
        bwd_from="x")
    add("hardshrink", "hardshrink",
        numpy=_np(lambda a: a * (np.abs(a) > 0.5)),
        numexpr=_ne("where(abs(a) > l, a, 0)", l=0.5),
        torch_=_merge(_t_out(torch.hardshrink, 0.5),
                      _t_bwd(torch.ops.aten.hardshrink_backward, 0.5)) if T else None,
        bwd_from="x")
    add("shrink(bias=0.25)", "shrink", {"lambd": 0.5, "bias": 0.25},
        numpy=_np(lambda a: np.where(a > 0.5, a - 0.25, np.where(a < -0.5, a + 0.25, 0)).astype(a.dtype, copy=False)),
        numexpr=_ne("where(a > l, a - b, where(a < -l, a + b, 0))", l=0.5, b=0.25),
        bwd_from="x")
    add("sparse_plus", "sparse_plus",
        numpy=_np(lambda a: np.where(a <= -1, 0, np.where(a >= 1, a, (a + 1) ** 2 / 4)).astype(a.dtype, copy=False)),
        numexpr=_ne("where(a <= -1, 0, where(a >= 1, a, (a + 1) * (a + 1) * q))", q=0.25),
        bwd_from="x")
    add("threshold(0.5, -1)", "threshold", {"threshold": 0.5, "value": -1.0},
        numpy=_np(lambda a: np.where(a > 0.5, a, -1.0).astype(a.dtype, copy=False)),
        numexpr=_ne("where(a > t, a, v)", t=0.5, v=-1.0),
        torch_=_merge(_t(lambda t: F.threshold_(t, 0.5, -1.0), lambda t: F.threshold(t, 0.5, -1.0)),
                      _t_bwd(torch.ops.aten.threshold_backward, 0.5)) if T else None,
        bwd_from="x")
    add("prelu(scalar 0.25)", "prelu", {"alpha": 0.25},
        numpy=Impl(ip=lambda a: np.maximum(a, 0.25 * a, out=a), oop=lambda a: np.maximum(a, 0.25 * a)),
        numexpr=_ne("where(a > 0, a, k * a)", k=0.25),
        torch_=_t(lambda t: F.leaky_relu_(t, 0.25),
                  lambda t: F.prelu(t, torch.tensor([0.25], dtype=t.dtype))) if T else None)

    # ---- transcendental (compute-bound) ---------------------------------------
    add("sigmoid", "sigmoid",
        numpy=_merge(Impl(ip=np_sigmoid_ip, oop=np_sigmoid),
                     Impl(bip=lambda g, s: np.multiply(g, s * (1 - s), out=g), boop=lambda g, s: g * s * (1 - s))),
        scipy=Impl(ip=lambda a: sps.expit(a, out=a), oop=lambda a: sps.expit(a)) if sps else None,
        numexpr=_merge(_ne("1 / (1 + exp(-a))"), _ne("g * s * (1 - s)")),
        torch_=_merge(_t(torch.sigmoid_, torch.sigmoid), _t_bwd(torch.ops.aten.sigmoid_backward)) if T else None,
        bwd_from="y")
    add("tanh", "tanh",
        numpy=_merge(Impl(ip=lambda a: np.tanh(a, out=a), oop=np.tanh),
                     Impl(bip=lambda g, s: np.multiply(g, 1 - s * s, out=g), boop=lambda g, s: g * (1 - s * s))),
        numexpr=_merge(_ne("tanh(a)"), _ne("g * (1 - s * s)")),
        torch_=_merge(_t(torch.tanh_, torch.tanh), _t_bwd(torch.ops.aten.tanh_backward)) if T else None,
        bwd_from="y")
    add("softplus", "softplus",
        numpy=_merge(Impl(ip=np_softplus_ip, oop=lambda a: np.logaddexp(a, 0)),
                     Impl(bip=lambda g, s: np.multiply(g, 1 / (1 + np.exp(-s)), out=g),
                          boop=lambda g, s: g / (1 + np.exp(-s)))),
        numexpr=_merge(_ne("where(a > 20, a, log1p(exp(a)))"), _ne("g / (1 + exp(-s))")),
        torch_=_merge(_t_out(torch._C._nn.softplus, 1.0, 20.0),
                      _t_bwd(torch.ops.aten.softplus_backward, 1.0, 20.0)) if T else None,
        bwd_from="x")
    add("log_sigmoid", "log_sigmoid",
        numpy=Impl(ip=lambda a: np.negative(np.logaddexp(0, -a), out=a), oop=lambda a: -np.logaddexp(0, -a)),
        scipy=Impl(ip=lambda a: sps.log_expit(a, out=a), oop=lambda a: sps.log_expit(a)) if sps else None,
        numexpr=_ne("where(a < -20, a, -log1p(exp(-a)))"),
        torch_=_t_out(torch._C._nn.log_sigmoid) if T else None,
        bwd_from="x")
    add("elu", "elu",
        numpy=_merge(Impl(ip=np_elu_ip, oop=lambda a: np.where(a > 0, a, np.expm1(a))),
                     Impl(bip=lambda g, s: np.multiply(g, np.where(s > 0, 1, np.exp(s)), out=g),
                          boop=lambda g, s: g * np.where(s > 0, 1, np.exp(s)))),
        numexpr=_merge(_ne("where(a > 0, a, expm1(a))"), _ne("where(s > 0, g, g * exp(s))")),
        torch_=_merge(_t(lambda t: F.elu_(t), lambda t: F.elu(t)), _t_elu_bwd(1.0, 1.0, 1.0)) if T else None,
        bwd_from="x")
    SELU_A, SELU_S = 1.6732632423543772, 1.0507009873554805
    add("selu", "selu",
        numpy=_np(lambda a: SELU_S * np.where(a > 0, a, SELU_A * np.expm1(a))),
        numexpr=_ne("where(a > 0, s * a, s * al * expm1(a))", s=SELU_S, al=SELU_A),
        torch_=_merge(_t(lambda t: torch.selu_(t), lambda t: torch.selu(t)),
                      _t_elu_bwd(SELU_A, SELU_S, 1.0)) if T else None,
        bwd_from="x")
    add("celu", "celu",
        numpy=_np(lambda a: np.where(a > 0, a, np.expm1(a))),
        numexpr=_ne("where(a > 0, a, expm1(a))"),
        torch_=_merge(_t(lambda t: torch.celu_(t), lambda t: torch.celu(t)),
                      _t_elu_bwd(1.0, 1.0, 1.0)) if T else None,
        bwd_from="x")
    add("gelu(erf)", "gelu", {"approximate": "none"},
        # NumPy has no erf: the NumPy user's expression borrows scipy.special.erf
        scipy=_merge(_np(lambda a: 0.5 * a * (1 + sps.erf(a * SQRT1_2))),
                     Impl(ip=lambda a: np.multiply(a, sps.ndtr(a), out=a))) if sps else None,
        torch_=_merge(_t_out(torch._C._nn.gelu, approximate="none"),
                      _t_bwd(torch.ops.aten.gelu_backward, approximate="none")) if T else None,
        bwd_from="x")
    add("gelu(tanh)", "gelu", {"approximate": "tanh"},
        numpy=_merge(Impl(ip=np_gelu_tanh_ip, oop=np_gelu_tanh),
                     Impl(bip=lambda g, s: np.multiply(g, _np_gelu_tanh_grad(s), out=g),
                          boop=lambda g, s: g * _np_gelu_tanh_grad(s))),
        numexpr=_ne("h * a * (1 + tanh(k * (a + c * a * a * a)))", h=0.5, k=K_GELU, c=0.044715),
        torch_=_merge(_t_out(torch._C._nn.gelu, approximate="tanh"),
                      Impl(bip=lambda g, s: torch.ops.aten.gelu_backward.grad_input(g, s, approximate="tanh", grad_input=g),
                           boop=lambda g, s: torch.ops.aten.gelu_backward(g, s, approximate="tanh"))) if T else None,
        bwd_from="x")
    add("silu", "silu",
        numpy=_merge(Impl(ip=np_silu_ip, oop=lambda a: a / (1 + np.exp(-a))),
                     Impl(bip=lambda g, s: np.multiply(g, _np_silu_grad(s), out=g),
                          boop=lambda g, s: g * _np_silu_grad(s))),
        scipy=Impl(ip=lambda a: np.multiply(a, sps.expit(a), out=a), oop=lambda a: a * sps.expit(a)) if sps else None,
        numexpr=_merge(_ne("a / (1 + exp(-a))"), _ne("g * (1 + s * (1 - 1 / (1 + exp(-s)))) / (1 + exp(-s))")),
        torch_=_merge(_t(lambda t: F.silu(t, inplace=True), F.silu), _t_bwd(torch.ops.aten.silu_backward)) if T else None,
        bwd_from="x")
    add("swish(beta=1.5)", "swish", {"beta": 1.5},
        numpy=_np(lambda a: a / (1 + np.exp(-1.5 * a))),
        scipy=Impl(ip=lambda a: np.multiply(a, sps.expit(1.5 * a), out=a), oop=lambda a: a * sps.expit(1.5 * a)) if sps else None,
        numexpr=_ne("a / (1 + exp(-b * a))", b=1.5),
        torch_=_t(lambda t: t.mul_(torch.sigmoid(1.5 * t)), lambda t: t * torch.sigmoid(1.5 * t)) if T else None,
        bwd_from="x")
    add("mish", "mish",
        numpy=_np(lambda a: a * np.tanh(np.logaddexp(a, 0))),
        numexpr=_ne("a * tanh(where(a > 20, a, log1p(exp(a))))"),
        torch_=_merge(_t(lambda t: F.mish(t, inplace=True), F.mish),
                      _t_bwd(torch.ops.aten.mish_backward)) if T else None,
        bwd_from="x")
    add("tanhshrink", "tanhshrink",
        numpy=Impl(ip=lambda a: np.subtract(a, np.tanh(a), out=a), oop=lambda a: a - np.tanh(a)),
        numexpr=_ne("a - tanh(a)"),
        torch_=_t(lambda t: t.sub_(torch.tanh(t)), F.tanhshrink) if T else None,
        bwd_from="x")
    add("squareplus", "squareplus",
        numpy=_np(lambda a: (a + np.sqrt(a * a + 4)) / 2),
        numexpr=_ne("(a + sqrt(a * a + b)) * h", b=4.0, h=0.5),
        bwd_from="x")
    add("softmax(rows 1000)", "softmax", {"axis": -1},
        numpy=_merge(Impl(ip=np_softmax_ip, oop=np_softmax),
                     Impl(bip=lambda g, s: _np_softmax_bwd_ip(g, s), boop=lambda g, s: _np_softmax_bwd(g, s))),
        scipy=Impl(ip=lambda a: np.copyto(a, sps.softmax(a, axis=-1)), oop=lambda a: sps.softmax(a, axis=-1)) if sps else None,
        torch_=_merge(Impl(ip=lambda t: torch._softmax(t, -1, False, out=t), oop=lambda t: torch.softmax(t, -1)),
                      Impl(boop=lambda g, s: torch.ops.aten._softmax_backward_data(g, s, -1, g.dtype),
                           bip=lambda g, s: torch.ops.aten._softmax_backward_data.out(g, s, -1, g.dtype, grad_input=g))) if T else None,
        bwd_from="y", rows=True)
    add("log_softmax(rows 1000)", "log_softmax", {"axis": -1},
        numpy=Impl(ip=np_log_softmax_ip, oop=np_log_softmax),
        scipy=Impl(ip=lambda a: np.copyto(a, sps.log_softmax(a, axis=-1)),
                   oop=lambda a: sps.log_softmax(a, axis=-1)) if sps else None,
        torch_=Impl(ip=lambda t: torch._log_softmax(t, -1, False, out=t), oop=lambda t: torch.log_softmax(t, -1)) if T else None,
        rows=True)
    add("softmin(rows 1000)", "softmin", {"axis": -1},
        numpy=Impl(ip=lambda a: np_softmax_ip(np.negative(a, out=a)), oop=lambda a: np_softmax(-a)),
        torch_=Impl(ip=lambda t: torch._softmax(t.neg_(), -1, False, out=t),
                    oop=lambda t: F.softmin(t, -1)) if T else None,
        rows=True)
    # attention's softmax step: a key mask (the same for every row) and 1/sqrt(64)
    keep = np.arange(1000) < 750
    keep_t = torch.from_numpy(~keep) if T else None
    add("softmax(rows 1000) where= scale=1/8", "softmax", {"axis": -1, "where": keep, "scale": 0.125},
        numpy=Impl(ip=lambda a: np_softmax_ip(np.multiply(np.where(keep, a, -np.inf), 0.125, out=a)),
                   oop=lambda a: np_softmax(np.where(keep, a, -np.inf) * 0.125)),
        torch_=Impl(ip=lambda t: torch._softmax(t.mul_(0.125).masked_fill_(keep_t, float("-inf")), -1, False, out=t),
                    oop=lambda t: torch.softmax((t * 0.125).masked_fill_(keep_t, float("-inf")), -1)) if T else None,
        rows=True)
    add("sparsemax(rows 1000)", "sparsemax", {"axis": -1}, rows=True)   # no NumPy/PyTorch op
    # prelu with a broadcast slope (ONNX PRelu): one slope per column, alpha of shape (1, 1000)
    slope = np.linspace(0.05, 0.5, SOFTMAX_ROW).reshape(1, -1)
    slope_t = torch.from_numpy(slope.astype(np.float32)) if T else None
    add("prelu(alpha 1x1000)", "prelu", {"alpha": slope},
        numpy=Impl(ip=lambda a: np.copyto(a, np.where(a > 0, a, slope.astype(a.dtype) * a)),
                   oop=lambda a: np.where(a > 0, a, slope.astype(a.dtype) * a)),
        torch_=Impl(oop=lambda t: torch.where(t > 0, t, slope_t.to(t.dtype) * t)) if T else None,
        rows=True)
    # gated, out of place (output: half of each row)
    h = SOFTMAX_ROW // 2
    add("glu(rows 1000)", "glu",
        numpy=Impl(oop=lambda a: a[:, :h] / (1 + np.exp(-a[:, h:]))),
        torch_=Impl(oop=lambda t: F.glu(t, -1)) if T else None, rows=True)
    add("swiglu(rows 1000)", "swiglu",
        numpy=Impl(oop=lambda a: a[:, :h] / (1 + np.exp(-a[:, :h])) * a[:, h:]),
        torch_=Impl(oop=lambda t: F.silu(t[:, :h]) * t[:, h:]) if T else None, rows=True)
    add("swiglu GPT-OSS(rows 1000)", "swiglu", {"alpha": 1.702, "limit": 7.0, "bias": 1.0, "interleaved": True},
        numpy=Impl(oop=lambda a: _np_gptoss(a)),
        torch_=Impl(oop=lambda t: _t_gptoss(t)) if T else None, rows=True)
    add("geglu(rows 1000)", "geglu",
        torch_=Impl(oop=lambda t: F.gelu(t[:, :h]) * t[:, h:]) if T else None, rows=True)
    return E


def _np_gptoss(x):
    a, b = np.minimum(x[:, 0::2], 7.0), np.clip(x[:, 1::2], -7.0, 7.0)
    return a / (1 + np.exp(-1.702 * a)) * (b + 1)


def _t_gptoss(t):
    a, b = t[:, 0::2].clamp(max=7.0), t[:, 1::2].clamp(-7.0, 7.0)
    return a * torch.sigmoid(1.702 * a) * (b + 1)


def _np_gelu_tanh_grad(x):
    x2 = x * x
    t = np.tanh(K_GELU * (x + 0.044715 * x2 * x))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * K_GELU * (1 + 3 * 0.044715 * x2)


def _np_silu_grad(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 + x * (1 - s))


def _np_softmax_bwd(g, y):
    return y * (g - (g * y).sum(axis=-1, keepdims=True))


def _np_softmax_bwd_ip(g, y):
    d = (g * y).sum(axis=-1, keepdims=True)
    g -= d
    g *= y


def set_threads(n):
    """Thread count of the multi-threaded peers (JAX's is fixed at start-up: JAX_THREADS)."""
    global ORT_THREADS
    ORT_THREADS = n
    if torch is not None:
        torch.set_num_threads(n)
    if ne is not None:
        ne.set_num_threads(n)


def versions():
    v = {"numpy": np.__version__}
    if sps is not None:
        import scipy
        v["scipy"] = scipy.__version__
    if ne is not None:
        v["numexpr"] = ne.__version__
    if torch is not None:
        v["torch"] = f"{torch.__version__} (CPU capability {torch.backends.cpu.get_cpu_capability()})"
    if jax is not None:
        v["jax"] = f"{jax.__version__} ({JAX_THREADS} thread(s))"
    if ort is not None:
        v["onnxruntime"] = f"{ort.__version__} (CPU execution provider; onnx {onnx.__version__})"
    return v
