#!/usr/bin/env python
"""The softmax step of causal attention (issue #17, item 5): the masked,
scaled softmax of the scores, fastact (`softmax(s, where=causal,
scale=1/sqrt(d), out=p)`, the (T, T) mask broadcast over batch and heads)
against PyTorch's masked_fill(-inf) + softmax and JAX's jit-compiled
softmax(where=); then the whole block, NumPy matmuls + fastact against
PyTorch's scaled_dot_product_attention(is_causal=True).  float32, 1 thread
and all threads; medians of interleaved races (bench/_timing.race) with the
25-75 % range; ratios from the same run.  Writes
bench/results/attention_results.md.  Imports the installed fastact (pip install .).

    python bench/attention.py [--no-write]
"""
import math
import os
import platform
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fastact  # noqa: E402
from _timing import Contender, race, usable_cpus  # noqa: E402

import torch  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402
try:
    import jax
    import jax.numpy as jnp
except ImportError:
    jax = None

CASES = [(4, 8, 256, 64), (2, 8, 512, 64), (1, 8, 1024, 64)]    # (B, H, T, d)


def _fmt(c):
    t = np.array(c.times) * 1e6
    lo, med, hi = np.percentile(t, [25, 50, 75])
    return med, f"{med:,.0f} ({lo:,.0f}-{hi:,.0f})"


def softmax_step(B, H, T, d, nt):
    rng = np.random.default_rng(0)
    s = rng.standard_normal((B, H, T, T), dtype=np.float32) * 8
    causal = np.tril(np.ones((T, T), bool))
    sc = 1 / math.sqrt(d)
    p = np.empty_like(s)
    ts, tm = torch.from_numpy(s), torch.from_numpy(~causal)
    cs = [Contender("fastact", lambda: fastact.softmax(s, where=causal, scale=sc, out=p, n_threads=nt)),
          Contender("torch masked_fill+softmax",
                    lambda: torch.softmax((ts * sc).masked_fill(tm, -math.inf), dim=-1))]
    if jax is not None:
        js, jm = jnp.asarray(s), jnp.asarray(causal)
        jf = jax.jit(lambda a, m: jax.nn.softmax(a * sc, where=m))
        cs.append(Contender("jax jit softmax(where=)", lambda: jf(js, jm).block_until_ready()))
    race(cs, budget=1.0, min_reps=15, max_reps=400)
    return cs


def whole_block(B, H, T, d, nt):
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((B, H, T, d), dtype=np.float32) for _ in range(3))
    causal = np.tril(np.ones((T, T), bool))
    sc = 1 / math.sqrt(d)
    # K^T laid out once (NumPy's stacked matmul uses BLAS only for contiguous
    # operands), as a model keeps its key cache
    kt = np.ascontiguousarray(np.swapaxes(k, -1, -2))

    def fa():
        with threadpool_limits(nt, user_api="blas"):
            s = q @ kt
            fastact.softmax_(s, where=causal, scale=sc, n_threads=nt)
            return s @ v

    def mm():           # the two matmuls alone: what of the block is NumPy's
        with threadpool_limits(nt, user_api="blas"):
            return (q @ kt) @ v

    tq, tk, tv = torch.from_numpy(q), torch.from_numpy(k), torch.from_numpy(v)
    cs = [Contender("numpy+fastact", fa), Contender("numpy matmuls alone", mm),
          Contender("torch SDPA", lambda: torch.nn.functional.scaled_dot_product_attention(tq, tk, tv,
                                                                                          is_causal=True))]
    race(cs, budget=1.0, min_reps=15, max_reps=400)
    return cs


def main():
    write = "--no-write" not in sys.argv
    t0 = time.time()
    ncpu = usable_cpus()
    step = ["| B, H, T | threads | fastact µs | torch masked_fill+softmax µs | ratio | JAX jit µs | ratio |",
            "|---|---|---|---|---|---|---|"]
    block = ["| B, H, T, d | threads | NumPy matmuls + fastact µs | of which matmuls alone µs | torch SDPA µs "
             "| ratio |", "|---|---|---|---|---|---|"]
    for nt in sorted({1, ncpu}):
        torch.set_num_threads(nt)
        for B, H, T, d in CASES:
            cs = softmax_step(B, H, T, d, nt)
            f, fs = _fmt(cs[0])
            t, ts = _fmt(cs[1])
            row = f"| {B}, {H}, {T} | {nt} | {fs} | {ts} | {t / f:.2f} |"
            if len(cs) > 2:
                j, js = _fmt(cs[2])
                row += f" {js} | {j / f:.2f} |"
            else:
                row += " - | - |"
            step.append(row)
            print(step[-1], flush=True)
            cs = whole_block(B, H, T, d, nt)
            f, fs = _fmt(cs[0])
            _, ms = _fmt(cs[1])
            t, ts = _fmt(cs[2])
            block.append(f"| {B}, {H}, {T}, {d} | {nt} | {fs} | {ms} | {ts} | {t / f:.2f} |")
            print(block[-1], flush=True)
    head = ["# Causal attention: the masked, scaled softmax step (bench/attention.py)", "",
            f"{platform.processor() or platform.machine()}, {ncpu} usable CPUs; fastact kernels "
            f"`{fastact._dispatch.state.variant}`, NumPy {np.__version__} (BLAS limited to the row's threads), PyTorch {torch.__version__}"
            + (f", JAX {jax.__version__}" if jax is not None else "")
            + f"; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}, load average "
            f"{os.getloadavg()[0]:.1f} at the end.",
            "float32 scores (B, H, T, T) with a (T, T) causal mask broadcast over batch and heads, "
            "scale 1/sqrt(64). Median µs per call (25-75 % range); ratio = peer time / fastact time "
            "(> 1: fastact faster). JAX runs on XLA's own thread pool whatever the row's thread count.",
            "", "## Softmax step", "", *step, "", "## Whole block (QK^T, masked softmax, PV)", "", *block, "",
            f"({time.time() - t0:.0f} s)"]
    text = "\n".join(head) + "\n"
    print(text)
    if write:
        with open(os.path.join(HERE, "results", "attention_results.md"), "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
