"""log1p(f) = f + f^2 P(f) on [sqrt(1/2)-1, sqrt(2)-1]: Chebyshev fit of P (mpmath.chebyfit)."""
import mpmath as mp, sys
mp.mp.dps = 40
deg = int(sys.argv[1])
lo, hi = mp.sqrt(0.5) - 1, mp.sqrt(2) - 1
g = lambda f: (mp.log1p(f) - f) / f**2 if abs(f) > mp.mpf('1e-20') else mp.mpf(-0.5) + f/3
poly, err = mp.chebyfit(g, [lo, hi], deg + 1, error=True)
print("# deg", deg, "abs err of P", mp.nstr(err, 5))
import struct
for c in poly:   # highest degree first
    print("    p = p * f + %sf;" % repr(float(mp.mpf(c))) if True else "")
# check in float32 arithmetic emulation
import numpy as np
cf = [np.float32(float(c)) for c in poly]
mx = 0
for f in np.linspace(float(lo), float(hi), 200001).astype(np.float32):
    p = cf[0]
    for c in cf[1:]:
        p = np.float32(p * f + c)
    r = np.float32(np.float32(f*f) * p + f)
    ref = mp.log1p(mp.mpf(float(f)))
    if ref != 0:
        u = 2.0**(mp.floor(mp.log(abs(ref), 2)) - 23)
        e = abs(mp.mpf(float(r)) - ref) / u
        mx = max(mx, e)
print("# emulated max ulp", mp.nstr(mx, 4))
