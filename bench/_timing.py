"""Timing engine shared by bench/run.py and bench/targets.py.

`race(contenders, ...)` times several callables on the same job, interleaved
round-robin (so slow drifts of the machine hit all of them alike), each call
timed alone with perf_counter, with an untimed `prep` before every call (the
in-place inputs are refilled from a pristine copy so that repeated in-place
application never drifts the data, e.g. into subnormals).  Repeats are chosen
adaptively from a time budget; the result is the median per contender.
"""
import os
import time

import numpy as np


def usable_cpus():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class Contender:
    __slots__ = ("name", "call", "prep", "times", "keep")

    def __init__(self, name, call, prep=None):
        self.name, self.call, self.prep = name, call, prep
        self.times = []


def race(contenders, budget=0.05, min_reps=5, max_reps=400, rounds=4, settle=0.0, warmup=1, lead=None):
    """Median seconds per call for each contender: {name: median}.

    The contenders take turns in `rounds` rounds; in each round one contender
    runs a block of calls until it has used budget/rounds seconds and has
    ceil(min_reps/rounds) timings.  Before every block the machine may `settle`
    (sleep): two OpenMP runtimes (fastact's libgomp and PyTorch's bundled one)
    each keep their idle workers spinning for a few ms after a parallel region,
    and on a 2-core machine those spinners would bill the next contender.  The
    contender then runs untimed for `lead` seconds and at least two calls
    (default 1 ms after a settle pause, none without one).  The first call of
    each short block is untimed (cold caches after the switch)."""
    pc = time.perf_counter
    if lead is None:
        lead = 1e-3 if settle else 0.0
    for c in contenders:
        c.times = []
        for _ in range(warmup):
            if c.prep:
                c.prep()
            r = c.call()
            del r
    spent = {c.name: 0.0 for c in contenders}
    per_round_reps = max(1, -(-min_reps // rounds))
    order = list(contenders)
    for rnd in range(rounds):
        for c in (order if rnd % 2 == 0 else order[::-1]):
            if settle:
                time.sleep(settle)
            if lead:
                # untimed calls: right after an idle pause this VM runs any code
                # slowly for a while (a 36 us sigmoid took 2 ms after 200 ms
                # idle), which one dropped call did not cover
                t_end = pc() + lead
                k = 0
                while True:
                    if c.prep:
                        c.prep()
                    r = c.call()
                    del r
                    k += 1
                    if k >= 2 and pc() >= t_end:
                        break
            target_t = budget * (rnd + 1) / rounds
            target_n = min(max_reps, per_round_reps * (rnd + 1))
            cap = max_reps * (rnd + 1) // rounds
            skip = True
            while len(c.times) < cap and (len(c.times) < target_n or spent[c.name] < target_t):
                if c.prep:
                    c.prep()
                t0 = pc()
                r = c.call()
                t1 = pc()
                del r
                dt = t1 - t0
                if skip and dt < 2e-3:
                    skip = False
                    continue
                skip = False
                c.times.append(dt)
                spent[c.name] += dt
    return {c.name: float(np.median(c.times)) for c in contenders}


def make_input(n, dtype, seed=0, scale=3.0):
    """The benchmark input: standard normal * scale (covers both tails of
    every activation's interesting range), n elements."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(n) * scale).astype(dtype)
