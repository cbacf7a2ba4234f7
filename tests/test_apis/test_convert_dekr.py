# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
""":mod:`samkr_mmpose.apis.convert_dekr_to_samkr` (and its command line
tool): a SAMKR model initialised from a
random MMPose DEKR checkpoint (tiny HRNet) has DEKR's heatmaps, backbone
and rescore net, DEKR's displacement features in the first 15 channels of
every branch, the config's initialisation elsewhere, and a report of every
key."""
import os.path as osp
import subprocess
import sys
from collections import OrderedDict

import pytest
import torch
from helpers import ROOT, assert_close, dataset_meta, shrink_options
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint, save_checkpoint
from mmengine.runner.checkpoint import get_state_dict, weights_to_cpu

from mmpose.registry import MODELS
from samkr_mmpose.apis import convert_dekr_to_samkr as tool

DEKR_CONFIGS = {
    17:
    'mmpose::body_2d_keypoint/dekr/coco/'
    'dekr_hrnet-w32_8xb10-140e_coco-512x512.py',
    14:
    'mmpose::body_2d_keypoint/dekr/crowdpose/'
    'dekr_hrnet-w32_8xb10-300e_crowdpose-512x512.py',
}
SAMKR_CONFIGS = {
    17: 'configs/samkr/samkr_hrnet-w32_8xb10-140e_coco-512x512.py',
    14: 'configs/samkr/samkr_hrnet-w32_8xb10-140e_crowdpose-512x512.py',
}
DISPLACEMENT = 'head.displacement_conv_layers.'
COPIED = ('backbone.', 'head.heatmap_conv_layers.', 'head.rescore_net.')


def shrunk_config(num_keypoints: int, samkr: bool, **options) -> Config:
    """The W32 config shrunk to a width-8 HRNet at 64x64."""
    if samkr:
        cfg = Config.fromfile(osp.join(ROOT, SAMKR_CONFIGS[num_keypoints]))
    else:
        cfg = get_config(DEKR_CONFIGS[num_keypoints])
    cfg.merge_from_dict({**shrink_options(64), **options})
    return cfg


def random_dekr(num_keypoints: int) -> torch.nn.Module:
    """MMPose's DEKR model with random weights and BN statistics."""
    init_default_scope('mmpose')
    model = MODELS.build(shrunk_config(num_keypoints, False).model)
    generator = torch.Generator().manual_seed(num_keypoints)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not tensor.is_floating_point() or name.endswith(
                    'regular_matrix'):
                continue
            if name.endswith('running_var'):
                tensor.uniform_(0.5, 1.5, generator=generator)
            else:
                tensor.normal_(0, 0.1, generator=generator)
    return model.eval()


def save_like_runner(model: torch.nn.Module, num_keypoints: int,
                     path: str) -> None:
    """Save ``model`` with the entries mmengine's runner writes."""
    optimizer = torch.optim.Adam(model.parameters())
    hub = MessageHub('convert_dekr_test')
    hub.update_scalar('train/loss', 1.)
    checkpoint = dict(
        meta=dict(
            epoch=140,
            iter=1000,
            dataset_meta=dataset_meta(num_keypoints),
            experiment_name='dekr_hrnet-w32_8xb10-140e_coco-512x512_'
            '20230101_000000'),
        state_dict=weights_to_cpu(get_state_dict(model)),
        message_hub=hub.state_dict(),
        optimizer=optimizer.state_dict())
    assert isinstance(checkpoint['message_hub']['log_scalars']['train/loss'],
                      HistoryBuffer)
    save_checkpoint(checkpoint, path)


