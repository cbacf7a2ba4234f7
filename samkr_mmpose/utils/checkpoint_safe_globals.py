# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Let torch's weights-only unpickler load mmengine runner checkpoints.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True`` while
mmengine 0.10 calls it without that argument, so the checkpoints an MMPose
run saves fail to load for testing, ``resume`` and ``load_from``. Besides
tensors they hold numpy arrays, dtypes and scalars (``meta['dataset_meta']``
with the keypoint colours, sigmas and weights; the message hub's logged
values, ``eta`` and ``best_score``), the message hub's ``HistoryBuffer``
objects, and the ``HistoryBuffer`` statistics methods its ``__getstate__``
saves, which pickle protocol 2 writes as ``getattr(HistoryBuffer, 'mean')``.

Only these exact globals are allowed; weights-only loading stays on.
``builtins.getattr`` itself is never allowed: a pickle may call it on any
object it can reach with any name, e.g. ``getattr(f, '__globals__')`` of an
allowed function, the usual first step of an escape towards
``getattr(os, 'system')``. The name ``builtins.getattr`` is bound instead to
:func:`history_buffer_getattr`, which answers only the four statistics
lookups and refuses any other with ``pickle.UnpicklingError``.
"""
import pickle
from typing import Any, Callable

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.utils import digit_version

# the methods HistoryBuffer._set_default_statistics registers
HISTORY_BUFFER_STATISTICS = ('current', 'max', 'mean', 'min')


def history_buffer_getattr(obj: Any, name: Any) -> Callable:
    """The ``builtins.getattr`` that checkpoints may call.

    Args:
        obj (Any): The object the pickle looks the attribute up on.
        name (Any): The attribute name.

    Returns:
        Callable: ``getattr(HistoryBuffer, name)`` for a statistics method.

    Raises:
        pickle.UnpicklingError: For any other lookup, naming it.
    """
    # the type check keeps ``in`` from comparing arrays or tensors
    if (obj is not HistoryBuffer or not isinstance(name, str)
            or name not in HISTORY_BUFFER_STATISTICS):
        raise pickle.UnpicklingError(
            f'Refused getattr({obj!r}, {name!r}) in a checkpoint: only the '
            f'HistoryBuffer statistics methods {HISTORY_BUFFER_STATISTICS} '
            'may be looked up')
    return getattr(HistoryBuffer, name)


# the functions numpy's own pickling rebuilds arrays and scalars with,
# allowed under the module names numpy 1.x and 2.x write
_NUMPY_REBUILDERS = (np.zeros(0).__reduce__()[0],
                     np.float64(0).__reduce__()[0])
# uint8 keypoint colours, float32 sigmas and keypoint weights, float64
# logged values and scalars, int64 logged counts; dtype objects are
# restored by BUILD, which weights-only unpickling allows per exact type
_NUMPY_DTYPES = (np.uint8, np.float32, np.float64, np.int64)

CHECKPOINT_SAFE_GLOBALS = [
    HistoryBuffer,
    (history_buffer_getattr, 'builtins.getattr'),
    np.ndarray,
    np.dtype,
    *(type(np.dtype(dtype)) for dtype in _NUMPY_DTYPES),
    *((rebuild, f'{module}.{rebuild.__name__}')
      for rebuild in _NUMPY_REBUILDERS
      for module in ('numpy.core.multiarray', 'numpy._core.multiarray')),
]


def register_checkpoint_safe_globals() -> None:
    """Add :data:`CHECKPOINT_SAFE_GLOBALS` to torch's weights-only allow-list.

    Idempotent: torch keeps the allow-list as a set. Torch before 2.6 loads
    with ``weights_only=False`` by default and cannot take the
    ``(obj, name)`` entries, so nothing is registered there.
    """
    if digit_version(torch.__version__) < digit_version('2.6.0'):
        return
    torch.serialization.add_safe_globals(CHECKPOINT_SAFE_GLOBALS)
