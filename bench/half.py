#!/usr/bin/env python
"""float16 and bfloat16 against float32: the element-wise half loops
(src/loops/half.h) convert in registers inside the kernels; softmax, the
gated functions, bias_act and prelu are staged by the front in blocks of
rows of at most 4096 float32 elements (src/front/halfrows.pxi).  Target:
gelu_ on 1M (2**20) float16 at most 1.5x the float32 time, one thread.

    python bench/half.py                  # element-wise and row-staged functions, 1M, 1 thread
    python bench/half.py --funcs gelu --n 16e6 --trials 7
    python bench/half.py --long           # long float16 rows: staged whole against in pieces
    python bench/half.py --tall           # softmax over axis 0 of 8K+ rows: pieces of rows

The row-staged functions run on (n/1024, 1024): softmax_ and its backward
from y, glu out of place (into out=) and its backward, bias_act_ (gelu) and
prelu_ with one slope per column.

Each trial is one interleaved race (_timing.race) of every dtype on the same
values; the reported time and ratio are the medians over the trials, with the
range of the trials beside them.  "staged" is what a half array cost before:
a full-size float32 copy, the float32 kernel, a full-size rounding back.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402

import fastact  # noqa: E402
from fastact._arrays import _staged_np, _store_np  # noqa: E402
from _timing import Contender, make_input, race  # noqa: E402

try:
    import ml_dtypes
    BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:     # pragma: no cover
    BF16 = None

TARGET = 1.5


ROW = 1024
# name: call(a, x, out) on (n/ROW, ROW) arrays of one dtype; a is refilled
# before every call, x is the same values, out an array of glu's output shape
ROWWISE = {
    "softmax": lambda a, x, o: fastact.softmax_(a, n_threads=1),
    "softmax_backward": lambda a, x, o: fastact.softmax_backward_(a, y=x, n_threads=1),
    "glu": lambda a, x, o: fastact.glu(x, out=o, n_threads=1),
    "glu_backward": lambda a, x, o: fastact.glu_backward(o, x, n_threads=1),
    "bias_act": lambda a, x, o: fastact.bias_act_(a, BIAS[a.dtype], act="gelu", n_threads=1),
    "prelu": lambda a, x, o: fastact.prelu_(a, ALPHA[a.dtype], axis=1, n_threads=1),
    # one row of n: float16 / bfloat16 rows this long go in pieces (src/front/smlong.pxi)
    "softmax1d": lambda a, x, o: fastact.softmax_(a.reshape(-1), n_threads=1),
    "log_softmax1d": lambda a, x, o: fastact.log_softmax_(a.reshape(-1), n_threads=1),
    "softmax1d_backward": lambda a, x, o: fastact.softmax_backward_(a.reshape(-1), y=x.reshape(-1),
                                                                    n_threads=1),
    "log_softmax1d_backward": lambda a, x, o: fastact.log_softmax_backward_(a.reshape(-1), x.reshape(-1),
                                                                            n_threads=1),
}
BIAS, ALPHA = {}, {}
# the arguments each call reads (a, x, o)
STAGED_INPUTS = {"softmax": "a", "softmax_backward": "ax", "glu": "x", "glu_backward": "xo",
                 "bias_act": "a", "prelu": "a", "softmax1d": "a", "log_softmax1d": "a",
                 "softmax1d_backward": "ax", "log_softmax1d_backward": "ax"}

# --long: float16 softmax rows of these lengths (n elements in all), staged
# whole against in pieces, over float32 (the thresholds _sml_min of
# src/front/smlong.pxi), by the pieces' extra exp passes
LONG_ROWS = (32768, 65536, 131072, 262144, 524288, 1048576)
LONG_FORMS = {
    "log_softmax_ (0)": lambda a, x: fastact.log_softmax_(a, n_threads=1),
    "softmax_backward_ y (0)": lambda a, x: fastact.softmax_backward_(a, y=x, n_threads=1),
    "log_softmax_backward_ x (0)": lambda a, x: fastact.log_softmax_backward_(a, x, n_threads=1),
    "softmax_ (1)": lambda a, x: fastact.softmax_(a, n_threads=1),
    "softmax_backward_ x (2)": lambda a, x: fastact.softmax_backward_(a, x, n_threads=1),
}


def long_rows(n, trials):
    """Per row length and form: median over trials of the float16 time over
    float32, staged whole and in pieces (one race per trial)."""
    mins, piece = fastact._front.sml_tune()
    print("float16 over float32, rows staged whole -> in pieces (median of trials):")
    try:
        for L in LONG_ROWS:
            src32 = make_input(n, np.float32).reshape(-1, L) / 3
            cells = []
            for form, f in LONG_FORMS.items():
                x32, x16 = src32.copy(), src32.astype(np.float16)
                if "y" in form.split():
                    x32 = fastact.softmax(x32)
                    x16 = x32.astype(np.float16)
                r = {"whole": [], "pieces": []}
                for _ in range(trials):
                    a32 = src32.copy()
                    cs = [Contender("float32", lambda a=a32, x=x32: f(a, x), lambda a=a32: np.copyto(a, src32))]
                    for label, m in (("whole", (1 << 62,) * 3), ("pieces", (0, 0, 0))):
                        a = x16.copy()

                        def call(a=a, m=m):
                            fastact._front.sml_tune(m)
                            f(a, x16)
                        cs.append(Contender(label, call, lambda a=a: np.copyto(a, x16)))
                    t = race(cs, budget=0.1, min_reps=5)
                    for k in r:
                        r[k].append(t[k] / t["float32"])
                cells.append(f"{form} {np.median(r['whole']):.2f} -> {np.median(r['pieces']):.2f}")
            print(f"  {L:>8}: " + " | ".join(cells), flush=True)
    finally:
        fastact._front.sml_tune(mins)


# --tall: float16 softmax over axis 0 of these shapes (strips of more than
# 4096 rows, src/front/smlong.pxi), in pieces of TALL_PIECES rows, and staged
# whole (a float32 copy, fastact's conversions), over float32
TALL_SHAPES = ((8192, 64), (8192, 1024), (16384, 1024))
TALL_PIECES = (256, 512, 2048)
TALL_FORMS = {
    "softmax_": lambda a, x: fastact.softmax_(a, axis=0, n_threads=1),
    "log_softmax_backward_ x": lambda a, x: fastact.log_softmax_backward_(a, x, axis=0, n_threads=1),
}


def tall_strips(trials):
    """Per shape and form: median over trials of the float16 time over
    float32 in pieces of each size and staged whole (one race per trial)."""
    old = fastact._front.smt_tune()
    print("float16 over float32, softmax over axis 0 (median [min-max] of trials):")
    try:
        for shape in TALL_SHAPES:
            src32 = make_input(int(np.prod(shape)), np.float32).reshape(shape) / 3
            x16 = src32.astype(np.float16)
            for form, f in TALL_FORMS.items():
                r = {}
                for _ in range(trials):
                    a32 = src32.copy()
                    cs = [Contender("float32", lambda a=a32: f(a, src32), lambda a=a32: np.copyto(a, src32))]
                    for rows in TALL_PIECES:
                        a = x16.copy()

                        def call(a=a, rows=rows):
                            fastact._front.smt_tune(rows)
                            f(a, x16)
                        cs.append(Contender(f"pieces {rows}", call, lambda a=a: np.copyto(a, x16)))
                    a = x16.copy()

                    def staged(a=a, bwd="backward" in form):
                        # the path before tall strips: a float32 copy through
                        # fastact's own conversions (NumPy's rounding of
                        # float16 subnormals alone takes ~90 ms per 1M)
                        t = np.empty(a.shape, np.float32)
                        fastact._front.half_convert(1, a.view(np.uint16), t)
                        if bwd:
                            u = np.empty(a.shape, np.float32)
                            fastact._front.half_convert(1, x16.view(np.uint16), u)
                        f(t, u if bwd else None)
                        fastact._front.half_convert(1, t, a.view(np.uint16))
                    cs.append(Contender("staged", staged, lambda a=a: np.copyto(a, x16)))
                    t = race(cs, budget=0.2, min_reps=5)
                    for k in t:
                        if k != "float32":
                            r.setdefault(k, []).append(t[k] / t["float32"])
                cells = [f"{k} x{np.median(v):.2f} [{min(v):.2f}-{max(v):.2f}]" for k, v in r.items()]
                print(f"  {str(shape):>13} {form}: " + " | ".join(cells), flush=True)
    finally:
        fastact._front.smt_tune(old)


def rowwise_contenders(name, n):
    src32 = make_input(n, np.float32).reshape(-1, ROW) / 3
    out = []
    for label, dt in _dtypes():
        src = src32.astype(dt)
        a, x, o = src.copy(), src.copy(), src[:, :ROW // 2].copy()
        BIAS[a.dtype] = np.linspace(-1, 1, ROW).astype(dt)
        ALPHA[a.dtype] = np.linspace(0, 0.5, ROW).astype(dt)

        def prep(a=a, src=src):
            np.copyto(a, src)
        out.append(Contender(label, lambda a=a, x=x, o=o: ROWWISE[name](a, x, o), prep))
        if label == "float16":
            s16 = (a.copy(), x, o, src)

    def staged(a, x, o):
        # what the whole-array staging converted: the call's inputs (out=
        # was a new float32 result, rounded into it)
        use = STAGED_INPUTS[name]
        r = ROWWISE[name](*(_staged_np(v) if k in use else np.empty(v.shape, np.float32)
                            for k, v in zip("axo", (a, x, o))))
        with np.errstate(over="ignore"):        # a is not refilled: repeated calls may overflow it
            _store_np(a if r.size == a.size else o, r.reshape(a.shape if r.size == a.size else o.shape))
    out.append(Contender("float16 staged", lambda: staged(*s16[:3]), lambda: np.copyto(s16[0], s16[3])))
    return out


def _dtypes():
    dtypes = [("float32", np.dtype(np.float32)), ("float16", np.dtype(np.float16))]
    if BF16 is not None:
        dtypes.append(("bfloat16", BF16))
    return dtypes


def _torch_inplace(name):
    """PyTorch's in-place forward of `name` on a tensor (gelu: out of place, it has no
    in-place form), or None"""
    try:
        import torch
    except ImportError:
        return None
    F = torch.nn.functional
    return {"relu": torch.relu_, "sigmoid": torch.sigmoid_, "tanh": torch.tanh_,
            "silu": lambda t: F.silu(t, inplace=True), "gelu": F.gelu}.get(name)


def contenders(name, n, backward, peers=False):
    if name + ("_backward" if backward else "") in ROWWISE:
        return rowwise_contenders(name + ("_backward" if backward else ""), n)
    f = fastact.get(name)
    src32 = make_input(n, np.float32)
    out = []
    for label, dt in _dtypes():
        src = src32.astype(dt)
        a = src.copy()
        x = src.copy()

        def prep(a=a, src=src):
            np.copyto(a, src)
        if backward:
            call = (lambda a=a, x=x: f.backward_(a, x, n_threads=1))
        else:
            call = (lambda a=a: f.forward_(a, n_threads=1))
        out.append(Contender(label, call, prep))
    if not backward:
        a16 = src32.astype(np.float16)
        s16 = a16.copy()

        def staged(a=a16):
            t = _staged_np(a)
            f.forward_(t, n_threads=1)
            _store_np(a, t)
        out.append(Contender("float16 staged", staged, lambda a=a16, s=s16: np.copyto(a, s)))
        tf = _torch_inplace(name) if peers else None
        if tf is not None:
            import torch
            torch.set_num_threads(1)
            for label, tdt in (("float16", torch.float16), ("bfloat16", torch.bfloat16)):
                ts = torch.from_numpy(src32).to(tdt)
                t = ts.clone()
                out.append(Contender(f"torch {label}", lambda t=t: tf(t), lambda t=t, ts=ts: t.copy_(ts)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--funcs", default="gelu,relu,sigmoid,gelu_backward," + ",".join(ROWWISE))
    ap.add_argument("--n", default="1048576")
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--long", action="store_true",
                    help="softmax rows of 32K to 1M elements, float16 staged whole against in pieces")
    ap.add_argument("--tall", action="store_true",
                    help="softmax over axis 0 of 8K-16K rows, float16 in pieces of rows against staged whole")
    ap.add_argument("--torch", action="store_true",
                    help="PyTorch's float16 and bfloat16 forwards in the same races (gelu: out of place)")
    args = ap.parse_args()
    n = int(float(args.n))
    print(f"fastact {fastact.__version__}, loops {fastact._front.table_target()}, n={n}, 1 thread, "
          f"{args.trials} trials (median [min-max] over trials)")
    if args.long:
        long_rows(n, args.trials)
        return 0
    if args.tall:
        tall_strips(args.trials)
        return 0
    worst = 0.0
    for spec in args.funcs.split(","):
        backward = spec.endswith("_backward")
        name = spec[:-len("_backward")] if backward else spec
        times = {}
        for _ in range(args.trials):
            cs = contenders(name, n, backward, args.torch)
            for k, v in race(cs, budget=0.15, min_reps=9).items():
                times.setdefault(k, []).append(v)
        base = np.array(times["float32"])
        print(f"\n{spec}{'' if spec in ('glu', 'glu_backward') else '_'}:")
        for k, ts in times.items():
            ts = np.array(ts)
            r = ts / base
            print(f"  {k:>15}: {np.median(ts) * 1e3:7.3f} ms [{ts.min() * 1e3:.3f}-{ts.max() * 1e3:.3f}]"
                  f"   x{np.median(r):.2f} of float32 [{r.min():.2f}-{r.max():.2f}]")
            if name == "gelu" and not backward and k == "float16":
                worst = np.median(r)
    if "gelu" in args.funcs.split(","):
        print(f"\ntarget: gelu_ float16 <= {TARGET}x float32: {'PASS' if worst <= TARGET else 'FAIL'} "
              f"(x{worst:.2f})")
        return 0 if worst <= TARGET else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
