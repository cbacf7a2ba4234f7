# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Draw curves of logged scalars as a PNG."""
import math
from typing import Dict

from .scalar_logs import Series

# {run name: Series}
Curves = Dict[str, Series]


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
    # imported here, as matplotlib is slow to import; no pyplot: no GUI
    # backend, no global figure
    from matplotlib.figure import Figure
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
