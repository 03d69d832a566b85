import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mejigclu_mm.models.necks import DecoupleNeck


def bilinear_matrix(in_size, out_size):
    """Interpolation weights, align_corners=False (half-pixel centres, clamped at the edges)."""
    weights = np.zeros((out_size, in_size))
    for o in range(out_size):
        src = max((o + 0.5) * in_size / out_size - 0.5, 0.0)
        low = min(int(np.floor(src)), in_size - 1)
        high = min(low + 1, in_size - 1)
        frac = src - low
        weights[o, low] += 1 - frac
        weights[o, high] += frac
    return weights


def decouple_by_hand(x, grid):
    """Interpolate to (4 grid)^2 with explicit weights, then average 4 x 4 blocks."""
    n, c, h, w = x.shape
    rows, cols = bilinear_matrix(h, 4 * grid), bilinear_matrix(w, 4 * grid)
    up = np.einsum('oh,nchw,pw->ncop', rows, x, cols)
    pooled = up.reshape(n, c, grid, 4, grid, 4).mean(axis=(3, 5))  # n x c x grid x grid
    out = np.zeros((grid * grid * n, c))
    for slot in range(grid * grid):
        for montage in range(n):
            out[slot * n + montage] = pooled[montage, :, slot // grid, slot % grid]
    return out


@pytest.mark.parametrize('grid,size', [(2, 7), (2, 4), (3, 5), (2, 2)])
def test_matches_interpolation_and_pooling_slot_major(grid, size):
    x = np.random.default_rng(0).normal(size=(3, 6, size, size))
    feats, = DecoupleNeck()((torch.from_numpy(x), ), grid=grid)
    assert feats.shape == (grid * grid * 3, 6)
    np.testing.assert_allclose(feats.numpy(), decouple_by_hand(x, grid), rtol=1e-10, atol=1e-12)


def decouple_by_definition(x, grid):
    """The JigClu definition with PyTorch's own kernels: bilinear to 4m x 4m, m x m mean."""
    x = F.interpolate(x, size=(4 * grid, 4 * grid), mode='bilinear', align_corners=False)
    x = F.adaptive_avg_pool2d(x, (grid, grid))
    return x.flatten(2).permute(2, 0, 1).reshape(-1, x.size(1))


@pytest.mark.parametrize('size', [7, 4, 14])
@pytest.mark.parametrize('grid', [2, 3])
@pytest.mark.parametrize('layout', [torch.contiguous_format, torch.channels_last])
def test_outputs_and_gradients_equal_interpolate_then_pool(size, grid, layout):
    generator = torch.Generator().manual_seed(size * 10 + grid)
    x = torch.randn(5, 16, size, size, generator=generator).contiguous(memory_format=layout)
    weights = torch.randn(grid * grid * 5, 16, generator=generator)
    results = []
    for fn in (lambda t: DecoupleNeck()((t, ), grid=grid)[0], lambda t: decouple_by_definition(
            t, grid)):
        leaf = x.clone().requires_grad_(True)
        out = fn(leaf)
        (out * weights).sum().backward()
        results.append((out.detach(), leaf.grad))
    (out, grad), (expected_out, expected_grad) = results
    torch.testing.assert_close(out, expected_out, rtol=0, atol=1e-5)
    torch.testing.assert_close(grad, expected_grad, rtol=0, atol=1e-5)


def test_non_square_maps_use_one_matrix_per_axis():
    x = torch.randn(2, 3, 7, 5, dtype=torch.float64)
    feats, = DecoupleNeck()((x, ), grid=2)
    np.testing.assert_allclose(feats.numpy(), decouple_by_definition(x, 2).numpy(), atol=1e-12)


def test_seam_column_of_a_7x7_map_is_shared_by_both_slots():
    x = torch.zeros(1, 1, 7, 7, dtype=torch.float64)
    x[..., :, 3] = 1.0  # only the middle column is lit
    feats, = DecoupleNeck()((x, ), grid=2)
    left, right = feats[0, 0].item(), feats[1, 0].item()
    assert left == pytest.approx(right) and left > 0


def test_uses_the_last_backbone_output_and_rejects_grid_1():
    early, last = torch.randn(2, 3, 8, 8), torch.randn(2, 4, 7, 7)
    assert DecoupleNeck()((early, last), grid=2)[0].shape == (8, 4)
    with pytest.raises(ValueError, match='grid must be >= 2'):
        DecoupleNeck()((last, ), grid=1)


@pytest.mark.parametrize('height,width', [(1, 1), (1, 4), (4, 1)])
def test_a_map_smaller_than_the_grid_is_refused(height, width):
    """Every slot would take its feature from the same cells (issue: patch_size=4 on the
    Fashion-MNIST configs left layer4 at 1 x 1 and training went on without a word)."""
    with pytest.raises(ValueError, match=f'{height} x {width}, smaller than the 2 x 2 grid'):
        DecoupleNeck()((torch.randn(2, 4, height, width), ), grid=2)
