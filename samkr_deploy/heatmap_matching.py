# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import numpy as np


def heatmap_matching(keypoints: np.ndarray,
                     keypoint_scores: np.ndarray,
                     heatmaps: np.ndarray,
                     max_absorb_distance: float = 75.,
                     adjust_threshold: float = 0.05,
                     peak_kernel: int = 5,
                     max_peaks: int = 30,
                     fit_radius: int = 6,
                     fit_sigma: float = 2.,
                     fit_iters: int = 50) -> np.ndarray:
    """Match regressed keypoints to the peaks of the keypoint heatmaps
    (SAMKR Sec. II.C, DEKR's ``TEST.MATCH_HMP``) in NumPy, the steps of
    :func:`samkr_mmpose.models.utils.heatmap_matching`.

    1. Absorption: a keypoint moves to the nearest of the ``max_peaks``
       highest positive local maxima (``peak_kernel`` window) of its own
       heatmap channel if that peak is closer than ``max_absorb_distance``.
       The peaks are kept and tried in the order of a stable sort by
       decreasing height (of equal heights the lower pixel index
       ``y * W + x`` first); of equally near peaks the first wins.
    2. Refinement: a keypoint scoring above ``adjust_threshold`` moves to
       the centre of an isotropic Gaussian least-squares fitted (Marquardt's
       Levenberg-Marquardt, ``fit_iters`` steps from sigma ``fit_sigma``) to
       the heatmap window of ``fit_radius`` around its rounded position,
       unless the fit is not finite or leaves the window.

    Args:
        keypoints (np.ndarray): Keypoints ``(x, y)`` (N, K, 2) in heatmap
            pixels.
        keypoint_scores (np.ndarray): Keypoint scores (N, K).
        heatmaps (np.ndarray): Keypoint heatmaps (K, H, W).
        max_absorb_distance (float): Absorption distance. Defaults to 75.
        adjust_threshold (float): Score above which keypoints are refined.
            Defaults to 0.05.
        peak_kernel (int): Odd window of the peak search. Defaults to 5.
        max_peaks (int): Peaks kept per channel, at least 1. Defaults to
            30.
        fit_radius (int): Half side of the fitted window. Defaults to 6.
        fit_sigma (float): Initial Gaussian sigma. Defaults to 2.
        fit_iters (int): Levenberg-Marquardt steps. Defaults to 50.

    Returns:
        np.ndarray: The matched keypoints (N, K, 2), dtype of ``keypoints``.
    """
    if (heatmaps.ndim != 3 or keypoints.ndim != 3
            or keypoints.shape[1:] != (heatmaps.shape[0], 2)
            or keypoint_scores.shape != keypoints.shape[:2]):
        raise ValueError(
            'expected keypoints (N, K, 2), keypoint_scores (N, K) and '
            f'heatmaps (K, H, W), got {keypoints.shape}, '
            f'{keypoint_scores.shape} and {heatmaps.shape}')
    if peak_kernel < 1 or peak_kernel % 2 == 0:
        raise ValueError(
            f'peak_kernel must be a positive odd integer, got {peak_kernel}')
    if max_peaks < 1:
        raise ValueError(f'max_peaks must be positive, got {max_peaks}')
    if keypoints.size == 0:
        return keypoints.copy()

    matched = _absorb(keypoints, heatmaps, max_absorb_distance, peak_kernel,
                      max_peaks)
    person, joint = np.nonzero(keypoint_scores > adjust_threshold)
    refined = matched[person, joint]
    matched[person, joint] = _fit_gaussians(heatmaps, joint, refined,
                                            fit_radius, fit_sigma, fit_iters)
    return matched


