# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import math

import numpy as np
import pytest
import torch
from scipy.optimize import curve_fit

from samkr_mmpose.models import heatmap_matching

HEIGHT, WIDTH = 40, 56

pytestmark = pytest.mark.usefixtures('one_thread')


def gaussian(x0, y0, sigma=2., amplitude=1.):
    y, x = torch.meshgrid(
        torch.arange(HEIGHT, dtype=torch.float64),
        torch.arange(WIDTH, dtype=torch.float64),
        indexing='ij')
    return amplitude * torch.exp(-((x - x0)**2 + (y - y0)**2) / (2 * sigma**2))


def random_heatmaps(num_keypoints, seed, noise=0.02):
    """Five Gaussian blobs and uniform noise per channel; and the blob
    centres in shape (K, 5, 2)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform((4, 4), (WIDTH - 4, HEIGHT - 4),
                          (num_keypoints, 5, 2))
    maps = [
        sum(
            gaussian(x, y, rng.uniform(1.5, 3), rng.uniform(.2, 1))
            for x, y in blobs) +
        torch.from_numpy(rng.uniform(-noise, noise, (HEIGHT, WIDTH)))
        for blobs in centres
    ]
    return torch.stack(maps).float(), torch.from_numpy(centres).float()


def reference_absorb(keypoints, heatmaps, max_distance, kernel, max_peaks):
    """DEKR's absorption rule written with plain loops."""
    keypoints = keypoints.tolist()
    for k, heatmap in enumerate(heatmaps.tolist()):
        peaks = []
        for y in range(HEIGHT):
            for x in range(WIDTH):
                window = [
                    heatmap[j][i] for j in range(
                        max(0, y -
                            kernel // 2), min(HEIGHT, y + kernel // 2 + 1))
                    for i in range(
                        max(0, x - kernel // 2), min(WIDTH, x + kernel // 2 +
                                                     1))
                ]
                if heatmap[y][x] > 0 and heatmap[y][x] == max(window):
                    peaks.append((heatmap[y][x], x, y))
        peaks = sorted(peaks, reverse=True)[:max_peaks]
        for person in keypoints:
            x, y = person[k]
            best = min(peaks, key=lambda p: math.hypot(p[1] - x, p[2] - y))
            if math.hypot(best[1] - x, best[2] - y) < max_distance:
                person[k] = [float(best[1]), float(best[2])]
    return torch.tensor(keypoints)


def reference_fit(heatmap, x, y, radius, sigma):
    """DEKR's refinement of one keypoint with SciPy's ``curve_fit``."""
    row = min(max(int(y + 0.5), 0), HEIGHT - 1)
    col = min(max(int(x + 0.5), 0), WIDTH - 1)
    rows = np.arange(max(0, row - radius), min(HEIGHT - 1, row + radius) + 1)
    cols = np.arange(max(0, col - radius), min(WIDTH - 1, col + radius) + 1)
    grid_y, grid_x = np.meshgrid(rows, cols, indexing='ij')
    window = heatmap.double().numpy()[grid_y, grid_x]

    def model(points, amplitude, x0, y0, s):
        px, py = points
        return amplitude * np.exp(-((px - x0)**2 + (py - y0)**2) / (2 * s**2))

    params, _ = curve_fit(
        model, (grid_x.ravel(), grid_y.ravel()),
        window.ravel(),
        p0=(heatmap[row, col].item(), col, row, sigma),
        maxfev=300)
    return params[1:3]


def test_near_keypoint_snaps_and_far_keypoint_stays():
    heatmaps = torch.stack([gaussian(20, 15), gaussian(40, 30)]).float()
    keypoints = torch.tensor([[[24., 18.], [40., 30.]], [[20., 30.],
                                                         [52., 38.]]])
    out = heatmap_matching(
        keypoints,
        torch.zeros(2, 2),
        heatmaps,
        max_absorb_distance=10,
        adjust_threshold=0.5)
    # distances 5 and 0 to the peaks: absorbed; 15 and 14.4: kept
    assert out.tolist() == [[[20., 15.], [40., 30.]], [[20., 30.], [52., 38.]]]


def test_peaks_of_other_keypoint_types_never_absorb():
    heatmaps = torch.stack([gaussian(5, 5), gaussian(30, 20)]).float()
    # both keypoints sit next to channel 1's peak
    keypoints = torch.tensor([[[31., 21.], [31., 21.]]])
    out = heatmap_matching(
        keypoints, torch.zeros(1, 2), heatmaps, max_absorb_distance=10)
    assert out.tolist() == [[[31., 21.], [30., 20.]]]


def test_no_people():
    heatmaps, _ = random_heatmaps(3, seed=0)
    out = heatmap_matching(torch.zeros(0, 3, 2), torch.zeros(0, 3), heatmaps)
    assert out.shape == (0, 3, 2)


@pytest.mark.parametrize('max_peaks, distance', [(3, 12), (30, 4)])
def test_absorption_equals_loop_reference(max_peaks, distance):
    heatmaps, _ = random_heatmaps(3, seed=1)
    rng = np.random.default_rng(2)
    keypoints = torch.from_numpy(
        rng.uniform((-5, -5), (WIDTH + 5, HEIGHT + 5), (8, 3, 2))).float()
    out = heatmap_matching(
        keypoints,
        torch.zeros(8, 3),
        heatmaps,
        max_absorb_distance=distance,
        peak_kernel=5,
        max_peaks=max_peaks)
    expected = reference_absorb(keypoints, heatmaps, distance, 5, max_peaks)
    moved = (out != keypoints).any(-1)
    assert 0 < moved.sum() < moved.numel()
    assert torch.equal(out, expected)


def test_refinement_equals_scipy_curve_fit():
    heatmaps, centres = random_heatmaps(2, seed=3, noise=0.005)
    rng = np.random.default_rng(4)
    # people with keypoints around the blobs, partly confident
    keypoints = (
        centres.transpose(0, 1) +
        torch.from_numpy(rng.uniform(-3, 3, (5, 2, 2))).float())
    scores = torch.from_numpy(rng.uniform(0, 0.2, (5, 2))).float()
    absorbed = heatmap_matching(
        keypoints,
        scores,
        heatmaps,
        max_absorb_distance=5,
        adjust_threshold=1.)
    out = heatmap_matching(
        keypoints,
        scores,
        heatmaps,
        max_absorb_distance=5,
        adjust_threshold=0.05)
    refined = 0
    for n in range(5):
        for k in range(2):
            if scores[n, k] <= 0.05:
                assert torch.equal(out[n, k], absorbed[n, k])
                continue
            expected = reference_fit(heatmaps[k], *absorbed[n, k].tolist(), 6,
                                     2.)
            np.testing.assert_allclose(out[n, k], expected, atol=1e-3)
            refined += 1
    assert refined >= 4


def test_refinement_finds_the_sub_pixel_peak():
    heatmaps = torch.stack([gaussian(20.3, 14.7, sigma=3)] * 2).float()
    keypoints = torch.tensor([[[23., 12.], [23., 12.]]])
    scores = torch.tensor([[1., 0.01]])
    out = heatmap_matching(keypoints, scores, heatmaps, max_absorb_distance=8)
    # above the threshold: the true centre; below it: the peak pixel
    assert torch.allclose(out[0, 0], torch.tensor([20.3, 14.7]), atol=1e-3)
    assert out[0, 1].tolist() == [20., 15.]


def test_fit_without_a_peak_keeps_the_keypoint():
    # a ramp: the best Gaussian's centre leaves the fitted window
    heatmaps = torch.linspace(0.1, 1, WIDTH).expand(1, HEIGHT, WIDTH)
    keypoints = torch.tensor([[[20.4, 16.6]]])
    out = heatmap_matching(
        keypoints, torch.ones(1, 1), heatmaps, max_absorb_distance=1)
    assert torch.equal(out, keypoints)
    # where DEKR's curve_fit moves it
    assert reference_fit(heatmaps[0], 20.4, 16.6, 6, 2.)[0] > 20 + 6


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match=r'\(4, 2, 2\)'):
        heatmap_matching(
            torch.zeros(4, 2, 2), torch.zeros(4, 2),
            torch.zeros(3, HEIGHT, WIDTH))
    with pytest.raises(ValueError, match='peak_kernel'):
        heatmap_matching(
            torch.zeros(1, 3, 2),
            torch.zeros(1, 3),
            torch.zeros(3, HEIGHT, WIDTH),
            peak_kernel=4)