class Converted:
    """A random DEKR checkpoint converted by the command line tool and
    loaded strictly into the SAMKR config's model."""

    def __init__(self,
                 tmp_dir: str,
                 num_keypoints: int,
                 via_tool: bool = False,
                 **options) -> None:
        self.dekr = random_dekr(num_keypoints)
        self.dekr_path = osp.join(tmp_dir, 'dekr.pth')
        save_like_runner(self.dekr, num_keypoints, self.dekr_path)
        self.cfg_path = osp.join(tmp_dir, 'samkr.py')
        shrunk_config(num_keypoints, True, **options).dump(self.cfg_path)
        self.out_path = osp.join(tmp_dir, 'samkr_init.pth')
        self.report_path = osp.join(tmp_dir, 'report.txt')
        cfg = Config.fromfile(self.cfg_path)
        if via_tool:
            subprocess.run([
                sys.executable,
                osp.join(ROOT, 'tools',
                         'convert_dekr_to_samkr.py'), self.dekr_path,
                self.cfg_path, self.out_path, '--report', self.report_path
            ],
                           check=True,
                           cwd=ROOT)
        else:
            tool.convert_checkpoint(self.dekr_path, cfg, self.out_path,
                                    self.report_path)

        init_default_scope('mmpose')
        self.samkr = MODELS.build(cfg.model).eval()
        load_checkpoint(self.samkr, self.out_path, strict=True)
        self.fresh = tool.build_samkr_model(cfg, seed=0).state_dict()
        self.inputs = torch.randn(
            2, 3, 64, 64, generator=torch.Generator().manual_seed(1))

    def head_outputs(self):
        with torch.no_grad():
            return self.dekr._forward(self.inputs), self.samkr._forward(
                self.inputs)

    def displacement_features(self, num_layers: int):
        """Both models' displacement branches up to ``num_layers`` layers,
        SAMKR's reduced to the first 15 channels of every branch."""
        outputs = []
        with torch.no_grad():
            for model in (self.dekr, self.samkr):
                x = model.extract_feat(self.inputs)[-1]
                layers = list(model.head.displacement_conv_layers)
                for layer in layers[:num_layers]:
                    x = layer(x)
                outputs.append(x)
        dekr, samkr = outputs
        k = self.dekr.head.num_keypoints
        samkr = samkr.unflatten(1, (k, -1))[:, :, :15].flatten(1, 2)
        return dekr, samkr


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    return Converted(str(tmp_path_factory.mktemp('coco')), 17, via_tool=True)


@pytest.fixture(scope='module')
def two_blocks(tmp_path_factory):
    return Converted(
        str(tmp_path_factory.mktemp('two_blocks')), 17,
        **{'model.head.num_adaptive_blocks': 2})


def branch_view(tensor: torch.Tensor, k: int) -> torch.Tensor:
    """Output channels of a branch-grouped tensor as (k, channels, ...)."""
    return tensor.unflatten(0, (k, -1))


@pytest.mark.parametrize('num_keypoints', [17, 14])
def test_heatmaps_equal_dekr(num_keypoints, coco, tmp_path):
    converted = coco if num_keypoints == 17 else Converted(
        str(tmp_path), num_keypoints)
    (dekr_heatmaps, dekr_disp), (samkr_heatmaps,
                                 samkr_disp) = converted.head_outputs()
    assert dekr_heatmaps.shape == (2, num_keypoints + 1, 16, 16)
    assert dekr_heatmaps.std() > 0.01
    assert torch.equal(samkr_heatmaps, dekr_heatmaps)
    # the displacements come from the new branch
    assert samkr_disp.shape == dekr_disp.shape
    assert not torch.allclose(samkr_disp, dekr_disp)


def test_backbone_heatmap_rescore_copied(coco):
    dekr = coco.dekr.state_dict()
    samkr = coco.samkr.state_dict()
    copied = [k for k in dekr if k.startswith(COPIED)]
    assert len(copied) > 300 and any('rescore_net' in k for k in copied)
    for key in copied:
        assert torch.equal(samkr[key], dekr[key]), key


