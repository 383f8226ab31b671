"""Call timings of one build, as JSON (run once per build, compare the outputs): tiny calls
and 1M-element forward/backward passes, one thread; best of repeats.  With --cpu the clock
is the calling thread's CPU time, which other processes on a busy machine do not inflate
(the work runs in the calling thread: one thread)."""
import json, sys, time, timeit
import numpy as np
import fastact
x16 = np.linspace(-3, 3, 16, dtype=np.float32)
g16 = np.ones(16, np.float32)
rng = np.random.default_rng(0)
src = (rng.standard_normal(1 << 20) * 3).astype(np.float32)
xb = src.copy(); gb = np.ones_like(xb); ob = np.empty_like(xb)
rows = (rng.standard_normal((1024, 1024))).astype(np.float32)
TIMER = time.thread_time if "--cpu" in sys.argv else time.perf_counter
def best(stmt, number, repeat=15):
    return min(t / number for t in timeit.repeat(stmt, number=number, repeat=repeat, globals=globals(),
                                                 timer=TIMER))
res = {}
res["relu_(16) ns"] = best("fastact.relu_(x16)", 20000) * 1e9
res["relu(16) ns"] = best("fastact.relu(x16)", 20000) * 1e9
res["sigmoid_backward(16) ns"] = best("fastact.sigmoid_backward(g16, x16)", 20000) * 1e9
res["softmax(16) ns"] = best("fastact.softmax(x16)", 20000) * 1e9
try:                        # a CPU tensor in place (the path through Tensor.numpy())
    import torch
    t16 = torch.from_numpy(x16.copy())
    res["relu_(tensor 16) ns"] = best("fastact.relu_(t16, max=6.0)", 20000) * 1e9
    res["torch clamp_(16) ns"] = best("t16.clamp_(0, 6)", 20000) * 1e9
except ImportError:
    pass
with fastact.threads(1):
    for name in ("relu", "sigmoid", "tanh", "silu", "gelu"):
        f = getattr(fastact, name); fb = getattr(fastact, name + "_backward")
        res[f"{name} fwd 1M us"] = best("f(src, out=ob)", 20) * 1e6
        res[f"{name} bwd 1M us"] = best("fb(gb, src, out=ob)", 20) * 1e6
        # in place: refill grad each time (repeated products would reach subnormals);
        # the refill's own time is subtracted
        fb_ = getattr(fastact, name + "_backward_")
        res[f"{name} bwd_ 1M us"] = (best("np.copyto(ob, gb); fb_(ob, src)", 20)
                                     - best("np.copyto(ob, gb)", 20)) * 1e6
    res["softmax rows 1M us"] = best("fastact.softmax(rows, out=ob.reshape(1024, 1024))", 20) * 1e6
print(json.dumps({k: round(v, 2) for k, v in res.items()}))
