"""One causal attention block in NumPy + fastact against PyTorch's
scaled_dot_product_attention (issue #17, item 5): the fused masked, scaled
softmax in place on the scores, float32."""
import math

import numpy as np
import pytest

import fastact


def _qkv(rng, B, H, T, d):
    return tuple(rng.standard_normal((B, H, T, d), dtype=np.float32) for _ in range(3))


def fastact_attention(q, k, v):
    d = q.shape[-1]
    T = q.shape[-2]
    causal = np.tril(np.ones((T, T), bool))            # broadcast over batch and heads
    s = q @ np.swapaxes(k, -1, -2)
    fastact.softmax_(s, where=causal, scale=1 / math.sqrt(d))
    return s @ v, s


@pytest.mark.parametrize("B,H,T,d", [(2, 4, 128, 64), (1, 3, 77, 32), (2, 2, 1, 16)])
def test_causal_attention_matches_sdpa(B, H, T, d):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(T)
    q, k, v = _qkv(rng, B, H, T, d)
    out, p = fastact_attention(q, k, v)
    ref = torch.nn.functional.scaled_dot_product_attention(
        torch.from_numpy(q), torch.from_numpy(k), torch.from_numpy(v), is_causal=True).numpy()
    # ground truth in float64 from the same float32 inputs
    s64 = q.astype(np.float64) @ np.swapaxes(k.astype(np.float64), -1, -2) / math.sqrt(d)
    s64 = np.where(np.tril(np.ones((T, T), bool)), s64, -np.inf)
    p64 = np.exp(s64 - s64.max(-1, keepdims=True))
    p64 /= p64.sum(-1, keepdims=True)
    out64 = p64 @ v.astype(np.float64)
    err_fa = np.abs(out - out64).max()
    err_torch = np.abs(ref - out64).max()
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=2e-6)
    assert err_fa <= 2 * err_torch + 1e-6, (err_fa, err_torch)
    # the weights: exactly 0 above the diagonal, rows summing to 1
    assert np.all(p[..., np.triu_indices(T, 1)[0], np.triu_indices(T, 1)[1]] == 0)
    np.testing.assert_allclose(p.sum(-1), 1, rtol=1e-6)


def test_softmax_step_matches_torch_masked_softmax():
    """The softmax step alone against PyTorch's masked_fill(-inf) + softmax
    (which is what SDPA's math backend does), same scores."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    B, H, T, d = 2, 4, 96, 64
    q, k, _ = _qkv(rng, B, H, T, d)
    s = q @ np.swapaxes(k, -1, -2)
    causal = np.tril(np.ones((T, T), bool))
    t = torch.from_numpy(s * np.float32(1 / math.sqrt(d))).masked_fill(~torch.from_numpy(causal), -math.inf)
    pt = torch.softmax(t, -1).numpy()
    p = fastact.softmax(s, where=causal, scale=1 / math.sqrt(d))
    np.testing.assert_allclose(p, pt, rtol=4e-7 * 8, atol=1e-8)
    # a fully masked row: PyTorch gives NaN, fastact 0
    none = causal.copy()
    none[5] = False
    t2 = torch.from_numpy(s).masked_fill(~torch.from_numpy(none), -math.inf)
    assert torch.isnan(torch.softmax(t2, -1)[..., 5, :]).all()
    assert np.all(fastact.softmax(s, where=none)[..., 5, :] == 0)