def test_displacement_mapping(coco):
    """The mapped tensors are DEKR's, slice by slice; the rest is the
    config's initialisation (same seed) or zero where it would change
    DEKR's features."""
    dekr = coco.dekr.state_dict()
    samkr = coco.samkr.state_dict()
    fresh = coco.fresh
    k = 17

    conv = f'{DISPLACEMENT}0.conv.weight'
    assert samkr[conv].shape == (17 * 16, 120, 1, 1)
    assert torch.equal(
        branch_view(samkr[conv], k)[:, :15], branch_view(dekr[conv], k))
    assert torch.equal(
        branch_view(samkr[conv], k)[:, 15:],
        branch_view(fresh[conv], k)[:, 15:])
    for layer in ('0.bn', '1.norm'):
        for stat in ('weight', 'bias', 'running_mean', 'running_var'):
            key = f'{DISPLACEMENT}{layer}.{stat}'
            assert torch.equal(
                branch_view(samkr[key], k)[:, :15], branch_view(dekr[key],
                                                                k)), key
            assert torch.equal(
                branch_view(samkr[key], k)[:, 15:],
                branch_view(fresh[key], k)[:, 15:]), key

    # 6 affine parameters per branch, read from 16 channels instead of 15
    transform = f'{DISPLACEMENT}1.transform_matrix_conv.'
    assert samkr[transform + 'weight'].shape == (6 * 17, 16, 3, 3)
    assert torch.equal(samkr[transform + 'weight'][:, :15],
                       dekr[transform + 'weight'])
    assert not samkr[transform + 'weight'][:, 15:].any()
    assert torch.equal(samkr[transform + 'bias'], dekr[transform + 'bias'])

    adapt = f'{DISPLACEMENT}1.adapt_conv.weight'
    assert samkr[adapt].shape == (17 * 16, 16, 3, 3)
    ours, theirs = branch_view(samkr[adapt], k), branch_view(dekr[adapt], k)
    assert torch.equal(ours[:, :15, :15], theirs)
    assert not ours[:, :15, 15:].any()
    assert torch.equal(ours[:, 15:], branch_view(fresh[adapt], k)[:, 15:])

    # DEKR has no subspace attention or scale branch, and its final
    # convolution reads its second adaptive block
    for key in samkr:
        if key.startswith((f'{DISPLACEMENT}2.', f'{DISPLACEMENT}3.',
                           'head.scale_conv_layers.')):
            assert torch.equal(samkr[key], fresh[key]), key
    assert samkr[f'{DISPLACEMENT}3.weight'].shape == (34, 16, 1, 1)


def test_first_block_features_equal_dekr(coco):
    dekr, samkr = coco.displacement_features(2)
    assert dekr.shape == (2, 17 * 15, 16, 16) and dekr.std() > 0.01
    assert_close(samkr, dekr, 1e-5)


def test_two_adaptive_blocks_and_final_conv(two_blocks):
    """With DEKR's two blocks, both are mapped and so is the final
    convolution, which then reads DEKR's features."""
    dekr, samkr = two_blocks.displacement_features(3)
    assert_close(samkr, dekr, 1e-5)
    dekr_state = two_blocks.dekr.state_dict()
    samkr_state = two_blocks.samkr.state_dict()
    final = samkr_state[f'{DISPLACEMENT}4.weight']
    assert final.shape == (34, 16, 1, 1)
    assert torch.equal(final[:, :15], dekr_state[f'{DISPLACEMENT}3.weight'])
    assert not final[:, 15:].any()
    assert torch.equal(samkr_state[f'{DISPLACEMENT}4.bias'],
                       dekr_state[f'{DISPLACEMENT}3.bias'])
    rows = dict((key, fate) for section, fate, key in tool.iter_report_rows(
        open(two_blocks.report_path).read()) if section == 'dekr')
    assert all(fate != 'dropped' for fate in rows.values())


def test_report_lists_every_key(coco):
    with open(coco.report_path) as f:
        report = f.read()
    assert report.startswith('DEKR: 17 keypoints, 15 channels per keypoint')
    rows = list(tool.iter_report_rows(report))
    samkr = {key: fate for section, fate, key in rows if section == 'samkr'}
    dekr = {key: fate for section, fate, key in rows if section == 'dekr'}
    assert len(samkr) + len(dekr) == len(rows)
    assert list(samkr) == list(coco.samkr.state_dict())
    assert list(dekr) == list(coco.dekr.state_dict())

    for key, fate in samkr.items():
        if key.startswith(COPIED):
            assert fate == 'copied', key
        elif key.startswith((f'{DISPLACEMENT}2.', f'{DISPLACEMENT}3.',
                             'head.scale_conv_layers.')):
            assert fate == 'fresh', key
        elif key.endswith(('num_batches_tracked', 'regular_matrix',
                           'transform_matrix_conv.bias')):
            assert fate == 'copied', key
        else:
            assert fate == 'mapped', key
    dropped = {key for key, fate in dekr.items() if fate == 'dropped'}
    assert dropped == {
        k
        for k in dekr
        if k.startswith((f'{DISPLACEMENT}2.', f'{DISPLACEMENT}3.'))
    }
    assert len(dropped) == 11


