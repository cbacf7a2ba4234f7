# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from collections import OrderedDict

import pytest
import torch
from helpers import assert_close, dataset_meta, make_batch, spr_codec
from mmengine.structures import PixelData

import samkr_mmpose  # noqa: F401  (registers SAMKRHead)
from mmpose.registry import MODELS
from samkr_mmpose import AdaptiveConvBlock, SubspaceAttention

IN_CHANNELS = 32

# (per-keypoint branches, c, g) of every row of the paper's Tables 1 and 2
PAPER_ROWS = [
    (False, 16, 8),  # Table 1: m = c = 272, g = 8, s = 34
    (True, 16, 1),
    (True, 16, 16),
    (True, 16, 8),  # 8_SAMKR_16, the paper's choice
    (True, 16, 2),
    (True, 16, 4),
    (True, 8, 8),
    (True, 24, 8),
    (True, 8, 4),
    (True, 24, 12),  # 12_SAMKR_24 (Table 2 misprints g = 8)
]


def build_head(num_keypoints=17, **kwargs):
    cfg = dict(
        type='SAMKRHead',
        in_channels=IN_CHANNELS,
        num_keypoints=num_keypoints,
        decoder=spr_codec())
    cfg.update(kwargs)
    return MODELS.build(cfg)


def branch(head):
    layers = list(head.displacement_conv_layers)
    blocks = [m for m in layers if isinstance(m, AdaptiveConvBlock)]
    (sam, ) = [m for m in layers if isinstance(m, SubspaceAttention)]
    return layers[0].conv, blocks, sam, layers[-1]


@pytest.mark.parametrize('num_keypoints', [17, 14])
def test_output_shapes_and_widths(num_keypoints):
    head = build_head(num_keypoints)
    first, blocks, sam, last = branch(head)
    assert first.out_channels == 16 * num_keypoints  # 272 for COCO
    assert len(blocks) == 1 and blocks[0].groups == num_keypoints
    assert sam.num_subspaces == 8 * num_keypoints
    assert last.groups == num_keypoints

    heatmaps, displacements = head.forward((torch.randn(2, 32, 16, 12), ))
    assert heatmaps.shape == (2, num_keypoints + 1, 16, 12)
    assert displacements.shape == (2, 2 * num_keypoints, 16, 12)


