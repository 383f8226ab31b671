"""Relative-error rational minimax fits (Lawson-weighted linearized least squares,
mpmath precision).  Used to derive the constants in src/fa_math.h.
usage: ratfit.py WHAT m n A [dps]
WHAT = gelu : R(a) = exp(a^2/2)*Q(a), Q = upper normal tail, on [0,A], P_m/Q_n in a.
WHAT = tshr : (x - tanh x)/x^3 as P_m(s)/Q_n(s), s=x^2 in [0,A]  (n=0 -> polynomial)
"""
import sys, mpmath as mp
what, m, n, A = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), mp.mpf(sys.argv[4])
mp.mp.dps = int(sys.argv[5]) if len(sys.argv) > 5 else 30
def f(a):
    if what == 'gelu':
        return mp.erfc(a/mp.sqrt(2))/2*mp.exp(a*a/2)
    x = mp.sqrt(a)
    if a < mp.mpf('1e-30'):
        return mp.mpf(1)/3
    return (x - mp.tanh(x))/(x**3)
N = 6*(m+n+2)+60
pts = [A*(1-mp.cos(mp.pi*(i+0.5)/N))/2 for i in range(N)]
pts = [mp.mpf(0)] + pts + [A]
fv = [f(p) for p in pts]
w = [mp.mpf(1)]*len(pts)
qprev = [mp.mpf(1)]*len(pts)
best = None
for it in range(60):
    rows=[]; rhs=[]
    for p, y, wi, qp in zip(pts, fv, w, qprev):
        sc = mp.sqrt(wi)/(y*qp)
        row = [sc*p**j for j in range(m+1)] + [-sc*y*p**j for j in range(1, n+1)]
        rows.append(row); rhs.append(sc*y)
    M = mp.matrix(rows); b = mp.matrix(rhs)
    sol, res = mp.qr_solve(M, b)
    P = [sol[j] for j in range(m+1)]; Q = [mp.mpf(1)] + [sol[m+j] for j in range(1, n+1)]
    errs=[]
    for p, y in zip(pts, fv):
        pv = mp.polyval(P[::-1], p); qv = mp.polyval(Q[::-1], p)
        errs.append(pv/qv/y - 1)
    e = max(abs(x) for x in errs)
    if best is None or e < best[0]:
        best = (e, P, Q)
    qprev = [mp.polyval(Q[::-1], p) for p in pts]
    s = sum(wi*abs(er) for wi, er in zip(w, errs))
    w = [wi*abs(er)/s for wi, er in zip(w, errs)]
    w = [max(wi, mp.mpf(10)**(-40)) for wi in w]
e, P, Q = best
# check on a fine grid
mx = 0; at = 0
for i in range(2001):
    p = A*i/2000
    r = mp.polyval(P[::-1], p)/mp.polyval(Q[::-1], p)/f(p) - 1
    if abs(r) > mx: mx = abs(r); at = p
print("# %s m=%d n=%d A=%s maxrel(grid)=%s at %s (fit %s)" % (what, m, n, A, mp.nstr(mx, 5), mp.nstr(at, 6), mp.nstr(e, 5)))
print("P =", [mp.nstr(c, 25) for c in P])
print("Q =", [mp.nstr(c, 25) for c in Q])
