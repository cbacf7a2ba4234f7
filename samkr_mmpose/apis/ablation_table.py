# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The results of the ablation harness as a Markdown table and a plot."""
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np

# the metrics shown, in order, where the runs have them
METRICS = ('coco/AP', 'coco/AP .5', 'coco/AP .75', 'coco/AP (M)',
           'coco/AP (L)', 'crowdpose/AP', 'crowdpose/AP .5',
           'crowdpose/AP .75', 'crowdpose/AP(E)', 'crowdpose/AP(M)',
           'crowdpose/AP(H)')


def metric_values(records: List[Dict], name: str, metric: str) -> np.ndarray:
    """The values of a metric over the seeds of one config."""
    return np.array([
        r['metrics'][metric] for r in records
        if r['config'] == name and metric in r['metrics']
    ])


def shown_metrics(records: List[Dict]) -> List[str]:
    """The metrics of :data:`METRICS` that every run has, less those that
    are -1 in all (``CocoMetric``'s value for no ground truth, e.g. no
    large people)."""
    shown = [
        m for m in METRICS
        if all(m in r['metrics']
               for r in records) and any(r['metrics'][m] != -1
                                         for r in records)
    ]
    if not shown:
        raise ValueError(f'the runs share none of the metrics {METRICS}')
    return shown


def results_table(records: List[Dict], names: Sequence[str]) -> str:
    """A Markdown table: per config, mean +- std (over seeds, ddof 1) of
    every metric, and each seed's AP.

    Args:
        records (List[dict]): ``config``, ``seed`` and ``metrics`` per run.
        names (Sequence[str]): The configs, in the table's order.

    Returns:
        str: The table.
    """
    metrics = shown_metrics(records)
    lines = [
        '| config | seeds | ' + ' | '.join(metrics) + ' | AP per seed |',
        '| --- | :-: |' + ' :-: |' * len(metrics) + ' --- |'
    ]
    for name in names:
        cells = [_mean_std(metric_values(records, name, m)) for m in metrics]
        seeds = [
            f"{r['seed']}: {r['metrics'][metrics[0]]:.3f}" for r in records
            if r['config'] == name
        ]
        lines.append(f'| {name} | {len(seeds)} | ' + ' | '.join(cells) +
                     f" | {', '.join(seeds)} |")
    return '\n'.join(lines) + '\n'


def plot_results(records: List[Dict], names: Sequence[str],
                 out_file: str) -> None:
    """Bars of the mean AP per config with the seed spread (std) and each
    seed's AP as a dot.

    Args:
        records (List[dict]): The runs.
        names (Sequence[str]): The configs, in the plot's order.
        out_file (str): The image to write.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    metric = shown_metrics(records)[0]
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 2, 4.5))
    for i, name in enumerate(names):
        values = metric_values(records, name, metric)
        ax.bar(i, values.mean(), yerr=_std(values), capsize=4, alpha=0.6)
        ax.plot(np.full(len(values), i), values, 'k.')
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(_short_names(names), rotation=30, ha='right')
    ax.set_ylabel(f'{metric} (mean, std over seeds, each seed)')
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)


def _short_names(names: Sequence[str]) -> List[str]:
    """The names without the suffix they all share from an underscore on
    (``_hrnet-w32_8xb10-140e_coco-512x512``)."""
    suffix = osp.commonprefix([n[::-1] for n in names])[::-1]
    if len(names) < 2 or '_' not in suffix:
        return list(names)
    suffix = suffix[suffix.index('_'):]
    return [n[:-len(suffix)] for n in names]


def _std(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if len(values) > 1 else 0.


def _mean_std(values: np.ndarray) -> str:
    return f'{values.mean():.3f} +- {_std(values):.3f}'
