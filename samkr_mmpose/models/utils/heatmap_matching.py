# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Tuple

import torch
from torch import Tensor

from samkr_mmpose.ops import max_filter2d


def heatmap_matching(keypoints: Tensor,
                     keypoint_scores: Tensor,
                     heatmaps: Tensor,
                     max_absorb_distance: float = 75.,
                     adjust_threshold: float = 0.05,
                     peak_kernel: int = 5,
                     max_peaks: int = 30,
                     fit_radius: int = 6,
                     fit_sigma: float = 2.,
                     fit_iters: int = 50) -> Tensor:
    """Match regressed keypoints to the peaks of the keypoint heatmaps.

    The test-time matching of the paper (Sec. II.C: "matching the position
    of the keypoint with the last keypoint detected from the heatmap"),
    i.e. DEKR's ``TEST.MATCH_HMP``. The defaults are DEKR's, whose heatmaps
    are upsampled to the input resolution, so that all lengths below are
    input pixels. ``keypoints`` and ``heatmaps`` share one pixel grid:
    ``(x, y)`` is column ``x`` and row ``y`` of ``heatmaps``.

    1. Absorption. The peaks of channel ``k`` are its positive local maxima
       (equal to their ``peak_kernel`` x ``peak_kernel`` max-pool), of which
       the ``max_peaks`` highest are kept, in the order of a stable sort by
       decreasing height: of equal heights (plateaus, the replicated
       border of upsampled heatmaps) the lower pixel index ``y * W + x``
       comes first and is kept first. Every keypoint of type ``k`` is
       moved to the integer position of its nearest (Euclidean) peak of
       channel ``k`` if that peak is closer than ``max_absorb_distance``;
       otherwise it stays. Of equally near peaks the first in that order
       wins. Peaks of other channels are never used.
    2. Refinement. Every keypoint whose score exceeds ``adjust_threshold``
       (absorbed or not) is rounded to the pixel
       ``(r, c) = (trunc(y + 0.5), trunc(x + 0.5))``, clipped to the map.
       The heatmap values of the window of rows ``r - fit_radius`` to
       ``r + fit_radius`` and the same columns, cut at the map border, are
       least-squares fitted by ``A * exp(-((x - x0)^2 + (y - y0)^2) /
       (2 * sigma^2))``, starting from ``A = heatmaps[k, r, c]``,
       ``(x0, y0) = (c, r)`` and ``sigma = fit_sigma``, with
       ``fit_iters`` Levenberg-Marquardt steps (Marquardt's diagonal
       scaling; a step is kept only if it lowers the squared error). The
       keypoint moves to ``(x0, y0)`` unless the fit failed. DEKR fits
       with SciPy's ``curve_fit`` and a fit fails when it does not
       converge; here it fails when its result is not finite or its
       centre lies outside the window. (DEKR also pairs the values of a
       window cut by the border with the wrong coordinates; here they
       keep theirs.)

    Keypoint scores are not changed (as in DEKR).

    Args:
        keypoints (Tensor): Regressed keypoints ``(x, y)`` in shape
            (N, K, 2).
        keypoint_scores (Tensor): Keypoint scores in shape (N, K), compared
            with ``adjust_threshold``.
        heatmaps (Tensor): Keypoint heatmaps in shape (K, H, W).
        max_absorb_distance (float): A keypoint is absorbed by a peak closer
            than this. Defaults to 75 (DEKR's, input pixels).
        adjust_threshold (float): Keypoints scoring above this are refined.
            Defaults to 0.05.
        peak_kernel (int): Odd max-pool window of the peak search. Defaults
            to 5.
        max_peaks (int): Peaks kept per channel, at least 1. Defaults to
            30.
        fit_radius (int): Half side of the fitted window. Defaults to 6.
        fit_sigma (float): Initial Gaussian sigma of the fit. Defaults to 2.
        fit_iters (int): Levenberg-Marquardt steps. Defaults to 50.

    Returns:
        Tensor: The matched keypoints in shape (N, K, 2), dtype of
        ``keypoints``.
    """
    if (heatmaps.dim() != 3 or keypoints.dim() != 3
            or keypoints.shape[1:] != (heatmaps.shape[0], 2)
            or keypoint_scores.shape != keypoints.shape[:2]):
        raise ValueError(
            'expected keypoints (N, K, 2), keypoint_scores (N, K) and '
            f'heatmaps (K, H, W), got {tuple(keypoints.shape)}, '
            f'{tuple(keypoint_scores.shape)} and {tuple(heatmaps.shape)}')
    if peak_kernel < 1 or peak_kernel % 2 == 0:
        raise ValueError(
            f'peak_kernel must be a positive odd integer, got {peak_kernel}')
    if max_peaks < 1:
        raise ValueError(f'max_peaks must be positive, got {max_peaks}')
    if keypoints.numel() == 0:
        return keypoints.clone()

    matched = _absorb(keypoints, heatmaps, max_absorb_distance, peak_kernel,
                      max_peaks)
    person, joint = (keypoint_scores > adjust_threshold).nonzero(as_tuple=True)
    matched[person, joint] = _fit_gaussians(heatmaps, joint,
                                            matched[person, joint], fit_radius,
                                            fit_sigma, fit_iters).to(matched)
    return matched


