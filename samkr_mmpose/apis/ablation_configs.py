# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The configs of the paper's ablations (Tables 1 and 2), and the configs
the ablation harness trains from them."""
import os.path as osp
from typing import List, Optional

from mmengine.config import Config
from mmengine.hub import get_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_SAMKR = 'configs/samkr/samkr{}_hrnet-w32_8xb10-140e_coco-512x512.py'
# Table 1: the structure designs (m, c, g, s)
TABLE1 = [
    _SAMKR.format(''),
    _SAMKR.format('-singlebranch-g8c272'),
    _SAMKR.format('-g1c16'),
    _SAMKR.format('-g16c16'),
]
# Table 2: g, c and s; the last row is the erratum's g=12, c=24, s=2
TABLE2 = [
    _SAMKR.format(''),
    _SAMKR.format('-g2c16'),
    _SAMKR.format('-g4c16'),
    _SAMKR.format('-g8c8'),
    _SAMKR.format('-g8c24'),
    _SAMKR.format('-g4c8'),
    _SAMKR.format('-g12c24'),
]
DEKR_BASELINE = ('mmpose::body_2d_keypoint/dekr/coco/'
                 'dekr_hrnet-w32_8xb10-140e_coco-512x512.py')
DEFAULT_CONFIGS = list(dict.fromkeys(TABLE1 + TABLE2)) + [DEKR_BASELINE]
# the budget of the runs on synthetic data: the demo's model and recipe
SYNTHETIC_BASES = dict(
    coco='configs/synthetic/samkr_hrnet-w16_1xb16-16e_synthcoco-160x160.py',
    crowdpose='configs/synthetic/'
    'samkr_hrnet-w16_1xb16-16e_synthcrowdpose-160x160.py')


def load_config(config: str) -> Config:
    """A config file, one relative to the repository, or ``mmpose::`` and
    a config of MMPose's."""
    if config.startswith('mmpose::'):
        return get_config(config)
    if not osp.isfile(config) and osp.isfile(osp.join(REPO, config)):
        config = osp.join(REPO, config)
    return Config.fromfile(config)


def on_synthetic_budget(config: str, dataset: str = 'coco') -> Config:
    """The head of ``config`` on the demo's small model, data and schedule.

    Everything but the head comes from the demo's config of ``dataset``
    (:data:`SYNTHETIC_BASES`): backbone, input size, codec, dataset,
    augmentation, schedule and test settings. The head keeps its type,
    structure and losses, with the base's keypoints, input channels and
    codec and no rescore net (trained on real poses only). MMPose's DEKR head
    becomes :class:`MultiBackendDEKRHead` on the kernel SAMKR uses, and no
    head matches keypoints to heatmap peaks (``DEKRHead`` cannot), so the
    heads are compared on equal terms.

    Args:
        config (str): A config whose head to train.
        dataset (str): ``'coco'`` or ``'crowdpose'``. Defaults to
            ``'coco'``.

    Returns:
        Config: The config to train.
    """
    if dataset not in SYNTHETIC_BASES:
        raise ValueError(f'Unknown dataset {dataset!r}; expected one of '
                         f'{sorted(SYNTHETIC_BASES)}')
    cfg = load_config(SYNTHETIC_BASES[dataset])
    head = load_config(config).model.head
    head.update(
        num_keypoints=cfg.model.head.num_keypoints,
        in_channels=cfg.model.head.in_channels,
        decoder=cfg.model.head.decoder,
        rescore_cfg=None)
    if head.type == 'DEKRHead':
        head.update(type='MultiBackendDEKRHead', deform_backend='torch')
    cfg.model.head = head
    cfg.model.test_cfg.match_heatmap = False
    return cfg


def ablation_configs(configs: Optional[List[str]]) -> List[str]:
    """The configs to run: ``configs``, or :data:`DEFAULT_CONFIGS`."""
    return list(configs) if configs else list(DEFAULT_CONFIGS)
