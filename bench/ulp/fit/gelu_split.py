"""Fits for the split gelu_erf evaluation (double).
usage: gelu_split.py S m n A0 [AM]   S(w) = (1 - h)/w, h(a) = a Q(a)/phi(a), w = 1/a^2,
                                     rational P_m/Q_n in w on [1/AM^2, 1/A0^2], relative error
       gelu_split.py L m n A0 AM    log h(a) as P_m(a)/Q_n(a) on [A0, AM], relative error
       (small branch: ratfit.py gelu m n A0)"""
import sys, mpmath as mp
mp.mp.dps = 40
what, m, n, A0 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), mp.mpf(sys.argv[4])
AM = mp.mpf(sys.argv[5]) if len(sys.argv) > 5 else mp.mpf('38.7')
def h(a): return a * mp.erfc(a / mp.sqrt(2)) / 2 / (mp.exp(-a * a / 2) / mp.sqrt(2 * mp.pi))
if what == 'S':
    def f(w): a = 1 / mp.sqrt(w); return (1 - h(a)) / w
    lo, hi = 1 / AM**2, 1 / A0**2
else:   # L: log h(a) as P_m(a)/Q_n(a) on [A0, AM]
    def f(a): return mp.log(h(a))
    lo, hi = A0, AM
N = 6 * (m + n + 2) + 60
pts = [lo + (hi - lo) * (1 - mp.cos(mp.pi * (i + 0.5) / N)) / 2 for i in range(N)]
pts = [lo] + pts + [hi]
fv = [f(p) for p in pts]
w = [mp.mpf(1)] * len(pts); qprev = [mp.mpf(1)] * len(pts); best = None
for it in range(40):
    rows = []; rhs = []
    for p, y, wi, qp in zip(pts, fv, w, qprev):
        sc = mp.sqrt(wi) / (y * qp)
        rows.append([sc * p**j for j in range(m + 1)] + [-sc * y * p**j for j in range(1, n + 1)]); rhs.append(sc * y)
    sol, res = mp.qr_solve(mp.matrix(rows), mp.matrix(rhs))
    P = [sol[j] for j in range(m + 1)]; Q = [mp.mpf(1)] + [sol[m + j] for j in range(1, n + 1)]
    errs = [mp.polyval(P[::-1], p) / mp.polyval(Q[::-1], p) / y - 1 for p, y in zip(pts, fv)]
    e = max(abs(x) for x in errs)
    if best is None or e < best[0]: best = (e, P, Q)
    qprev = [mp.polyval(Q[::-1], p) for p in pts]
    s = sum(wi * abs(er) for wi, er in zip(w, errs))
    w = [max(wi * abs(er) / s, mp.mpf(10)**-40) for wi, er in zip(w, errs)]
e, P, Q = best
mx = 0
for i in range(1001):
    p = lo + (hi - lo) * i / 1000
    r = abs(mp.polyval(P[::-1], p) / mp.polyval(Q[::-1], p) / f(p) - 1)
    mx = max(mx, r)
if what == 'L': print("# L(a) m=%d n=%d on [%s, %s] maxrel %s" % (m, n, A0, AM, mp.nstr(mx, 4)))
else: print("# S(w) m=%d n=%d a in [%s, %s] maxrel(S)=%s  max |w dS| = %s" % (m, n, A0, AM, mp.nstr(mx, 4), mp.nstr(mx * hi * f(hi), 4)))
print("P =", [float(c).hex() for c in P])
print("Q =", [float(c).hex() for c in Q])
