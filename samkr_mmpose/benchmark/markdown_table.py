# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Markdown tables of the benchmark's figures."""
from typing import List


def fmt(value, digits: int = 1) -> str:
    """A figure, or the reason it is missing."""
    if value is None:
        return '-'
    return value if isinstance(value, str) else f'{value:.{digits}f}'


def ratio(value, base) -> str:
    """``value / base`` to 2 decimals, or ``-`` if either is missing."""
    if isinstance(value, str) or isinstance(base, str) or not base:
        return '-'
    return f'{value / base:.2f}'


def table(header: List[str], rows: List[List[str]]) -> str:
    """A Markdown table with the columns padded to their widest cell."""
    widths = [
        max(len(r[i]) for r in [header] + rows) for i in range(len(header))
    ]
    lines = [header, ['-' * w for w in widths]] + rows
    return '\n'.join('| ' + ' | '.join(c.ljust(w)
                                       for c, w in zip(r, widths)) + ' |'
                     for r in lines)
