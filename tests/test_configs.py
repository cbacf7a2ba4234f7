# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The experiment configs in ``configs/samkr``: names, inheritance, the
paper's recipe (Sec. IV.A) and the displacement branch of every row of
Tables 1 and 2, checked on models built without any download."""
import ast
import copy
import os
import os.path as osp
import re
import socket

import pytest
from helpers import MMPOSE_CONFIGS, ROOT
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmpose.registry import MODELS
from samkr_mmpose.models.layers import AdaptiveConvBlock, SubspaceAttention
from samkr_mmpose.models.losses import AdaptiveHeatmapLoss

CONFIG_DIR = osp.join(ROOT, 'configs', 'samkr')
NAME = re.compile(r'^(?P<algo>samkr(-[a-z0-9]+)*)_hrnet-w(?P<width>32|48)_'
                  r'(?P<gpus>\d+)xb(?P<batch>\d+)-(?P<epochs>\d+)e_'
                  r'(?P<dataset>coco|crowdpose)-(?P<size>\d+)x(?P=size)\.py$')
MAIN_CONFIGS = [
    'samkr_hrnet-w32_8xb10-140e_coco-512x512.py',
    'samkr_hrnet-w48_8xb10-140e_coco-640x640.py',
    'samkr_hrnet-w32_8xb10-140e_crowdpose-512x512.py',
    'samkr_hrnet-w48_8xb5-140e_crowdpose-640x640.py',
]
# (per-keypoint branches, c, g, s) of the paper's rows; the main configs are
# 8_SAMKR_16, Table 1 row 4. 12_SAMKR_24 has g = 12: Table 2 prints 8, but
# its name, Sec. IV.B and c = g * s give 12.
PAPER_ROWS = {
    'samkr': (True, 16, 8, 2),
    'samkr-singlebranch-g8c272': (False, 272, 8, 34),  # Table 1 row 1
    'samkr-g1c16': (True, 16, 1, 16),  # Table 1 row 2
    'samkr-g16c16': (True, 16, 16, 1),  # Table 1 row 3
    'samkr-g2c16': (True, 16, 2, 8),  # Table 2, 2_SAMKR_16
    'samkr-g4c16': (True, 16, 4, 4),  # Table 2, 4_SAMKR_16
    'samkr-g8c8': (True, 8, 8, 1),  # Table 2, 8_SAMKR_8
    'samkr-g8c24': (True, 24, 8, 3),  # Table 2, 8_SAMKR_24
    'samkr-g4c8': (True, 8, 4, 2),  # Table 2, 4_SAMKR_8
    'samkr-g12c24': (True, 24, 12, 2),  # Table 2, 12_SAMKR_24
}
ABLATIONS = [
    f'{algo}_hrnet-w32_8xb10-140e_coco-512x512.py' for algo in PAPER_ROWS
    if algo != 'samkr'
]
CONFIGS = MAIN_CONFIGS + ABLATIONS
HARDENED_RUNTIME = '../_base_/samkr_hardened_runtime.py'
NUM_KEYPOINTS = dict(coco=17, crowdpose=14)
OPENMMLAB = 'https://download.openmmlab.com/'
# the head keys of a row of Tables 1 and 2
ROW_KEYS = ('per_keypoint_branches', 'num_channels_per_keypoint',
            'num_subspaces')


def name_parts(name: str) -> dict:
    """The fields of a config file name, numbers as ``int``."""
    match = NAME.match(name)
    assert match is not None, f'{name} breaks the naming scheme'
    parts = match.groupdict()
    for key in ('width', 'gpus', 'batch', 'epochs', 'size'):
        parts[key] = int(parts[key])
    return parts


def load(name: str) -> Config:
    """Load a config of ``configs/samkr`` (its bases and imports too)."""
    return Config.fromfile(osp.join(CONFIG_DIR, name))


def bases_of(name: str) -> list:
    """The ``_base_`` entries written in a config file."""
    with open(osp.join(CONFIG_DIR, name), encoding='utf-8') as f:
        tree = ast.parse(f.read())
    bases = [
        ast.literal_eval(node.value) for node in tree.body
        if isinstance(node, ast.Assign)
        and [getattr(t, 'id', None) for t in node.targets] == ['_base_']
    ]
    assert len(bases) == 1, bases
    return bases[0]


def base_of(name: str) -> str:
    """The first ``_base_`` entry of a config file: MMPose's DEKR config
    or the parent SAMKR config."""
    return bases_of(name)[0]


def dekr_config(name: str) -> Config:
    """MMPose's DEKR config that a main config starts from."""
    base = base_of(name)
    prefix = 'mmpose::'
    assert base.startswith(prefix), base
    return Config.fromfile(osp.join(MMPOSE_CONFIGS, base[len(prefix):]))


