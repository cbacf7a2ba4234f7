# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Plot the training losses and the validation APs of mmengine work dirs
as PNG.

mmengine writes one JSON line per logged training iteration and per
validation to ``WORK_DIR/<timestamp>/vis_data/scalars.json``, one folder
per run (a resumed training starts a new one). Each work dir given is one
curve, its runs joined in time order; a JSON file may be given instead.
The losses (every logged key starting with ``loss``) are drawn against
the iteration, one panel each, and the validation metrics (by default
every AP, e.g. ``coco/AP``, ``coco/AP .5``, ``crowdpose/AP(H)``) against
the epoch, or the iteration for iteration-based training (whose logger
needs ``log_metric_by_epoch=False``, as mmengine asks). COCO's -1 (no
ground truth of that size) is left out.

Example::

    python tools/plot_logs.py work_dirs/samkr_coco work_dirs/dekr_coco \\
        --out-dir work_dirs/curves

MMPose's ``tools/analysis_tools/analyze_logs.py`` needs seaborn, which
MMPose does not install, and drops the validation lines (they have no
``epoch`` key), so it cannot plot the AP.
"""
import os
import os.path as osp
from typing import List, Optional, Sequence

from .plot_curves import Curves, plot_curves
from .scalar_logs import collect, find_logs, is_ap, read_logs


def plot_logs(paths: Sequence[str],
              out_dir: str,
              loss_keys: Optional[Sequence[str]] = None,
              metric_keys: Optional[Sequence[str]] = None,
              names: Optional[Sequence[str]] = None) -> List[str]:
    """Plot the losses and the validation metrics of work dirs.

    Args:
        paths (Sequence[str]): Work dirs or JSON logs, one curve each.
        out_dir (str): ``loss_curves.png`` and ``ap_curves.png`` (if any
            validation was logged) are written here.
        loss_keys (Sequence[str], optional): The losses; by default every
            key starting with ``loss``.
        metric_keys (Sequence[str], optional): The validation metrics; by
            default every AP.
        names (Sequence[str], optional): A legend name per path; by
            default the folder or file names.

    Returns:
        List[str]: The PNGs written.

    Raises:
        ValueError: If ``names`` does not match ``paths``, a path has no
            training record or none of ``loss_keys``, an iteration-based
            training logged its validations by epoch, or epoch- and
            iteration-based trainings are compared.
    """
    if names is None:
        names = [osp.basename(osp.normpath(p)) for p in paths]
    if len(names) != len(paths):
        raise ValueError(f'{len(names)} names for {len(paths)} logs')
    losses: Curves = {}
    metrics: Curves = {}
    by_epoch = []
    for path, name in zip(paths, names):
        train, val = read_logs(find_logs(path))
        if not train:
            raise ValueError(f'{path} logged no training iteration')
        losses[name] = collect(train, loss_keys)
        if not losses[name]:
            raise ValueError(f'{path} logged none of the losses '
                             f'{list(loss_keys)}')
        # with epochs, mmengine logs the validation at step = epoch
        by_epoch.append('epoch' in train[0])
        if val and val[0]['step'] == 0:
            raise ValueError(
                f'{path} logged validations at step 0: an iteration-based '
                f'training must log them by iteration, with '
                f'default_hooks.logger.log_metric_by_epoch=False')
        if val:
            metrics[name] = collect(val, metric_keys, is_ap)
    if len(set(by_epoch)) > 1:
        raise ValueError('cannot compare the validations of epoch- and '
                         'iteration-based trainings on one axis')
    os.makedirs(out_dir, exist_ok=True)
    written = [osp.join(out_dir, 'loss_curves.png')]
    plot_curves(losses, written[0], 'iteration', 'loss', panels=True)
    if any(metrics.values()):
        written.append(osp.join(out_dir, 'ap_curves.png'))
        plot_curves(
            metrics,
            written[1],
            'epoch' if by_epoch[0] else 'iteration',
            'AP' if metric_keys is None else 'value',
            panels=len(metrics) > 1,
            marker='o')
    return written