@pytest.mark.parametrize('per_keypoint,c,g', PAPER_ROWS)
def test_paper_configurations_build(per_keypoint, c, g):
    head = build_head(
        num_channels_per_keypoint=c,
        num_subspaces=g,
        per_keypoint_branches=per_keypoint)
    first, (block, ), sam, last = branch(head)
    branches = 17 if per_keypoint else 1
    assert first.out_channels == 17 * c
    assert block.groups == last.groups == branches
    assert sam.num_subspaces == branches * g
    subspace_width = 17 * c // (branches * g)
    assert subspace_width == (c // g if per_keypoint else 34)
    _, displacements = head.forward((torch.randn(1, 32, 8, 8), ))
    assert displacements.shape == (1, 34, 8, 8)


@pytest.mark.parametrize('kwargs,message', [
    (dict(num_channels_per_keypoint=16, num_subspaces=3), r'c=16.*g=3'),
    (dict(num_channels_per_keypoint=24, num_subspaces=16), r'c=24.*g=16'),
    (dict(num_subspaces=0), r'num_subspaces must be .*>= 1, got 0'),
    (dict(num_channels_per_keypoint=0), r'num_channels_per_keypoint .* 0'),
    (dict(num_adaptive_blocks=-1), r'num_adaptive_blocks .*>= 0, got -1'),
    (dict(num_keypoints=0), r'num_keypoints .*>= 1, got 0'),
    (dict(per_keypoint_branches=False, num_subspaces=5), r'17 x 16 .*g=5'),
    (dict(deform_backend='cuda'), r"'cuda'"),
    (dict(scale_loss=dict(type='HeatmapScaleLoss')),
     r'AdaptiveHeatmapLoss.*KeypointMSELoss'),
])
def test_impossible_configurations_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_head(**kwargs)


def test_num_adaptive_blocks():
    assert len(branch(build_head(num_adaptive_blocks=2))[1]) == 2
    assert len(branch(build_head(num_adaptive_blocks=0))[1]) == 0


SWAHR = dict(
    heatmap_loss=dict(type='AdaptiveHeatmapLoss'),
    scale_loss=dict(type='HeatmapScaleLoss'))


@pytest.mark.parametrize('num_keypoints', [17, 14])
@pytest.mark.parametrize('swahr', [False, True])
def test_loss_falls_on_a_fixed_batch(num_keypoints, swahr):
    head = build_head(num_keypoints, **(SWAHR if swahr else {}))
    head.init_weights()
    samples = make_batch(num_keypoints)
    feats = (torch.randn(2, IN_CHANNELS, 16, 16), )
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-3)
    history = []
    for _ in range(40):
        losses = head.loss(feats, samples)
        total = sum(losses.values())
        history.append({k: v.item() for k, v in losses.items()})
        optimizer.zero_grad()
        total.backward()
        optimizer.step()

    expected = {'loss/heatmap', 'loss/displacement'}
    if swahr:
        expected.add('loss/heatmap_scale')
    assert set(losses) == expected
    for key in ('loss/heatmap', 'loss/displacement'):
        assert history[-1][key] < 0.5 * history[0][key], key
    if swahr:
        assert history[0]['loss/heatmap_scale'] == 0  # zero-initialised
        assert history[-1]['loss/heatmap_scale'] > 0


def test_swahr_scale_branch_starts_at_zero():
    head = build_head(**SWAHR)
    head.init_weights()
    scales = head.scale_conv_layers((torch.randn(1, 32, 8, 8)))
    assert scales.shape == (1, 17, 8, 8) and scales.abs().max() == 0
    assert head.scale_conv_layers[0].conv.weight.abs().max() > 0


def stacked(samples, name):
    return torch.stack([s.gt_fields.get(name) for s in samples])


def test_loss_values_are_dekr_losses_of_the_outputs():
    head = build_head()
    samples = make_batch(17)
    feats = (torch.randn(2, IN_CHANNELS, 16, 16), )
    losses = head.loss(feats, samples)
    heatmaps, displacements = head.forward(feats)
    mse = MODELS.build(dict(type='KeypointMSELoss', use_target_weight=True))
    smooth_l1 = MODELS.build(
        dict(
            type='SoftWeightSmoothL1Loss',
            use_target_weight=True,
            supervise_empty=False))
    expected = {
        'loss/heatmap':
        mse(heatmaps, stacked(samples, 'heatmaps'),
            stacked(samples, 'heatmap_weights')),
        'loss/displacement':
        smooth_l1(displacements, stacked(samples, 'displacements'),
                  stacked(samples, 'displacement_weights')),
    }
    assert set(losses) == set(expected)
    for key, value in expected.items():
        assert torch.allclose(losses[key], value, rtol=1e-6), key


def test_swahr_scales_adapt_the_keypoint_channels_only():
    head = build_head(**SWAHR)
    head.init_weights()
    head.scale_conv_layers[1].weight.data.normal_(0, 0.05)
    head.scale_conv_layers[1].bias.data.fill_(0.2)
    samples = make_batch(17)
    feats = (torch.randn(2, IN_CHANNELS, 16, 16), )
    losses = head.loss(feats, samples)

    heatmaps, _ = head.forward(feats)
    scales = head.scale_conv_layers(feats[0])
    assert scales.abs().min() > 0
    targets = stacked(samples, 'heatmaps')
    # the centre channel (last) keeps a zero scale
    keypoint_scales = torch.cat((scales, torch.zeros_like(scales[:, :1])), 1)
    heatmap_loss = MODELS.build(dict(type='AdaptiveHeatmapLoss'))
    scale_loss = MODELS.build(dict(type='HeatmapScaleLoss'))
    assert torch.allclose(
        losses['loss/heatmap'],
        heatmap_loss(heatmaps, targets, scales=keypoint_scales),
        rtol=1e-6)
    assert torch.allclose(
        losses['loss/heatmap_scale'],
        scale_loss(scales, targets[:, :17]),
        rtol=1e-6)


