# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import numpy as np
import pytest
import torch

import samkr_mmpose  # noqa: F401  (registers the losses)
from mmpose.registry import MODELS


def gaussian_targets(shape, rng):
    """Heatmaps with Gaussian blobs and exact zeros, as the SPR codec's."""
    b, k, h, w = shape
    ys, xs = np.mgrid[:h, :w]
    centres = rng.uniform(0, [h, w], (b, k, 2))
    d2 = (ys - centres[..., :1, None])**2 + (xs - centres[..., 1:, None])**2
    heatmaps = np.exp(-d2 / 8)
    heatmaps[heatmaps < 0.01] = 0
    return heatmaps


def direct_swahr(pred, gt, scale, mask, gamma=0.01):
    """SWAHR's loss written out in NumPy (float64)."""
    log_gt = np.log(np.where(gt > 0, gt, 1))
    target = gt * (1 + scale * log_gt + 0.5 * (scale * log_gt)**2)
    weight = np.abs(1 - pred) * gt**gamma + np.abs(pred) * (1 - gt**gamma)
    return np.mean((pred - target)**2 * weight * mask)


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    gt = gaussian_targets((2, 5, 12, 10), rng)
    pred = gt + rng.normal(0, 0.2, gt.shape)
    scale = rng.normal(0, 0.3, gt.shape)
    mask = (rng.uniform(size=(2, 1, 12, 10)) > 0.2).astype(np.float64)
    return pred, gt, scale, mask


def test_adaptive_heatmap_loss_matches_direct_formula(batch):
    pred, gt, scale, mask = batch
    loss = MODELS.build(dict(type='AdaptiveHeatmapLoss', loss_weight=2.))
    t = [torch.from_numpy(a) for a in batch]
    value = loss(t[0], t[1], None, t[3], scales=t[2])
    assert value.item() == pytest.approx(
        2 * direct_swahr(pred, gt, scale, mask), rel=1e-12)
    unscaled = loss(t[0], t[1], None, t[3])
    assert unscaled.item() == pytest.approx(
        2 * direct_swahr(pred, gt, 0 * scale, mask), rel=1e-12)
    assert unscaled.item() != pytest.approx(value.item(), rel=1e-3)


@pytest.mark.parametrize('channel_mean, share', [('all', 4 / 5),
                                                 ('keypoints', 1)])
def test_channel_mean_gives_keypoints_swahr_share(batch, channel_mean, share):
    """Four keypoint channels and the centre channel: the keypoint
    gradients are SWAHR's own (its loss on the keypoint channels alone)
    with ``'keypoints'``, and K/(K+1) of them with DEKR's mean."""
    pred, gt, scale, mask = batch
    loss = MODELS.build(
        dict(type='AdaptiveHeatmapLoss', channel_mean=channel_mean))
    output = torch.from_numpy(pred).requires_grad_()
    t = [torch.from_numpy(a) for a in (gt, scale, mask)]
    loss(output, t[0], None, t[2], scales=t[1]).backward()
    keypoints = torch.from_numpy(pred[:, :4]).requires_grad_()
    swahr = MODELS.build(dict(type='AdaptiveHeatmapLoss'))
    swahr(keypoints, t[0][:, :4], None, t[2], scales=t[1][:, :4]).backward()
    torch.testing.assert_close(output.grad[:, :4], share * keypoints.grad)
    value = loss(output, *t[:1], None, t[2], scales=t[1]).item()
    assert value == pytest.approx(
        direct_swahr(pred, gt, scale, mask) * 5 / (5 if share < 1 else 4),
        rel=1e-12)


def test_channel_mean_is_checked():
    with pytest.raises(
            ValueError,
            match="channel_mean must be 'all' or "
            "'keypoints', got 'centre'"):
        MODELS.build(dict(type='AdaptiveHeatmapLoss', channel_mean='centre'))


def test_scaled_target_is_second_order_expansion_of_power():
    """H (1 + s ln H + (s ln H)^2 / 2) is H^(1+s) up to the third-order
    term of exp(s ln H)."""
    loss = MODELS.build(dict(type='AdaptiveHeatmapLoss'))
    gt = torch.tensor([[[[0.9, 0.5, 0.1, 0.02, 0.]]]], dtype=torch.float64)
    s = torch.full_like(gt, 0.01)
    # with a zero prediction the weight is H^gamma: recover the target
    zero = torch.zeros_like(gt)
    per_pixel = [
        loss(zero[..., i:i + 1], gt[..., i:i + 1], scales=s[..., i:i + 1])
        for i in range(gt.shape[-1])
    ]
    weight = gt.pow(0.01)
    for i, value in enumerate(per_pixel[:-1]):
        target = (value / weight[..., i]).sqrt().item()
        x = 0.01 * np.log(gt[..., i].item())  # s ln H
        exact = gt[..., i].item() * np.exp(x)
        assert target == pytest.approx(
            exact, rel=1.01 * abs(x)**3 / 6 / np.exp(x))
        assert target != pytest.approx(
            exact, rel=0.99 * abs(x)**3 / 6 / np.exp(x))
    assert per_pixel[-1].item() == 0


def test_target_weights_are_opt_in(batch):
    pred, gt, _, mask = batch
    t = [torch.from_numpy(a) for a in (pred, gt, mask)]
    weights = torch.rand(2, 5, dtype=torch.float64)
    plain = MODELS.build(dict(type='AdaptiveHeatmapLoss'))
    weighted = MODELS.build(
        dict(type='AdaptiveHeatmapLoss', use_target_weight=True))
    assert plain(t[0], t[1], weights, t[2]) == plain(t[0], t[1], None, t[2])
    expected = direct_swahr(pred, gt, 0 * pred,
                            mask * weights.numpy()[..., None, None])
    assert weighted(t[0], t[1], weights, t[2]).item() == pytest.approx(
        expected, rel=1e-12)
    with pytest.raises(ValueError, match='target_weights'):
        weighted(t[0], t[1], None, t[2])
    with pytest.raises(ValueError, match='gamma'):
        MODELS.build(dict(type='AdaptiveHeatmapLoss', gamma=0))


def test_heatmap_scale_loss_is_mean_square_on_foreground(batch):
    _, gt, scale, mask = batch
    loss = MODELS.build(dict(type='HeatmapScaleLoss', loss_weight=0.5))
    value = loss(
        torch.from_numpy(scale), torch.from_numpy(gt), torch.from_numpy(mask))
    expected = np.mean(scale**2 * (gt > 0) * mask)
    assert value.item() == pytest.approx(0.5 * expected, rel=1e-12)
    assert expected < np.mean(scale**2 * mask)
