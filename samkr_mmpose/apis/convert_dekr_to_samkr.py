# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Write a SAMKR initialisation from an MMPose DEKR checkpoint.

The backbone, the heatmap branch and the rescore net are copied exactly, so
the SAMKR model's heatmaps equal DEKR's. In the displacement branch, DEKR's
``c_D = 15`` channels of keypoint ``j`` become the first ``c_D`` of the
``c`` channels of SAMKR's branch ``j`` (SAMKR eq. 1, ``c >= c_D``):

- the first 1x1 convolution and its BN: output ``j * c + i`` is DEKR's
  output ``j * c_D + i`` for ``i < c_D``;
- the adaptive blocks that both models have, with one branch per keypoint
  (DEKR's first, and its second when the config has two): the affine
  transform is read from the first ``c_D`` channels of the branch only, and
  the deformable convolution's outputs ``i < c_D`` from its inputs
  ``i < c_D`` only (weights to the other inputs are zero), so these
  channels compute exactly DEKR's features; BN as above;
- the final grouped 1x1 convolution only when the config has exactly
  DEKR's two adaptive blocks, i.e. when it reads DEKR's features (through
  the subspace attention, which starts close to the identity); after one
  block (the paper's configs) it would read features DEKR's never saw, and
  is left fresh.

Everything else (channels ``i >= c_D``, the subspace attention, SWAHR's
scale branch, a single shared branch's adaptive blocks) keeps the config's
initialisation. DEKR checkpoints with MMPose 0.x key names (head
``keypoint_head``, ``offset_conv_layers``, root heatmap first, opposite
displacements) are converted as MMPose's ``DEKRHead`` does; the
checkpoints published for MMPose 1.x have 1.x names and are read as they
are. The report lists every key of both models with its fate.

Example::

    python tools/convert_dekr_to_samkr.py DEKR.pth \\
        configs/samkr/samkr_hrnet-w32_8xb10-140e_coco-512x512.py \\
        samkr_init.pth --report samkr_init.txt
"""
import copy
import logging
from collections import OrderedDict
from typing import Dict, Iterator, List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import CheckpointLoader, save_checkpoint
from torch import Tensor, nn

from mmpose.registry import MODELS
from samkr_mmpose.models import DEKR_LAYOUT, SAMKRHead

DISPLACEMENT = DEKR_LAYOUT.prefix(head='head.')
# SAMKR modules that DEKR has no counterpart for, outside the displacement
# branch
SAMKR_ONLY = ('head.scale_conv_layers.', )
RESCORE = 'head.rescore_net.'
# keys every MMPose DEKR checkpoint has (1.x names)
DEKR_INPUT_CONV = DEKR_LAYOUT.prefix(DEKR_LAYOUT.input_conv, 'head.')
DEKR_OUTPUT_CONV = DEKR_LAYOUT.prefix(DEKR_LAYOUT.output_conv, 'head.')
DEKR_KEYS = (
    'head.heatmap_conv_layers.2.weight',
    f'{DEKR_INPUT_CONV}conv.weight',
    *(f'{DEKR_LAYOUT.prefix(i, "head.")}transform_matrix_conv.weight'
      for i in DEKR_LAYOUT.adaptive_blocks),
    f'{DEKR_OUTPUT_CONV}weight',
)
BN_STATS = ('weight', 'bias', 'running_mean', 'running_var')

# a planned displacement tensor: (SAMKR key, DEKR key, how, note)
Plan = List[Tuple[str, str, str, str]]
Fates = Dict[str, Dict[str, Tuple[str, str]]]


def dekr_state_dict(checkpoint: dict) -> 'OrderedDict[str, Tensor]':
    """The state dict of an MMPose DEKR checkpoint with MMPose 1.x names.

    Args:
        checkpoint (dict): A loaded checkpoint: mmengine's (``state_dict``,
            ``meta``, ...) or a bare state dict.

    Returns:
        OrderedDict[str, Tensor]: The state dict.
    """
    state = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, dict) else checkpoint
    if not isinstance(state, dict) or not all(
            isinstance(v, Tensor) for v in state.values()):
        found = list(state) if isinstance(state, dict) else type(state)
        raise ValueError('not an MMPose DEKR checkpoint: it has no state '
                         f'dict of tensors (found {found})')
    state = OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state.items()
        if k not in ('data_preprocessor.mean', 'data_preprocessor.std'))
    if any('offset_conv_layers' in k for k in state):
        state = _from_mmpose_0x(state)
    missing = [k for k in DEKR_KEYS if k not in state]
    if missing:
        raise ValueError(
            f'not an MMPose DEKR checkpoint: it has no {missing} (a DEKRHead '
            'has a heatmap branch, two adaptive blocks and a final '
            'convolution in head.displacement_conv_layers)')
    return state


def _from_mmpose_0x(state: 'OrderedDict[str, Tensor]'
                    ) -> 'OrderedDict[str, Tensor]':
    """Rename and convert MMPose 0.x DEKR weights as MMPose's
    ``BasePoseEstimator`` and ``DEKRHead`` load-state-dict hooks mean to
    (their renaming of the top-level rescore net never sees its keys, as
    each module gets only the keys under its own prefix)."""
    converted = OrderedDict()
    for key, value in state.items():
        if key.startswith('keypoint_head.'):
            key = 'head.' + key[len('keypoint_head.'):]
        elif key.startswith('rescore_net.'):
            key = 'head.' + key
        key = key.replace('offset_conv_layers', 'displacement_conv_layers')
        if key.startswith(DEKR_OUTPUT_CONV):
            # 0.x regresses keypoint-to-centre vectors
            value = -value
        if key.startswith('head.heatmap_conv_layers.2.'):
            # 0.x has the instance-centre heatmap first, 1.x last
            value = torch.cat((value[1:], value[:1]))
        converted[key] = value
    return converted


def build_samkr_model(cfg: Config, seed: int = 0) -> nn.Module:
    """Build the config's model with its own initialisation, without the
    pretrained weights it would download (DEKR's replace them).

    Args:
        cfg (Config): A SAMKR config.
        seed (int): Seed of the initialisation. Defaults to 0.

    Returns:
        nn.Module: The initialised model.
    """
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    model_cfg = _without_pretrained(copy.deepcopy(cfg.model))
    torch.manual_seed(seed)
    model = MODELS.build(model_cfg)
    if not isinstance(getattr(model, 'head', None), SAMKRHead):
        raise ValueError('the config must build a SAMKRHead, got '
                         f'{type(getattr(model, "head", None)).__name__}')
    logger = MMLogger.get_current_instance()
    level = logger.level
    # init_weights logs every parameter without a file handler
    logger.setLevel(logging.WARNING)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    return model


def _without_pretrained(cfg):
    """``cfg`` with every ``init_cfg`` of type ``Pretrained`` removed."""
    if isinstance(cfg, dict):
        for key, value in cfg.items():
            if key == 'init_cfg':
                inits = value if isinstance(value, list) else [value]
                kept = [
                    init for init in inits
                    if not (isinstance(init, dict)
                            and init.get('type') == 'Pretrained')
                ]
                cfg[key] = kept if isinstance(
                    value, list) else (kept[0] if kept else None)
            else:
                _without_pretrained(value)
    elif isinstance(cfg, (list, tuple)):
        for item in cfg:
            _without_pretrained(item)
    return cfg


def _branch_rows(num_keypoints: int, dekr_channels: int,
                 channels: int) -> Tensor:
    """SAMKR channel ``j * c + i`` of DEKR's ``j * c_D + i``, in DEKR's
    order."""
    return (torch.arange(num_keypoints)[:, None] * channels +
            torch.arange(dekr_channels)).flatten()


def displacement_plan(head: SAMKRHead, dekr_channels: int) -> Plan:
    """Which SAMKR displacement tensors take which DEKR tensors, and how.

    Args:
        head (SAMKRHead): The SAMKR head.
        dekr_channels (int): DEKR's channels per keypoint ``c_D``.

    Returns:
        list: ``(samkr_key, dekr_key, how, note)`` with ``how`` one of
        ``copy``, ``rows`` (output channels), ``inputs`` (input channels
        of each branch, the others zero) and ``adapt`` (both).
    """
    c, cd = head.num_channels_per_keypoint, dekr_channels
    layout = head.displacement_layout
    rows = f'channel j*{c}+i <- DEKR j*{cd}+i (i < {cd}); i >= {cd} fresh'
    first = layout.prefix(layout.input_conv, 'head.')
    plan = [(f'{first}conv.weight', f'{DEKR_INPUT_CONV}conv.weight', 'rows',
             rows)]
    plan += _bn_plan(first, DEKR_INPUT_CONV, 'bn.', rows)
    if not head.per_keypoint_branches:
        return plan
    for ours, theirs in zip(layout.adaptive_blocks,
                            DEKR_LAYOUT.adaptive_blocks):
        plan += _block_plan(
            layout.prefix(ours, 'head.'), DEKR_LAYOUT.prefix(theirs, 'head.'),
            rows, c, cd)
    # only then does the output convolution read DEKR's features
    if layout.num_adaptive_blocks == DEKR_LAYOUT.num_adaptive_blocks:
        final = layout.prefix(layout.output_conv, 'head.')
        plan += [
            (f'{final}weight', f'{DEKR_OUTPUT_CONV}weight', 'inputs',
             f'inputs i < {cd} of each branch <- DEKR; i >= {cd} zero'),
            (f'{final}bias', f'{DEKR_OUTPUT_CONV}bias', 'copy', 'copied'),
        ]
    return plan


def _block_plan(ours: str, theirs: str, rows: str, c: int, cd: int) -> Plan:
    """Plan of an adaptive block (key prefixes ``ours`` and ``theirs``)."""
    return [
        (f'{ours}regular_matrix', f'{theirs}regular_matrix', 'copy',
         'copied (constant)'),
        (f'{ours}transform_matrix_conv.weight',
         f'{theirs}transform_matrix_conv.weight', 'inputs',
         f'inputs i < {cd} of each branch <- DEKR; i >= {cd} zero'),
        (f'{ours}transform_matrix_conv.bias',
         f'{theirs}transform_matrix_conv.bias', 'copy', 'copied'),
        (f'{ours}adapt_conv.weight', f'{theirs}adapt_conv.weight', 'adapt',
         f'outputs j*{c}+i from inputs i\' (i, i\' < {cd}) <- DEKR; from '
         f'inputs i\' >= {cd} zero; outputs i >= {cd} fresh'),
    ] + _bn_plan(ours, theirs, 'norm.', rows)


def _bn_plan(ours: str, theirs: str, bn: str, note: str) -> Plan:
    """Plan of a BN layer ``bn`` over the branches' channels."""
    return [(f'{ours}{bn}{name}', f'{theirs}{bn}{name}', 'rows', note)
            for name in BN_STATS
            ] + [(f'{ours}{bn}num_batches_tracked',
                  f'{theirs}{bn}num_batches_tracked', 'copy', 'copied')]


def _apply(how: str, fresh: Tensor, dekr: Tensor, rows: Tensor,
           dekr_channels: int) -> Tensor:
    """One planned tensor from its fresh value and DEKR's."""
    out = fresh.clone()
    if how == 'copy':
        out.copy_(dekr)
    elif how == 'rows':
        out[rows] = dekr
    elif how == 'inputs':
        out.zero_()
        out[:, :dekr_channels] = dekr
    else:  # adapt: a grouped convolution, outputs and inputs
        out[rows] = 0
        out[rows, :dekr_channels] = dekr
    return out


def convert(dekr: 'OrderedDict[str, Tensor]',
            model: nn.Module) -> Tuple['OrderedDict[str, Tensor]', Fates]:
    """SAMKR weights from DEKR's, over the model's fresh ones.

    Args:
        dekr (OrderedDict[str, Tensor]): DEKR's state dict, MMPose 1.x
            names (see :func:`dekr_state_dict`).
        model (nn.Module): The initialised SAMKR model (see
            :func:`build_samkr_model`).

    Returns:
        tuple:
        - state_dict (OrderedDict[str, Tensor]): The SAMKR state dict, with
          the model's version metadata.
        - fates (dict): ``fates['samkr'][key]`` and ``fates['dekr'][key]``
          are ``(fate, note)`` for every key of either model; the fates are
          ``copied``, ``mapped``, ``fresh`` and ``dropped``.
    """
    head = model.head
    dekr_channels = _dekr_channels(dekr, head)
    samkr = model.state_dict()
    plan = {
        s: (d, how, note)
        for s, d, how, note in displacement_plan(head, dekr_channels)
    }
    rows = _branch_rows(head.num_keypoints, dekr_channels,
                        head.num_channels_per_keypoint)
    out = OrderedDict()
    out._metadata = getattr(samkr, '_metadata', OrderedDict())
    fates = dict(samkr=OrderedDict(), dekr=OrderedDict())
    missing, mismatched = [], []
    for key, fresh in samkr.items():
        if key in plan:
            source, how, note = plan[key]
            if dekr[source].shape != _expected(how, fresh, dekr_channels,
                                               rows):
                mismatched.append(
                    f'{source}: DEKR {tuple(dekr[source].shape)}, SAMKR '
                    f'{key} {tuple(fresh.shape)}')
                continue
            out[key] = _apply(how, fresh, dekr[source], rows, dekr_channels)
            fate = 'copied' if how == 'copy' else 'mapped'
            fates['samkr'][key] = (fate, f'{note}; from {source}')
            fates['dekr'][source] = (fate, f'to {key}')
        elif key.startswith((DISPLACEMENT, ) + SAMKR_ONLY):
            out[key] = fresh
            fates['samkr'][key] = ('fresh', 'initialised by the config')
        elif key not in dekr:
            missing.append(key)
        elif dekr[key].shape != fresh.shape:
            mismatched.append(f'{key}: DEKR {tuple(dekr[key].shape)}, '
                              f'SAMKR {tuple(fresh.shape)}')
        else:
            out[key] = dekr[key].clone()
            fates['samkr'][key] = ('copied', 'identical')
            fates['dekr'][key] = ('copied', 'identical')
    if missing or mismatched:
        raise ValueError(
            'the DEKR checkpoint does not fit the SAMKR config (another '
            'backbone, or rescore net?): missing in DEKR: '
            f'{missing}; shape mismatches: {mismatched}')
    _drop_unused(dekr, head, fates)
    return out, fates


def _dekr_channels(dekr: 'OrderedDict[str, Tensor]', head: SAMKRHead) -> int:
    """DEKR's displacement channels per keypoint ``c_D``, checked against
    the SAMKR head."""
    num_keypoints = dekr['head.heatmap_conv_layers.2.weight'].shape[0] - 1
    if num_keypoints != head.num_keypoints:
        raise ValueError(
            f'the DEKR checkpoint has {num_keypoints} keypoints, the SAMKR '
            f'config {head.num_keypoints}: use the DEKR model of the same '
            'dataset')
    dekr_filters = dekr[f'{DEKR_INPUT_CONV}conv.weight'].shape[0]
    if dekr_filters % num_keypoints:
        raise ValueError(
            f'the DEKR checkpoint has {dekr_filters} displacement channels, '
            f'not a multiple of its {num_keypoints} keypoints')
    dekr_channels = dekr_filters // num_keypoints
    c = head.num_channels_per_keypoint
    if c < dekr_channels:
        raise ValueError(
            f'num_channels_per_keypoint (c={c}) of the SAMKR config is '
            f'smaller than the {dekr_channels} channels per keypoint of the '
            'DEKR checkpoint: every DEKR channel needs a SAMKR channel')
    return dekr_channels


def _drop_unused(dekr: 'OrderedDict[str, Tensor]', head: SAMKRHead,
                 fates: Fates) -> None:
    """Give the DEKR keys without a place in SAMKR the fate ``dropped``,
    or raise a ``ValueError`` for the unexpected ones; order DEKR's fates
    as its keys."""
    unused = [k for k in dekr if k not in fates['dekr']]
    unexpected = [
        k for k in unused if not k.startswith(DISPLACEMENT)
        and not (k.startswith(RESCORE) and head.rescore_net is None)
    ]
    if unexpected:
        raise ValueError('keys of the DEKR checkpoint that the SAMKR config '
                         f'has no place for: {unexpected}')
    for key in unused:
        fates['dekr'][key] = ('dropped', _dropped_note(key, head))
    fates['dekr'] = OrderedDict((k, fates['dekr'][k]) for k in dekr)


def _dropped_note(key: str, head: SAMKRHead) -> str:
    """Why a DEKR tensor has no place in SAMKR."""
    if key.startswith(RESCORE):
        return 'the SAMKR config has no rescore net'
    if key.startswith(DEKR_OUTPUT_CONV):
        return ('reads the features of DEKR\'s second adaptive block, '
                'which SAMKR does not compute')
    if not head.per_keypoint_branches:
        return ('SAMKR has one shared branch: one affine transform for all '
                'channels')
    return (f'the SAMKR config has {head.num_adaptive_blocks} adaptive '
            'block(s)')


def _expected(how: str, fresh: Tensor, dekr_channels: int,
              rows: Tensor) -> torch.Size:
    """The shape of the DEKR tensor a planned SAMKR tensor takes."""
    shape = list(fresh.shape)
    if how in ('rows', 'adapt'):
        shape[0] = len(rows)
    if how in ('inputs', 'adapt'):
        shape[1] = dekr_channels
    return torch.Size(shape)


def format_report(fates: Fates, header: str = '') -> str:
    """The report: every key of both models, its fate and how.

    Args:
        fates (dict): The fates returned by :func:`convert`.
        header (str): Lines to put first. Defaults to ``''``.

    Returns:
        str: The report.
    """
    lines = [header] if header else []
    for side, title in (('samkr', 'SAMKR keys'), ('dekr', 'DEKR keys')):
        lines += ['', f'{title} ({count_fates(fates[side])}):']
        lines += [
            f'{fate:8s} {key}  {note}'
            for key, (fate, note) in fates[side].items()
        ]
    return '\n'.join(lines) + '\n'


def count_fates(fates: Dict[str, Tuple[str, str]]) -> str:
    """How many keys have each fate, e.g. ``'12 copied, 3 fresh'``."""
    counts = {}
    for fate, _ in fates.values():
        counts[fate] = counts.get(fate, 0) + 1
    return ', '.join(f'{n} {fate}' for fate, n in counts.items())


def _summary(head: SAMKRHead, dekr: 'OrderedDict[str, Tensor]') -> str:
    """The header of the report."""
    num_keypoints = head.num_keypoints
    dekr_channels = (
        dekr[f'{DEKR_INPUT_CONV}conv.weight'].shape[0] // num_keypoints)
    branches = ('per keypoint'
                if head.per_keypoint_branches else 'one shared branch')
    return (f'DEKR: {num_keypoints} keypoints, {dekr_channels} channels per '
            f'keypoint, 2 adaptive blocks\nSAMKR: {num_keypoints} keypoints, '
            f'c = {head.num_channels_per_keypoint} channels per keypoint, '
            f'{head.num_adaptive_blocks} adaptive block(s), {branches}')


def iter_report_rows(report: str) -> Iterator[Tuple[str, str, str]]:
    """``(section, fate, key)`` of every key line of a report.

    Args:
        report (str): A report written by :func:`format_report`.

    Yields:
        tuple: The section (``samkr`` or ``dekr``), fate and key.
    """
    section = None
    for line in report.splitlines():
        if line.startswith(('SAMKR keys', 'DEKR keys')):
            section = line.split()[0].lower()
        elif section and line.strip():
            fate, key = line.split()[:2]
            yield section, fate, key


def convert_checkpoint(dekr_checkpoint: str,
                       cfg: Config,
                       out_file: str,
                       report_file: Optional[str] = None,
                       seed: int = 0) -> Fates:
    """Convert a DEKR checkpoint file into a SAMKR one.

    Args:
        dekr_checkpoint (str): The DEKR checkpoint (path or URL).
        cfg (Config): The SAMKR config.
        out_file (str): Where to write the SAMKR checkpoint (``meta`` and
            ``state_dict``).
        report_file (str, optional): Where to write the report.
        seed (int): Seed of the fresh initialisation. Defaults to 0.

    Returns:
        dict: The fates of all keys (see :func:`convert`).
    """
    checkpoint = CheckpointLoader.load_checkpoint(
        dekr_checkpoint, map_location='cpu')
    dekr = dekr_state_dict(checkpoint)
    model = build_samkr_model(cfg, seed)
    state_dict, fates = convert(dekr, model)

    meta = dict(
        samkr_from_dekr=dict(
            dekr_checkpoint=dekr_checkpoint,
            samkr_config=cfg.filename or '',
            seed=seed))
    dataset_meta = checkpoint.get('meta', {}).get('dataset_meta')
    if dataset_meta is not None:
        meta['dataset_meta'] = dataset_meta
    save_checkpoint(dict(meta=meta, state_dict=state_dict), out_file)
    if report_file:
        with open(report_file, 'w') as f:
            f.write(format_report(fates, _summary(model.head, dekr)))
    return fates