@pytest.mark.parametrize('per_keypoint', [True, False])
def test_keypoint_branches_are_independent(per_keypoint):
    """Eq. 1-6: a change in keypoint i's channels after the first 1x1
    convolution only moves keypoint i's offsets (2i, 2i + 1)."""
    head = build_head(per_keypoint_branches=per_keypoint).eval()
    first, *rest = head.displacement_conv_layers

    def tail(features):
        for layer in rest:
            features = layer(features)
        return features

    with torch.no_grad():
        features = first(torch.randn(1, IN_CHANNELS, 8, 8))
        reference = tail(features)
        for i in (0, 7, 16):
            moved = features.clone()
            moved[:, 16 * i:16 * (i + 1)] += torch.rand(1, 16, 8, 8)
            change = (tail(moved) - reference).abs().amax(dim=(0, 2, 3))
            changed = change.nonzero().flatten().tolist()
            assert changed == ([2 * i, 2 * i +
                                1] if per_keypoint else list(range(34)))


@pytest.mark.parametrize('flip_test', [False, True])
def test_predict(flip_test):
    head = build_head().eval()
    samples = make_batch(17, batch_size=1)
    feats = torch.randn(1, IN_CHANNELS, 16, 16)
    inputs = [(feats, ), (feats.flip(-1), )] if flip_test else (feats, )
    test_cfg = dict(flip_test=flip_test, output_heatmaps=True)
    with torch.no_grad():
        preds, fields = head.predict(inputs, samples, test_cfg)
        plain = head.predict(inputs, samples, dict(flip_test=flip_test))
    assert len(preds) == len(plain) == 1
    keypoints = preds[0].keypoints
    assert keypoints.ndim == 3 and keypoints.shape[1:] == (17, 2)
    assert len(keypoints) > 0
    assert preds[0].keypoint_scores.shape == keypoints.shape[:2]
    assert (keypoints == plain[0].keypoints).all()
    assert isinstance(fields[0], PixelData)
    assert fields[0].heatmaps.shape == (18, 16, 16)
    assert fields[0].displacements.shape == (34, 16, 16)


def test_flip_test_averages_the_flipped_pass():
    head = build_head().eval()
    samples = make_batch(17, batch_size=1)
    feats = torch.randn(1, IN_CHANNELS, 16, 16)
    cfg = dict(flip_test=True, output_heatmaps=True)
    with torch.no_grad():
        _, fields = head.predict([(feats, ), (feats.flip(-1), )], samples, cfg)
        heatmaps, displacements = head.forward((feats, ))
        heatmaps_f, displacements_f = head.forward((feats.flip(-1), ))
    flip_indices = samples[0].metainfo['flip_indices']
    expected = (heatmaps[0] + heatmaps_f[0, flip_indices + [17]].flip(-1)) / 2
    assert_close(fields[0].heatmaps, expected, 1e-6)

    # swapped left/right keypoints, mirrored x offsets, and DEKR's shift of
    # (f - 1) / f for a heatmap 1/f of the input's width
    flipped = displacements_f[0].view(17, 2, 16, 16)[flip_indices].flip(-1)
    flipped = flipped * torch.tensor([-1., 1.]).view(1, 2, 1, 1)
    flipped[:, 0] += (4 - 1) / 4
    expected = (displacements[0] + flipped.reshape(34, 16, 16)) / 2
    assert_close(fields[0].displacements, expected, 1e-6)


