#!/usr/bin/env python
"""Accuracy of every contender of the speed grid on one sweep, so that speed always stands
beside accuracy: for each bench entry (bench/_peers.py) and each library that has it, the
max error in float32 ULP of its out-of-place forward and backward against the float64 oracle
(fastact.reference), on the inputs of tests/test_accuracy.py (10^6 float32 values over every
binade from the smallest normal to 2^10, both signs, plus +-0, +-inf, NaN, +-max and
subnormals; rows of 1000 for the row functions).  A result that is NaN or infinite where the
oracle is not (or the reverse) is not a rounding error: such elements are counted apart
("+k special").

    python bench/peer_ulp.py            # prints, writes bench/results/peer_ulp.{md,json}
    python bench/peer_ulp.py --funcs sigmoid,softmax [--no-write]   # updates those rows only

bench/run.py shows these figures next to each contender's time when the JSON exists.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import numpy as np  # noqa: E402

import fastact  # noqa: E402
import _peers  # noqa: E402
from fa_testutil import derivative_roots, in_dtype, sweep_inputs  # noqa: E402

EPS = float(np.finfo(np.float32).eps)

JSON = os.path.join(RESULTS, "peer_ulp.json")
MD = os.path.join(RESULTS, "peer_ulp.md")


def ulp_stats(actual, expected):
    """(max ULP over the elements both give finite, elements whose NaN/inf-ness differs)."""
    a = np.asarray(actual, dtype=np.float64).ravel()
    e = np.asarray(expected, dtype=np.float64).ravel()
    with np.errstate(over="ignore"):
        e_r = e.astype(np.float32).astype(np.float64)
    fin_a, fin_e = np.isfinite(a), np.isfinite(e_r)
    special = int(np.count_nonzero(fin_a != fin_e)
                  + np.count_nonzero(~fin_a & ~fin_e & ~((np.isnan(a) & np.isnan(e_r)) | (a == e_r))))
    ok = fin_a & fin_e
    if not ok.any():
        return 0.0, special
    a, e = a[ok], e[ok]
    tiny = np.finfo(np.float32).tiny
    ulp = np.maximum(np.spacing(np.abs(e).astype(np.float32)).astype(np.float64),
                     np.finfo(np.float32).smallest_subnormal)
    err = np.abs(a - e)
    err = np.where(err <= tiny, 0.0, err / ulp)
    return float(err.max()), special


def _np(v):
    if _peers.torch is not None and isinstance(v, _peers.torch.Tensor):
        return v.numpy()
    return np.asarray(v)


def _arg(lib, a):
    if lib == "torch":
        return _peers.torch.from_numpy(np.ascontiguousarray(a))
    if lib == "jax":
        return _peers.jnp.asarray(a)
    return a.copy()


def measure(entry, x, g):
    """{"fwd": {lib: (ulp, special)}, "bwd": {...}} for one entry.  The backward is measured
    as the tests measure fastact's (tests/fa_testutil.measure): grad uniform in [0.5, 2],
    an absolute floor of eps*|grad| within 0.25 of a root of f'; only for the entries whose
    bench backward is from x (from y the error is mostly that of y's rounding)."""
    ref = fastact.reference
    kw = dict(entry.kw)
    rkw = in_dtype(kw, np.float32)
    if entry.fa in ("glu", "geglu"):        # the oracle of the plain gates
        want = ref.gated(entry.fa, x, **rkw)
    else:
        want = ref.forward(entry.fa, x, **rkw)
    impls = {"fastact": entry.fastact_impl(1)}
    impls.update(entry.peers)
    out = {"fwd": {}, "bwd": {}}
    with np.errstate(all="ignore"):
        for lib, im in impls.items():
            fwd = im.oop or (im.into and (lambda a, f=im.into: f(a, None)))    # ORT: into its own buffer
            if fwd is not None:
                out["fwd"][lib] = ulp_stats(_np(fwd(_arg(lib, x))), want)
        if entry.bwd_from != "x":
            return out          # from y the error is that of y's rounding: not comparable
        gw = g if want.shape == x.shape else g[..., : want.shape[-1]]
        want_b = ref.backward(entry.fa, gw, x, **rkw)
        floor = np.zeros(x.shape)
        for r in derivative_roots(entry.fa, rkw) if not entry.rows else []:
            floor = np.where(np.abs(x.astype(np.float64) - r) < 0.25, EPS * np.abs(gw), floor)
        s = x
        for lib, im in impls.items():
            if im.boop is not None:
                got = _np(im.boop(_arg(lib, gw), _arg(lib, x if lib == "jax" else s))).astype(np.float64)
                got = np.where(np.abs(got - want_b) <= floor, want_b, got)
                out["bwd"][lib] = ulp_stats(got, want_b)
    return out


def fmt(stat):
    u, k = stat
    return f"{u:.2f}" + (f" (+{k} special)" if k else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--funcs", help="comma-separated labels or fastact names (default: all)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    entries = _peers.entries()
    if args.funcs:
        want = set(args.funcs.split(","))
        entries = [e for e in entries if e.label in want or e.fa in want]
    x_flat = sweep_inputs(np.float32, 1_000_000)
    libs = [lib for lib in _peers.LIBS if _peers.AVAILABLE[lib]]
    res = {}
    lines = ["| function | dir | " + " | ".join(libs) + " |", "|---|---|" + "---|" * len(libs)]
    print(lines[0])
    for e in entries:
        n = x_flat.size // _peers.SOFTMAX_ROW * _peers.SOFTMAX_ROW
        x = x_flat[:n].reshape(-1, _peers.SOFTMAX_ROW) if e.rows else x_flat
        g = np.random.default_rng(1).uniform(0.5, 2.0, x.shape).astype(np.float32)
        try:
            r = measure(e, x, g)
        except Exception as exc:  # noqa: BLE001 -- a reference without these parameters
            print(f"| {e.label} | skipped: {type(exc).__name__}: {exc} |")
            continue
        res[e.label] = {d: {lib: list(v) for lib, v in r[d].items()} for d in r}
        for d in ("fwd", "bwd"):
            if r[d]:
                lines.append(f"| {e.label} | {d} | " + " | ".join(fmt(r[d][lib]) if lib in r[d] else "-"
                                                               for lib in libs) + " |")
                print(lines[-1], flush=True)
    if not args.no_write:
        os.makedirs(RESULTS, exist_ok=True)
        if args.funcs and os.path.exists(JSON):
            # a partial run updates its rows and keeps the others
            with open(JSON) as f:
                res = {**json.load(f), **res}
            lines = lines[:2]
            for e in _peers.entries():
                for d in ("fwd", "bwd"):
                    r = res.get(e.label, {}).get(d)
                    if r:
                        lines.append(f"| {e.label} | {d} | " + " | ".join(
                            fmt(r[lib]) if lib in r else "-" for lib in libs) + " |")
        with open(JSON, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
        head = ("# Max float32 ULP of every contender on the same sweep\n\n"
                "`python bench/peer_ulp.py` (the module docstring says how it is measured). "
                f"JAX runs with {_peers.JAX_THREADS} thread(s); its CPU backend treats subnormal "
                "inputs as zero. The error is relative (ULP of the true result, floor at the smallest "
                "normal number): where a result cancels to near 0 (hard_sigmoid at its root, "
                "sparsemax near its threshold) every contender shows a large figure; fastact's "
                "absolute bounds there are in docs/accuracy.md. ONNX Runtime runs a one-node ONNX "
                "model of the operator (forward only; bench/_peers.py lists them).\n\n")
        with open(MD, "w") as f:
            f.write(head + "\n".join(lines) + "\n")
        print(f"wrote {MD} and {JSON}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