def transform(pipeline: list, type_name: str) -> dict:
    """The only transform of ``type_name`` in ``pipeline``."""
    found = [t for t in pipeline if t['type'] == type_name]
    assert len(found) == 1, f'{len(found)} {type_name} in {pipeline}'
    return found[0]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail on any attempt to open a connection."""

    def refuse(*args, **kwargs):
        raise AssertionError(f'network access: {args}')

    monkeypatch.setattr(socket.socket, 'connect', refuse)
    monkeypatch.setattr(socket, 'create_connection', refuse)
    monkeypatch.setattr(socket, 'getaddrinfo', refuse)


def test_every_config_is_listed_and_named():
    found = sorted(f for f in os.listdir(CONFIG_DIR) if f.endswith('.py'))
    assert found == sorted(CONFIGS)
    for name in CONFIGS:
        name_parts(name)


def test_readme_maps_every_config():
    with open(osp.join(CONFIG_DIR, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    for name in CONFIGS:
        assert f'[{name}](./{name})' in readme


@pytest.mark.parametrize('name', CONFIGS)
def test_config_matches_name_and_base(name):
    parts = name_parts(name)
    cfg = load(name)
    assert cfg.custom_imports == dict(
        imports=['samkr_mmpose'], allow_failed_imports=False)

    base = base_of(name)
    if name in MAIN_CONFIGS:
        # the one opt-in line of the hardened runtime
        assert bases_of(name) == [base, HARDENED_RUNTIME]
        assert cfg.runner_type == 'SAMKRHardenedRunner'
        # the DEKR config of the same backbone, dataset and input size
        dekr = re.escape(f'dekr_hrnet-w{parts["width"]}_8xb{parts["batch"]}-')
        tail = re.escape(f'_{parts["dataset"]}-{parts["size"]}x'
                         f'{parts["size"]}.py')
        assert re.fullmatch(
            r'mmpose::body_2d_keypoint/dekr/' + parts['dataset'] + '/' + dekr +
            r'\d+e' + tail, base), base
    else:
        assert bases_of(name) == ['./' + MAIN_CONFIGS[0]]

    assert cfg.model.backbone.extra.stage4.num_channels[0] == parts['width']
    assert cfg.codec.input_size == (parts['size'], parts['size'])
    assert cfg.model.head.decoder.input_size == cfg.codec.input_size
    assert cfg.train_dataloader.batch_size == parts['batch']
    assert cfg.train_cfg.max_epochs == parts['epochs']
    assert cfg.model.head.num_keypoints == NUM_KEYPOINTS[parts['dataset']]


@pytest.mark.parametrize('name', CONFIGS)
def test_paper_recipe(name):
    """Sec. IV.A: Adam at 1e-3, / 10 at epochs 90 and 120, 140 epochs;
    rotation +-30 deg, scale [0.75, 1.5], translation +-40 input pixels,
    horizontal flip; flip test and heatmap matching at test time."""
    cfg = load(name)
    assert cfg.optim_wrapper.optimizer.type == 'Adam'
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    assert cfg.train_cfg.max_epochs == 140
    (step, ) = [s for s in cfg.param_scheduler if s.type == 'MultiStepLR']
    assert (step.milestones, step.gamma, step.end) == ([90, 120], 0.1, 140)
    assert step.by_epoch

    pipeline = cfg.train_dataloader.dataset.pipeline
    width, height = cfg.codec.input_size
    affine = transform(pipeline, 'BottomupRandomAffine')
    assert affine.input_size == (width, height)
    assert affine.rotate_factor == 30
    assert tuple(affine.scale_factor) == (0.75, 1.5)
    assert affine.shift_factor == pytest.approx(40 / width)
    assert affine.distribution == 'uniform'
    assert transform(pipeline, 'RandomFlip').direction == 'horizontal'
    assert transform(pipeline,
                     'GenerateTarget').encoder.input_size == (width, height)

    test_cfg = cfg.model.test_cfg
    assert test_cfg.flip_test is True
    assert test_cfg.match_heatmap is True
    assert test_cfg.max_absorb_distance == 75
    assert test_cfg.adjust_threshold == 0.05


@pytest.mark.parametrize('name', MAIN_CONFIGS)
def test_main_config_keeps_dekr_settings(name):
    """The DEKR base's rescore net, pretrained weights and dataset; SWAHR's
    heatmap loss for W32 and DEKR's for W48 (Sec. III.A)."""
    parts = name_parts(name)
    cfg, dekr = load(name), dekr_config(name)
    head, dekr_head = cfg.model.head, dekr.model.head

    assert head.rescore_cfg == dekr_head.rescore_cfg
    for url in (cfg.model.backbone.init_cfg.checkpoint,
                head.rescore_cfg.init_cfg.checkpoint):
        assert url.startswith(OPENMMLAB)
    assert cfg.model.backbone.init_cfg == dekr.model.backbone.init_cfg
    assert head.displacement_loss == dekr_head.displacement_loss
    if parts['width'] == 32:
        assert head.heatmap_loss == dict(type='AdaptiveHeatmapLoss')
        assert head.scale_loss == dict(type='HeatmapScaleLoss')
    else:
        assert head.heatmap_loss == dekr_head.heatmap_loss
        assert head.heatmap_loss.type == 'KeypointMSELoss'
        assert 'scale_loss' not in head
    assert cfg.train_dataloader.batch_size == dekr.train_dataloader.batch_size

    if parts['dataset'] == 'crowdpose':
        assert cfg.dataset_type == 'CrowdPoseDataset'
        assert cfg.val_evaluator.iou_type == 'keypoints_crowd'
        assert cfg.test_evaluator.iou_type == 'keypoints_crowd'
        assert head.rescore_cfg.in_channels == 59
        assert head.rescore_cfg.norm_indexes == (0, 1)
        assert 'crowdpose' in head.rescore_cfg.init_cfg.checkpoint
    else:
        assert cfg.dataset_type == 'CocoDataset'
        assert 'crowdpose' not in head.rescore_cfg.init_cfg.checkpoint


