# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from mmengine.config import Config
from mmengine.runner import Runner

from mmpose.registry import RUNNERS
from .harden_runtime_config import harden_runtime_config


@RUNNERS.register_module()
class SAMKRHardenedRunner(Runner):
    """mmengine's :class:`Runner` with the hardened runtime of the SAMKR
    configs: the stock types of a config become their hardened subclasses
    when the runner is built (:func:`harden_runtime_config`).

    A config selects it with ``runner_type = 'SAMKRHardenedRunner'``, the
    one key of ``configs/_base_/samkr_hardened_runtime.py``; after
    ``import samkr_mmpose``, ``Runner.from_cfg`` honours ``runner_type``
    (:func:`enable_runner_type`), so MMPose's ``tools/train.py`` and
    ``tools/test.py`` and ``mim train/test mmpose`` build this runner. The
    config it dumps to the work dir is the hardened one.
    """

    @classmethod
    def from_cfg(cls, cfg: Config) -> Runner:
        """Build the runner from the hardened copy of a config.

        Args:
            cfg (Config): The config.

        Returns:
            Runner: The runner.
        """
        return super().from_cfg(harden_runtime_config(cfg))