def _absorb(keypoints: np.ndarray, heatmaps: np.ndarray, max_distance: float,
            kernel: int, max_peaks: int) -> np.ndarray:
    """Move every keypoint to its nearest peak of its own channel closer
    than ``max_distance`` (step 1 of :func:`heatmap_matching`)."""
    channels, _, width = heatmaps.shape
    radius = kernel // 2
    padded = np.pad(
        heatmaps, ((0, 0), (radius, radius), (radius, radius)),
        constant_values=-np.inf)
    pooled = np.lib.stride_tricks.sliding_window_view(
        padded, (kernel, kernel), axis=(1, 2)).max(axis=(-2, -1))
    is_peak = (pooled == heatmaps) & (heatmaps > 0)
    peak_values = np.where(is_peak, heatmaps, -np.inf).reshape(channels, -1)
    index = np.argsort(-peak_values, axis=1, kind='stable')[:, :max_peaks]
    values = np.take_along_axis(peak_values, index, 1)
    peaks = np.stack((index % width, index // width),
                     -1).astype(keypoints.dtype)

    # (N, K, M) distances to the peaks of the same channel, by height
    distances = np.linalg.norm(keypoints[:, :, None] - peaks, axis=-1)
    distances[:, np.isinf(values)] = np.inf
    choice = distances.argmin(-1)
    nearest = np.take_along_axis(distances, choice[..., None], -1)[..., 0]
    snapped = peaks[np.arange(channels), choice]
    return np.where((nearest < max_distance)[..., None], snapped, keypoints)


def _fit_gaussians(heatmaps: np.ndarray, channels: np.ndarray,
                   points: np.ndarray, radius: int, sigma: float,
                   iters: int) -> np.ndarray:
    """Fit one isotropic Gaussian to the window around every point (step 2
    of :func:`heatmap_matching`), in float64.

    The window gathering and the Levenberg-Marquardt loop stay in one
    function (about 60 lines) so that it reads line by line beside its
    PyTorch twin, :func:`samkr_mmpose.models.utils.heatmap_matching`.

    Args:
        heatmaps (np.ndarray): Heatmaps (K, H, W).
        channels (np.ndarray): Channel of every point (B, ).
        points (np.ndarray): Points ``(x, y)`` (B, 2).
        radius (int): Half side of the window.
        sigma (float): Initial sigma.
        iters (int): Levenberg-Marquardt steps.

    Returns:
        np.ndarray: The fitted centres ``(x0, y0)`` (B, 2); the input point
        where the fit failed.
    """
    _, height, width = heatmaps.shape
    points = points.astype(np.float64)
    col = np.clip(np.trunc(points[:, 0] + 0.5).astype(np.int64), 0, width - 1)
    row = np.clip(np.trunc(points[:, 1] + 0.5).astype(np.int64), 0, height - 1)
    steps = np.arange(-radius, radius + 1)
    rows, cols = row[:, None] + steps, col[:, None] + steps
    window = (len(points), len(steps), len(steps))
    # explicit sizes: -1 cannot be inferred when there are no points
    flat = (len(points), len(steps)**2)
    inside = (((rows >= 0) & (rows < height))[:, :, None]
              & ((cols >= 0) & (cols < width))[:, None, :]).reshape(flat)
    grid_y = np.broadcast_to(rows[:, :, None], window).reshape(flat)
    grid_x = np.broadcast_to(cols[:, None, :], window).reshape(flat)
    data = heatmaps[channels[:, None],
                    np.clip(grid_y, 0, height - 1),
                    np.clip(grid_x, 0, width - 1)].astype(np.float64)
    grid_x, grid_y = grid_x.astype(np.float64), grid_y.astype(np.float64)

    def residuals_and_jacobian(params: np.ndarray):
        amplitude, x0, y0, s = params.T
        dx, dy = grid_x - x0[:, None], grid_y - y0[:, None]
        squared = dx**2 + dy**2
        inv_var = 1 / s[:, None]**2
        gauss = np.exp(-0.5 * squared * inv_var)
        model = amplitude[:, None] * gauss
        residuals = (model - data) * inside
        jacobian = np.stack(
            (gauss, model * dx * inv_var, model * dy * inv_var,
             model * squared * inv_var / s[:, None]), -1) * inside[..., None]
        return residuals, jacobian

    params = np.stack(
        (heatmaps[channels, row, col], col, row, np.full(len(points), sigma)),
        -1).astype(np.float64)
    with np.errstate(all='ignore'):
        residuals, jacobian = residuals_and_jacobian(params)
        cost = (residuals**2).sum(-1)
        damping = np.full_like(cost, 1e-3)
        eye = np.eye(4)
        for _ in range(iters):
            normal = jacobian.transpose(0, 2, 1) @ jacobian
            gradient = (
                jacobian.transpose(0, 2, 1) @ residuals[..., None])[..., 0]
            scaled = normal + damping[:, None, None] * (
                normal * eye + 1e-12 * eye)
            trial = params + _solve(scaled, -gradient)
            trial_residuals, trial_jacobian = residuals_and_jacobian(trial)
            trial_cost = (trial_residuals**2).sum(-1)
            better = np.isfinite(trial_cost) & (trial_cost < cost)
            params = np.where(better[:, None], trial, params)
            residuals = np.where(better[:, None], trial_residuals, residuals)
            jacobian = np.where(better[:, None, None], trial_jacobian,
                                jacobian)
            cost = np.where(better, trial_cost, cost)
            damping = np.clip(
                np.where(better, damping / 10, damping * 10), 1e-12, 1e12)

    centre = params[:, 1:3]
    low = np.stack((np.maximum(col - radius, 0), np.maximum(row - radius, 0)),
                   -1)
    high = np.stack((np.minimum(
        col + radius, width - 1), np.minimum(row + radius, height - 1)), -1)
    valid = (
        np.isfinite(params).all(-1) & (centre >= low).all(-1)
        & (centre <= high).all(-1))
    return np.where(valid[:, None], centre, points)


def _solve(matrices: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Solve a batch of 4 x 4 systems; NaN for a singular one (as
    ``torch.linalg.solve_ex`` gives a non-finite or ignored result)."""
    try:
        return np.linalg.solve(matrices, vectors[..., None])[..., 0]
    except np.linalg.LinAlgError:
        solutions = np.full_like(vectors, np.nan)
        for i, (matrix, vector) in enumerate(zip(matrices, vectors)):
            try:
                solutions[i] = np.linalg.solve(matrix, vector)
            except np.linalg.LinAlgError:
                pass
        return solutions
