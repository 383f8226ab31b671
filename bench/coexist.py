#!/usr/bin/env python
"""Good neighbours in one process: loops that alternate a neighbour's parallel
work (an OpenBLAS matmul, PyTorch ops) with an activation, timed with
fastact's activation and with the neighbour's own, at 1 and 2 threads, with
OMP_WAIT_POLICY unset and set.

Cases (each in a fresh process, so import order and environment are real):

- ``torch first``:   `import torch` before fastact; a torch model has run
                     (its OpenMP pool exists); the loop is a NumPy MLP
                     (OpenBLAS matmuls) with `bias_act_(h, b, "relu", max=6)`
                     against `h += b; np.clip(h, 0, 6, out=h)`.
- ``fastact first``: the same with fastact imported before torch.
- ``OpenBLAS``:      the same MLP, torch never imported.
- ``torch ops``:     a torch MLP (`torch.mm`, torch's threads) with fastact's
                     `bias_act_` on the tensors in place against
                     `h.add_(b).clamp_(0, 6)`.
- ``back to back``:  no neighbour work: `sigmoid_` then `relu_(max=6)` on 1M
                     and 256K float32, fastact against NumPy's in-place ufuncs
                     (no thread pool of their own: what a passive wait policy
                     costs fastact itself, a wake-up per parallel region).

Each case runs under each wait-policy setting: fastact's default, fastact's
bundled runtime at the runtime's own default (FASTACT_WAIT_POLICY=runtime),
and OMP_WAIT_POLICY=PASSIVE / ACTIVE for every runtime.  "runtimes" says
whether fastact and PyTorch share one libgomp (a source build links the
system's libgomp.so.1, which PyTorch's wheel shares) or each has its own (a
wheel bundles a private copy).

The MLP is 1024-4096-4096-1024 at batch 64 and 256 (float32).  The ratio is
(loop time with the neighbour's activation) / (loop time with fastact's): >= 1
means fastact's loop is as fast or faster.  Repeats alternate the two loops;
medians and the spread (min-max of the per-pair ratios) are reported.

    python bench/coexist.py [--reps N] [--no-write]
        # writes bench/results/coexist_wheel.{md,json} (a wheel: fastact's own libgomp)
        # or coexist_source.{md,json} (a source build: the system's libgomp)
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results", "coexist_{}.{}")   # wheel (bundled libgomp) or source build
CASES = ("torch first", "fastact first", "OpenBLAS", "torch ops", "back to back")
POLICIES = ("fastact default", "FASTACT_WAIT_POLICY=runtime", "OMP_WAIT_POLICY=PASSIVE", "OMP_WAIT_POLICY=ACTIVE")
BATCHES = (64, 256)
DIMS = (1024, 4096, 4096, 1024)


# ------------------------------------------------------------------ child: one case, one process

def _child(case, nthreads, reps):
    if case == "torch first":
        import torch
        import numpy as np
        import fastact
    elif case in ("fastact first", "torch ops"):
        import numpy as np
        import fastact
        import torch
    else:                        # OpenBLAS, back to back: torch never imported
        import numpy as np
        import fastact
        torch = None
    if torch is not None:
        torch.set_num_threads(nthreads)
    rng = np.random.default_rng(0)
    Ws = [(rng.standard_normal((a, b), dtype=np.float32) / np.sqrt(a)).astype(np.float32)
          for a, b in zip(DIMS[:-1], DIMS[1:])]
    bs = [rng.standard_normal(b, dtype=np.float32) * 0.1 for b in DIMS[1:]]
    res = {}
    for batch in ((1 << 20, 1 << 18) if case == "back to back" else BATCHES):
        x = rng.standard_normal((batch, DIMS[0]), dtype=np.float32)
        if case == "back to back":
            x = rng.standard_normal(batch, dtype=np.float32)

            def run(use_fastact):
                for _ in range(8):
                    if use_fastact:
                        fastact.sigmoid_(x)
                        fastact.relu_(x, max=6)
                    else:
                        np.negative(x, out=x)
                        np.exp(x, out=x)
                        np.add(x, 1, out=x)
                        np.reciprocal(x, out=x)
                        np.clip(x, 0, 6, out=x)
                return x
        elif case == "torch ops":
            tW = [torch.from_numpy(W) for W in Ws]
            tb = [torch.from_numpy(b) for b in bs]
            tx = torch.from_numpy(x)

            def run(use_fastact):
                h = tx
                for i, (W, b) in enumerate(zip(tW, tb)):
                    h = torch.mm(h, W)
                    if i < len(tW) - 1:
                        if use_fastact:
                            fastact.bias_act_(h, b, "relu", max=6)
                        else:
                            h.add_(b).clamp_(0, 6)
                return h
        else:
            if torch is not None:      # a torch model has run in this process: its pool exists
                m = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256))
                with torch.no_grad():
                    for _ in range(3):
                        m(torch.randn(512, 256))

            def run(use_fastact):
                h = x
                for i, (W, b) in enumerate(zip(Ws, bs)):
                    h = h @ W
                    if i < len(Ws) - 1:
                        if use_fastact:
                            fastact.bias_act_(h, b, "relu", max=6)
                        else:
                            h += b
                            np.clip(h, 0, 6, out=h)
                return h

        a, b = run(True), run(False)     # warm up both, and they agree
        if case != "back to back":       # (in place on the same data there)
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-4)
        inner = 4
        tf, tp = [], []
        for r in range(reps):
            for use in ((True, False) if r % 2 == 0 else (False, True)):
                t0 = time.perf_counter()
                for _ in range(inner):
                    run(use)
                dt = (time.perf_counter() - t0) / inner
                (tf if use else tp).append(dt)
        res[batch] = {"fastact": tf, "peer": tp}
    try:
        from threadpoolctl import threadpool_info
        omp = {i["filepath"] for i in threadpool_info() if i.get("user_api") == "openmp"}
        res["runtimes"] = "one" if len(omp) == 1 else f"{len(omp)}"
    except ImportError:
        res["runtimes"] = "?"
    return res


# ------------------------------------------------------------------ parent

def _median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def _run_case(case, nthreads, policy, reps):
    env = dict(os.environ)
    for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "FASTACT_WAIT_POLICY"):
        env.pop(k, None)
    if "=" in policy:
        k, v = policy.split("=")
        env[k] = v
    env["OMP_NUM_THREADS"] = str(nthreads)
    env["OPENBLAS_NUM_THREADS"] = str(nthreads)
    env["MKL_NUM_THREADS"] = str(nthreads)
    env.setdefault("FASTACT_STALL_GUARD", "1")
    r = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", case, str(nthreads), str(reps)],
                       capture_output=True, text=True, env=env, timeout=1800)
    if r.returncode != 0:
        raise RuntimeError(f"{case} / {nthreads} threads / {policy}: {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _summary(d):
    ratios = sorted(p / f for f, p in zip(d["fastact"], d["peer"]))
    return {"fastact_ms": 1e3 * _median(d["fastact"]), "peer_ms": 1e3 * _median(d["peer"]),
            "ratio": _median(ratios), "lo": ratios[0], "hi": ratios[-1]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--reps", type=int, default=11, help="alternating repeats per cell (default 11)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--policies", default=",".join(POLICIES))
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    if a.child:
        case, nt, reps = a.child[0], int(a.child[1]), int(a.child[2])
        print(json.dumps(_child(case, nt, reps)))
        return
    import fastact
    rows = []
    for case in a.cases.split(","):
        for policy in a.policies.split(","):
            for nt in (int(t) for t in a.threads.split(",")):
                out = _run_case(case, nt, policy, a.reps)
                runtimes = out.pop("runtimes")
                for batch, d in out.items():
                    s = _summary(d)
                    s.update(case=case, policy=policy, threads=nt, batch=int(batch), runtimes=runtimes)
                    rows.append(s)
                    print(f"{case:14s} {policy:28s} {nt}t {runtimes} rt, batch {batch:>4}: fastact {s['fastact_ms']:7.2f} ms  "
                          f"peer {s['peer_ms']:7.2f} ms  ratio {s['ratio']:.3f} [{s['lo']:.3f}, {s['hi']:.3f}]",
                          flush=True)
    kind = "a wheel (fastact's own libgomp)" if fastact._openmp._private_runtime() else \
        "a source build (the system's libgomp)"
    lines = [f"# Neighbours in one process: {kind}", "",
             f"`python bench/coexist.py --reps {a.reps}`: {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs, fastact {fastact.__version__} (`{fastact._dispatch.state.variant}`), "
             f"NumPy {__import__('numpy').__version__}. MLP {'-'.join(map(str, DIMS))} float32; ratio = loop time "
             "with the neighbour's activation / with fastact's (>= 1: fastact's loop is as fast); median over "
             "alternating repeats, [min, max] of the per-pair ratios. OMP_WAIT_POLICY applies to every OpenMP "
             "runtime in the process, FASTACT_WAIT_POLICY to the wheel's bundled libgomp only. "
             f"fastact's wait policy here: {fastact._openmp.state['policy']}.", "",
             "| case | wait policy | OpenMP runtimes | threads | batch / n | fastact loop ms | peer loop ms | ratio [min, max] |",
             "|---|---|---|---|---|---|---|---|"]
    for s in rows:
        lines.append(f"| {s['case']} | {s['policy']} | {s['runtimes']} | {s['threads']} | {s['batch']} | {s['fastact_ms']:.2f} | "
                     f"{s['peer_ms']:.2f} | {s['ratio']:.3f} [{s['lo']:.3f}, {s['hi']:.3f}] |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not a.no_write:
        kind = "wheel" if fastact._openmp._private_runtime() else "source"
        with open(OUT.format(kind, "md"), "w", encoding="utf-8") as f:
            f.write(text)
        with open(OUT.format(kind, "json"), "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