def _absorb(keypoints: Tensor, heatmaps: Tensor, max_distance: float,
            kernel: int, max_peaks: int) -> Tensor:
    """Move every keypoint to its nearest peak of its own channel closer
    than ``max_distance`` (step 1 of :func:`heatmap_matching`)."""
    width = heatmaps.shape[-1]
    pooled = max_filter2d(heatmaps, kernel)
    is_peak = (pooled == heatmaps) & (heatmaps > 0)
    peak_values = heatmaps.masked_fill(~is_peak, -float('inf')).flatten(1)
    values, index = _highest(peak_values, min(max_peaks, peak_values.shape[1]))
    peaks = torch.stack((index % width, index // width), -1).to(keypoints)

    # (N, K, M) distances to the peaks of the same channel, sorted by height
    distances = (keypoints[:, :, None] - peaks).norm(dim=-1)
    distances = distances.masked_fill(values.isinf(), float('inf'))
    nearest, choice = distances.min(-1)
    snapped = peaks[torch.arange(len(peaks), device=peaks.device), choice]
    return torch.where((nearest < max_distance)[..., None], snapped, keypoints)


def _highest(values: Tensor, k: int) -> Tuple[Tensor, Tensor]:
    """The ``k`` highest positive values of every row and their indices, by
    decreasing value and equal values by increasing index, as a stable sort
    gives them (``topk`` picks and orders tied values arbitrarily).

    Args:
        values (Tensor): Values in shape (R, L), positive or ``-inf``.
        k (int): Values kept per row, 1 to L.

    Returns:
        tuple: The values and their indices, both in shape (R, k); a row of
        fewer positive values ends in ``-inf`` at index 0.
    """
    kth = values.topk(k).values[:, -1:]
    # the candidates: positive and at least the k-th (few, but all of a tie)
    smallest = torch.nextafter(kth.new_zeros(()), kth.new_ones(()))
    row, col = (values >= kth.clamp(min=smallest)).nonzero(as_tuple=True)
    found = values[row, col]
    order = found.argsort(descending=True, stable=True)
    order = order[row[order].argsort(stable=True)]
    row, col, found = row[order], col[order], found[order]
    counts = torch.bincount(row, minlength=len(values))
    rank = torch.arange(
        len(row), device=row.device) - (counts.cumsum(0) - counts)[row]
    keep = rank < k
    top_values = values.new_full((len(values), k), -float('inf'))
    top_values[row[keep], rank[keep]] = found[keep]
    top_index = row.new_zeros((len(values), k))
    top_index[row[keep], rank[keep]] = col[keep]
    return top_values, top_index


def _fit_gaussians(heatmaps: Tensor, channels: Tensor, points: Tensor,
                   radius: int, sigma: float, iters: int) -> Tensor:
    """Fit one isotropic Gaussian to the window around every point (step 2
    of :func:`heatmap_matching`).

    The window gathering and the Levenberg-Marquardt loop stay in one
    function (about 60 lines) so that it reads line by line beside its
    NumPy twin, :func:`samkr_deploy.heatmap_matching`.

    Args:
        heatmaps (Tensor): Heatmaps in shape (K, H, W).
        channels (Tensor): Channel of every point in shape (B, ).
        points (Tensor): Points ``(x, y)`` in shape (B, 2).
        radius (int): Half side of the window.
        sigma (float): Initial sigma.
        iters (int): Levenberg-Marquardt steps.

    Returns:
        Tensor: The fitted centres ``(x0, y0)`` in shape (B, 2), float64;
        the input point where the fit failed.
    """
    _, height, width = heatmaps.shape
    points = points.double()
    col = torch.trunc(points[:, 0] + 0.5).long().clamp(0, width - 1)
    row = torch.trunc(points[:, 1] + 0.5).long().clamp(0, height - 1)
    steps = torch.arange(-radius, radius + 1, device=heatmaps.device)
    rows, cols = row[:, None] + steps, col[:, None] + steps
    inside = (((rows >= 0) & (rows < height))[:, :, None]
              & ((cols >= 0) & (cols < width))[:, None, :]).flatten(1)
    grid_y = rows[:, :, None].expand(-1, -1, len(steps)).flatten(1)
    grid_x = cols[:, None, :].expand(-1, len(steps), -1).flatten(1)
    data = heatmaps[channels[:, None],
                    grid_y.clamp(0, height - 1),
                    grid_x.clamp(0, width - 1)].double()
    grid_x, grid_y = grid_x.double(), grid_y.double()

    def residuals_and_jacobian(params: Tensor):
        amplitude, x0, y0, s = params.unbind(-1)
        dx, dy = grid_x - x0[:, None], grid_y - y0[:, None]
        squared = dx**2 + dy**2
        inv_var = 1 / s[:, None]**2
        gauss = torch.exp(-0.5 * squared * inv_var)
        model = amplitude[:, None] * gauss
        residuals = (model - data) * inside
        jacobian = torch.stack(
            (gauss, model * dx * inv_var, model * dy * inv_var,
             model * squared * inv_var / s[:, None]), -1) * inside[..., None]
        return residuals, jacobian

    params = torch.stack((heatmaps[channels, row, col].double(), col.double(),
                          row.double(), torch.full_like(points[:, 0], sigma)),
                         -1)
    residuals, jacobian = residuals_and_jacobian(params)
    cost = (residuals**2).sum(-1)
    damping = torch.full_like(cost, 1e-3)
    eye = torch.eye(4, dtype=params.dtype, device=params.device)
    for _ in range(iters):
        normal = jacobian.transpose(1, 2) @ jacobian
        gradient = (jacobian.transpose(1, 2) @ residuals[..., None])[..., 0]
        scaled = normal + damping[:, None, None] * (normal * eye + 1e-12 * eye)
        step = torch.linalg.solve_ex(scaled, -gradient)[0]
        trial = params + step
        trial_residuals, trial_jacobian = residuals_and_jacobian(trial)
        trial_cost = (trial_residuals**2).sum(-1)
        better = torch.isfinite(trial_cost) & (trial_cost < cost)
        params = torch.where(better[:, None], trial, params)
        residuals = torch.where(better[:, None], trial_residuals, residuals)
        jacobian = torch.where(better[:, None, None], trial_jacobian, jacobian)
        cost = torch.where(better, trial_cost, cost)
        damping = torch.where(better, damping / 10,
                              damping * 10).clamp(1e-12, 1e12)

    centre = params[:, 1:3]
    low = torch.stack(
        ((col - radius).clamp(min=0), (row - radius).clamp(min=0)), -1)
    high = torch.stack(((col + radius).clamp(max=width - 1),
                        (row + radius).clamp(max=height - 1)), -1)
    valid = (
        torch.isfinite(params).all(-1) & (centre >= low).all(-1)
        & (centre <= high).all(-1))
    return torch.where(valid[:, None], centre, points)
