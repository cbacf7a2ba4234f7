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
import argparse
import glob
import json
import math
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from matplotlib.figure import Figure

# {key: (steps, values)}
Series = Dict[str, Tuple[List[float], List[float]]]
# {run name: Series}
Curves = Dict[str, Series]


def find_logs(path: str) -> List[str]:
    """The scalar logs of a work dir, in run order, or a JSON log itself.

    Args:
        path (str): A work dir, one run's ``<timestamp>`` folder, or a
            JSON log.

    Returns:
        List[str]: The JSON logs.

    Raises:
        ValueError: If ``path`` holds no mmengine scalar log.
    """
    if osp.isfile(path):
        return [path]
    # mmengine's timestamps (YYYYmmdd_HHMMSS) sort in time order
    logs = sorted(
        glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')) +
        glob.glob(osp.join(path, 'vis_data', 'scalars.json')))
    if not logs:
        raise ValueError(f'{path} is no JSON log and holds no '
                         f'<timestamp>/vis_data/scalars.json')
    return logs


def read_logs(logs: Sequence[str]) -> Tuple[List[dict], List[dict]]:
    """Split the lines of JSON logs into training and validation records.

    A later run's record of the same step replaces the earlier one (a run
    resumed from an earlier checkpoint repeats steps).

    Args:
        logs (Sequence[str]): JSON logs, in run order.

    Returns:
        tuple: The training records (they have a ``loss``) and the
        validation records (the others with a metric), each sorted by
        ``step``.
    """
    train: Dict[int, dict] = {}
    val: Dict[int, dict] = {}
    for log in logs:
        with open(log) as f:
            for line in f:
                if not line.strip():
                    continue
                record = json.loads(line)
                if 'loss' in record:
                    train[record['step']] = record
                elif any('/' in key for key in record):
                    val[record['step']] = record
    return ([train[s] for s in sorted(train)], [val[s] for s in sorted(val)])


def is_loss(key: str) -> bool:
    """Whether a training key is a loss, e.g. ``loss/heatmap``."""
    return key.startswith('loss')


def is_ap(key: str) -> bool:
    """Whether a validation key is an AP, e.g. ``coco/AP (M)``."""
    return '/' in key and key.rsplit('/', 1)[1].startswith('AP')


def collect(records: Sequence[dict],
            keys: Optional[Sequence[str]] = None,
            default: Callable[[str], bool] = is_loss) -> Series:
    """The series of some keys of log records, against their ``step``.

    Args:
        records (Sequence[dict]): The records, in step order.
        keys (Sequence[str], optional): The keys; by default every logged
            key for which ``default`` holds, in logging order.
        default (Callable[[str], bool]): Selects the default keys.
            Defaults to :func:`is_loss`.

    Returns:
        dict: ``{key: (steps, values)}``, without COCO's -1 and keys with
        no value.
    """
    if keys is None:
        keys = [
            k for k in dict.fromkeys(k for r in records for k in r)
            if default(k)
        ]
    series = {}
    for key in keys:
        points = [(r['step'], r[key]) for r in records
                  if key in r and r[key] != -1]
        if points:
            series[key] = tuple(map(list, zip(*points)))
    return series


def plot_curves(curves: Curves,
                out_file: str,
                x_label: str,
                y_label: str,
                panels: bool,
                marker: str = '') -> None:
    """Draw curves and write them as a PNG.

    Args:
        curves (Curves): ``{run name: {key: (xs, ys)}}``.
        out_file (str): The PNG to write.
        x_label (str): The x axis label.
        y_label (str): The y axis label of the shared panel.
        panels (bool): One panel per key (runs compared in each), else all
            keys in one panel.
        marker (str): The matplotlib marker of the points. Defaults to
            ``''`` (none).
    """
    keys = list(dict.fromkeys(k for c in curves.values() for k in c))
    groups = [[k] for k in keys] if panels else [keys]
    cols = min(len(groups), 2)
    rows = math.ceil(len(groups) / cols)
    # no pyplot: no GUI backend, no global figure
    fig = Figure(figsize=(6 * cols, 4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, group in zip(axes.flat, groups):
        for name, series in curves.items():
            for key in group:
                if key not in series:
                    continue
                label = [name] if len(curves) > 1 else []
                label += [] if panels else [key]
                ax.plot(
                    *series[key], marker=marker, label=' '.join(label) or None)
        ax.set_xlabel(x_label)
        ax.set_ylabel(group[0] if panels else y_label)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize='small')
    for ax in axes.flat[len(groups):]:
        ax.axis('off')
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)


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


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'paths', nargs='+', help='work dirs or JSON logs, one curve each')
    parser.add_argument(
        '--out-dir',
        help='where the PNGs go; by default the first path\'s '
        'folder')
    parser.add_argument(
        '--losses', nargs='+', help='loss keys; by default all')
    parser.add_argument(
        '--metrics',
        nargs='+',
        help='validation keys, e.g. coco/AP coco/AR; by default every AP')
    parser.add_argument(
        '--names', nargs='+', help='legend names, one per path')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    first = args.paths[0]
    out_dir = args.out_dir or (first if osp.isdir(first) else osp.dirname(
        osp.abspath(first)))
    for png in plot_logs(args.paths, out_dir, args.losses, args.metrics,
                         args.names):
        print(f'Wrote {png}')


if __name__ == '__main__':
    main()
