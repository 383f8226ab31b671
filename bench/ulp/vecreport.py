#!/usr/bin/env python3
"""Map -fopt-info-vec-optimized output to kernel loops: print which loops vectorized."""
import re, sys
lines = dict((int(l.split()[0]), l.split()[1]) for l in open("vec_lines.txt"))
res = {}
for build in ("base", "v3", "v4"):
    vec = {}
    for l in open(f"vec_{build}.txt"):
        m = re.match(r"vec\.c:(\d+):\d+: optimized: loop vectorized using (\d+) byte vectors", l)
        if m and int(m.group(1)) in lines:
            vec.setdefault(lines[int(m.group(1))], []).append(int(m.group(2)))
    res[build] = vec
bad = 0
print("| loop | baseline (SSE2) | AVX2+FMA | AVX-512 |")
print("|---|---|---|---|")
for ln, fn in sorted(lines.items()):
    b, v, w = (res[k].get(fn) for k in ("base", "v3", "v4"))
    fmt = lambda x: ("yes (" + "+".join(f"{s}B" for s in sorted(set(x), reverse=True)) + ")") if x else "**NO**"
    if not b or not v or not w: bad += 1
    print(f"| {fn} | {fmt(b)} | {fmt(v)} | {fmt(w)} |")
print(f"\n{len(lines) - bad}/{len(lines)} loops vectorized in all three builds")
