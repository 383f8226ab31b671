/* Reference formulas, instantiated for R = double (float sweeps), long double
 * and __float128 (double sweeps).  kind: 0 = f(x), 1 = f'(x).  isf: the kernel
 * type is float (only used to reproduce the kernel's threshold decision). */
static R RN(ref)(int kid, int kind, R x, const double *pp, int isf)
{
    const R one = 1, two = 2, p0 = (R)pp[0], p1 = (R)pp[1];
    const R K1 = RSQRT(two / RPI) * 2, KC = (R)0.044715L;
    switch (kid) {
    case K_SIGMOID: { R e = REXP(-RFABS(x)); R s = (x > 0 ? one : e) / (one + e);
        return kind == 0 ? s : e / ((one + e) * (one + e)); }
    case K_TANH: { if (kind == 0) return RTANH(x);
        R e = REXP(-2 * RFABS(x)); return 4 * e / ((one + e) * (one + e)); }
    case K_SOFTPLUS: { R bx = p0 * x;
        double bxt = isf ? (double)((float)pp[0] * (float)x) : pp[0] * (double)x;
        int lin = bxt > pp[1];
        R e = REXP(-RFABS(bx));
        if (kind == 0) return lin ? x : ((bx > 0 ? bx : 0) + RLOG1P(e)) / p0;
        return lin ? one : (bx > 0 ? one : e) / (one + e); }
    case K_LOG_SIGMOID: { R e = REXP(-RFABS(x));
        if (kind == 0) return (x < 0 ? x : 0) - RLOG1P(e);
        return (x > 0 ? e : one) / (one + e); }
    case K_ELU: if (kind == 0) return x > 0 ? x : p0 * REXPM1(x);
        return x > 0 ? one : p0 * REXP(x);
    case K_SELU:   /* p0 = scale, p1 = scale*alpha as the kernel gets them (fastact/_table.py) */
        if (kind == 0) return x > 0 ? p0 * x : p1 * REXPM1(x);
        return x > 0 ? p0 : p1 * REXP(x);
    case K_CELU: if (kind == 0) return x > 0 ? x : p0 * REXPM1(x / p0);
        return x > 0 ? one : REXP(x / p0);
    case K_CELU_NEG: if (kind == 0) return x > 0 ? x : p0 * REXPM1(x / p0);   /* alpha = p0 < 0 */
        return x > 0 ? one : REXP(x / p0);
    case K_GELU_ERF: { R ph = RERFC(-x / RSQRT(two)) / 2;
        if (kind == 0) return x * ph;
        return ph + x * REXP(-x * x / 2) / RSQRT(2 * RPI); }
    case K_GELU_TANH: { R w = K1 * x * (one + KC * x * x);
        R e = REXP(-RFABS(w)); R sp = (w > 0 ? one : e) / (one + e), sn = (w > 0 ? e : one) / (one + e);
        if (kind == 0) return x * sp;
        return sp * (one + x * K1 * (one + 3 * KC * x * x) * sn); }
    case K_SILU: case K_SWISH: { R b = kid == K_SILU ? x : p0 * x;
        R e = REXP(-RFABS(b)); R sp = (b > 0 ? one : e) / (one + e), sn = (b > 0 ? e : one) / (one + e);
        if (kind == 0) return x * sp;
        return sp * (one + b * sn); }
    case K_MISH: { R e = REXP(-RFABS(x)); R sp = (x > 0 ? x : 0) + RLOG1P(e);
        R t = RTANH(sp);
        if (kind == 0) return x * t;
        R e2 = REXP(-2 * sp); R sech2 = 4 * e2 / ((one + e2) * (one + e2));
        R sg = (x > 0 ? one : e) / (one + e);
        return t + x * sg * sech2; }
    case K_TANHSHRINK: { if (kind == 1) { R t = RTANH(x); return t * t; }
        if (RFABS(x) < (R)0.01) { R s = x * x;
            /* x - tanh x = x^3/3 - 2x^5/15 + 17x^7/315 - 62x^9/2835 + 1382x^11/155925 - 21844x^13/6081075 */
            R p = (R)-21844 / 6081075; p = p * s + (R)1382 / 155925; p = p * s - (R)62 / 2835;
            p = p * s + (R)17 / 315; p = p * s - (R)2 / 15; p = p * s + one / 3; return x * s * p; }
        return x - RTANH(x); }
    case K_SQUAREPLUS: { R s = RSQRT(x * x + p0);   /* b = p0 >= 0; no cancellation for x <= 0 */
        if (kind == 0) return x > 0 ? (x + s) / 2 : (p0 == 0 ? 0 : p0 / (2 * (s - x)));
        if (RFABS(x) > (R)1e30)      /* x*x + b is x*x: s = |x|, f' = 1 or b/(4x^2) */
            return x > 0 ? one : p0 / (4 * x * x);
        return x > 0 ? (one + x / s) / 2 : (p0 == 0 ? 0 : p0 / (2 * s * (s - x))); }
    }
    return 0;
}
