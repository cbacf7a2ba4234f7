# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from mmengine.config import Config
from mmengine.runner import Runner

from mmpose.registry import RUNNERS

_STOCK_FROM_CFG = Runner.from_cfg.__func__


def enable_runner_type() -> None:
    """Make ``Runner.from_cfg(cfg)`` build the runner that
    ``cfg.runner_type`` names, as ``RUNNERS.build(cfg)`` does.

    mmengine's convention for custom runners is a ``runner_type`` key,
    honoured by ``RUNNERS.build`` (e.g. in MMDetection's ``tools/train.py``).
    MMPose 1.3's ``tools/train.py`` and ``tools/test.py`` call
    ``Runner.from_cfg`` instead, which ignores it: a config asking for
    :class:`SAMKRHardenedRunner` would silently run the stock runtime.
    Importing ``samkr_mmpose`` calls this function; configs without
    ``runner_type`` (or with ``'Runner'``) build mmengine's runner as
    before, and subclasses' ``from_cfg`` are unchanged.
    """
    Runner.from_cfg = classmethod(_from_cfg)


def _from_cfg(cls, cfg: Config) -> Runner:
    """``Runner.from_cfg``, delegating to the class of ``runner_type``."""
    runner_type = cfg.get('runner_type', 'Runner')
    if cls is not Runner or runner_type in ('Runner', Runner):
        return _STOCK_FROM_CFG(cls, cfg)
    runner_cls = RUNNERS.get(runner_type) if isinstance(runner_type,
                                                        str) else runner_type
    if not (isinstance(runner_cls, type) and issubclass(runner_cls, Runner)):
        raise ValueError(f'runner_type {runner_type!r} is not a registered '
                         'Runner subclass')
    return runner_cls.from_cfg(cfg)