@pytest.mark.parametrize('name', ABLATIONS)
def test_ablation_changes_only_the_branch(name):
    cfg, main = load(name).to_dict(), load(MAIN_CONFIGS[0]).to_dict()
    for head in (cfg['model']['head'], main['model']['head']):
        for key in ROW_KEYS:
            head.pop(key, None)
    assert cfg == main


@pytest.mark.parametrize('name', CONFIGS)
def test_built_model_matches_paper_row(name, no_network):
    """Build the whole model without weights; its displacement branch has
    the (c, g, s) of the paper's row."""
    parts = name_parts(name)
    per_keypoint, c, g, s = PAPER_ROWS[parts['algo']]
    k = NUM_KEYPOINTS[parts['dataset']]
    branches = k if per_keypoint else 1

    cfg = load(name)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.init_cfg = None
    model_cfg.head.rescore_cfg.pop('init_cfg')
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = MODELS.build(model_cfg)
    head = model.head

    layers = list(head.displacement_conv_layers)
    assert layers[0].conv.out_channels == branches * c
    adaptive = [m for m in layers if isinstance(m, AdaptiveConvBlock)]
    assert len(adaptive) == 1 and adaptive[0].groups == branches
    (attention, ) = [m for m in layers if isinstance(m, SubspaceAttention)]
    assert attention.num_subspaces == branches * g
    # one single-filter pointwise convolution over the s channels of each
    # subspace
    assert attention.pointwise.conv.weight.shape == (branches * g, s, 1, 1)
    assert layers[-1].groups == branches
    assert layers[-1].out_channels == 2 * k

    assert head.rescore_net.l1.in_features == cfg.model.head.rescore_cfg[
        'in_channels']
    if parts['width'] == 32:
        assert isinstance(head.loss_module['heatmap'], AdaptiveHeatmapLoss)
        assert head.loss_module['heatmap'].use_target_weight is False
        assert head.scale_conv_layers is not None
    else:
        assert 'scale' not in head.loss_module
        assert head.scale_conv_layers is None


# what a main config may set over MMPose's DEKR config: the head, losses
# and test-time matching (model), the augmentation (train_pipeline and the
# train_dataloader using it) and, for CrowdPose, the COCO schedule
PAPER_DELTAS = {
    '_base_', 'custom_imports', 'model', 'train_pipeline', 'train_dataloader',
    'train_cfg', 'param_scheduler'
}


@pytest.mark.parametrize('name', MAIN_CONFIGS)
def test_main_config_sets_only_the_paper_deltas(name):
    with open(osp.join(CONFIG_DIR, name), encoding='utf-8') as f:
        tree = ast.parse(f.read())
    assigned = {
        target.id
        for node in tree.body if isinstance(node, ast.Assign)
        for target in node.targets
    }
    assert assigned <= PAPER_DELTAS, assigned - PAPER_DELTAS


def test_readme_snippet_builds_the_main_head(tmp_path):
    """The README's "Using SAMKR in your MMPose configs" snippet gives the
    head of the repo's main W32 COCO config, losses included."""
    with open(osp.join(ROOT, 'README.md'), encoding='utf-8') as f:
        section = f.read().split('## Using SAMKR in your MMPose configs')[1]
    snippet = section.split('```python\n')[1].split('```')[0]
    path = tmp_path / 'readme_snippet.py'
    path.write_text(snippet)
    head = Config.fromfile(str(path)).model.head
    expected = load('samkr_hrnet-w32_8xb10-140e_coco-512x512.py').model.head
    assert head.to_dict() == expected.to_dict()