def test_mmpose_0x_key_layout(coco):
    """A checkpoint in MMPose 0.x's layout (as MMPose's own load hooks
    read it back) converts to the same weights."""
    state = coco.dekr.state_dict()
    old = OrderedDict()
    for key, value in state.items():
        if key.startswith('head.heatmap_conv_layers.2.'):
            value = torch.cat((value[-1:], value[:-1]))
        if key.startswith(f'{DISPLACEMENT}3.'):
            value = -value
        key = key.replace('displacement_conv_layers', 'offset_conv_layers')
        key = key.replace('head.rescore_net.', 'rescore_net.')
        key = key.replace('head.', 'keypoint_head.')
        old[key] = value
    assert 'keypoint_head.offset_conv_layers.3.weight' in old

    # MMPose's load hooks convert the 0.x layout, except the rescore net:
    # its renaming never sees the top-level keys, as every module gets
    # only the keys under its own prefix
    dekr = MODELS.build(shrunk_config(17, False).model)
    incompatible = dekr.load_state_dict(old, strict=False)
    rescore = [k for k in state if k.startswith('head.rescore_net.')]
    assert incompatible.missing_keys == rescore
    assert incompatible.unexpected_keys == [k[5:] for k in rescore]
    for key, value in dekr.state_dict().items():
        assert key in rescore or torch.equal(value, state[key]), key

    converted = tool.dekr_state_dict(dict(state_dict=old, meta={}))
    assert list(converted) == list(state)
    for key, value in converted.items():
        assert torch.equal(value, state[key]), key


def test_bad_inputs(coco):
    dekr = tool.dekr_state_dict(dict(state_dict=coco.dekr.state_dict()))
    with pytest.raises(ValueError, match='not an MMPose DEKR checkpoint'):
        tool.dekr_state_dict(dict(state_dict=coco.samkr.state_dict()))
    with pytest.raises(ValueError, match='not an MMPose DEKR checkpoint'):
        tool.dekr_state_dict(dict(meta=dict(epoch=1)))

    def convert_into(num_keypoints=17, **options):
        cfg = shrunk_config(num_keypoints, True, **options)
        return tool.convert(dekr, tool.build_samkr_model(cfg))

    with pytest.raises(
            ValueError, match='has 17 keypoints, the SAMKR '
            'config 14'):
        convert_into(14)
    with pytest.raises(ValueError, match=r'\(c=8\).* 15 channels'):
        convert_into(**{'model.head.num_channels_per_keypoint': 8})
    with pytest.raises(
            ValueError, match='does not fit.*backbone.stage4.0.branches.3'):
        convert_into(
            **{
                'model.backbone.extra.stage4.num_channels': (8, 16, 32, 48),
                'model.head.in_channels': 104
            })
    with pytest.raises(ValueError, match='must build a SAMKRHead'):
        tool.build_samkr_model(shrunk_config(17, False))


def test_single_branch_maps_the_first_conv_only(coco):
    """One shared branch has one affine transform for all channels: only
    the first 1x1 convolution maps."""
    dekr = tool.dekr_state_dict(dict(state_dict=coco.dekr.state_dict()))
    cfg = shrunk_config(17, True,
                        **{'model.head.per_keypoint_branches': False})
    _, fates = tool.convert(dekr, tool.build_samkr_model(cfg))
    mapped = {k for k, (fate, _) in fates['samkr'].items() if fate == 'mapped'}
    assert mapped == {
        f'{DISPLACEMENT}0.{name}'
        for name in ('conv.weight', 'bn.weight', 'bn.bias', 'bn.running_mean',
                     'bn.running_var')
    }
    assert fates['samkr'][f'{DISPLACEMENT}1.adapt_conv.weight'][0] == 'fresh'
    assert fates['dekr'][f'{DISPLACEMENT}1.adapt_conv.weight'] == (
        'dropped', 'SAMKR has one shared branch: one affine transform for '
        'all channels')


@pytest.mark.parametrize('num_blocks', [0, 1, 3])
def test_final_conv_only_after_dekr_blocks(num_blocks, coco):
    """DEKR's final convolution is copied only when it reads DEKR's
    features: after exactly its two adaptive blocks."""
    dekr = tool.dekr_state_dict(dict(state_dict=coco.dekr.state_dict()))
    cfg = shrunk_config(17, True,
                        **{'model.head.num_adaptive_blocks': num_blocks})
    _, fates = tool.convert(dekr, tool.build_samkr_model(cfg))
    final = f'{DISPLACEMENT}{num_blocks + 2}.weight'
    assert fates['samkr'][final][0] == 'fresh'
    assert fates['dekr'][f'{DISPLACEMENT}3.weight'][0] == 'dropped'
    mapped_blocks = {
        int(k[len(DISPLACEMENT)])
        for k, (fate, _) in fates['samkr'].items()
        if fate == 'mapped' and k.endswith('adapt_conv.weight')
    }
    assert mapped_blocks == set(range(1, min(num_blocks, 2) + 1))