def test_state_dict_without_version_metadata_round_trips():
    head = build_head().eval()
    for param in head.parameters():
        param.data.normal_()
    copy = build_head().eval()
    copy.load_state_dict(dict(head.state_dict()))  # e.g. from safetensors
    feats = (torch.randn(1, IN_CHANNELS, 8, 8), )
    with torch.no_grad():
        for ours, theirs in zip(copy.forward(feats), head.forward(feats)):
            assert torch.equal(ours, theirs)


def test_dekr_state_dict_initialises_shared_keys():
    rescore = dict(in_channels=74, norm_indexes=(5, 6))
    dekr = MODELS.build(
        dict(
            type='DEKRHead',
            in_channels=IN_CHANNELS,
            num_keypoints=17,
            rescore_cfg=rescore)).eval()
    head = build_head(rescore_cfg=rescore).eval()
    for param in dekr.parameters():
        param.data.normal_()
    theirs, ours = dekr.state_dict(), head.state_dict()
    shared = OrderedDict((k, v) for k, v in theirs.items()
                         if k in ours and ours[k].shape == v.shape)
    # the version metadata a checkpoint carries (DEKR's hook reads it)
    shared._metadata = theirs._metadata
    for prefix in ('heatmap_conv_layers.', 'rescore_net.'):
        keys = {k for k in theirs if k.startswith(prefix)}
        assert keys and keys <= set(shared), prefix
    # the first displacement convolution keeps DEKR's name, not its width
    assert theirs['displacement_conv_layers.0.conv.weight'].shape[0] == 255
    assert ours['displacement_conv_layers.0.conv.weight'].shape[0] == 272

    result = head.load_state_dict(shared, strict=False)
    assert not result.unexpected_keys
    feats = (torch.randn(1, IN_CHANNELS, 8, 8), )
    with torch.no_grad():
        assert torch.equal(head.forward(feats)[0], dekr.forward(feats)[0])
        kpts, scores = torch.rand(3, 17, 2) * 50, torch.rand(3, 17)
        links = dataset_meta(17)['skeleton_links']
        assert torch.equal(
            head.rescore_net(kpts, scores, links),
            dekr.rescore_net(kpts, scores, links))


def test_rescore_net_is_frozen():
    """The pose losses never reach the rescore net: frozen, it is no unused
    parameter for DistributedDataParallel, and training leaves it as it
    was loaded."""
    head = build_head(rescore_cfg=dict(in_channels=74, norm_indexes=(5, 6)))
    feats = (torch.randn(2, IN_CHANNELS, 16, 16), )
    losses = head.loss(feats, make_batch(17))
    sum(losses.values()).backward()
    rescore = list(head.rescore_net.parameters())
    assert rescore and not any(p.requires_grad for p in rescore)
    trained = [
        p for name, p in head.named_parameters()
        if not name.startswith('rescore_net.')
    ]
    assert all(p.requires_grad for p in trained)
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in trained)


def test_targets_of_another_dataset_raise():
    """A COCO head (17 keypoints) trained on CrowdPose's targets (14)."""
    head = build_head(17)
    with pytest.raises(
            ValueError,
            match=r'targets have 14 keypoints, but the head predicts '
            r'num_keypoints=17: .*as many keypoints as the dataset'):
        head.loss((torch.randn(2, IN_CHANNELS, 16, 16), ), make_batch(14))


def test_flip_indices_of_another_dataset_raise():
    head = build_head(17).eval()
    samples = make_batch(14, batch_size=1)
    feats = torch.randn(1, IN_CHANNELS, 16, 16)
    with pytest.raises(
            ValueError,
            match=r'flip_indices of 14 keypoints, but the head predicts '
            r'num_keypoints=17'):
        head.predict([(feats, ), (feats.flip(-1), )], samples,
                     dict(flip_test=True))
