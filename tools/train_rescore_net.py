# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Train DEKR's rescore net for a trained model (official DEKR's
``tools/train_scorenet.py``, which MMPose lacks)::

    python tools/train_rescore_net.py CONFIG CHECKPOINT --out rescore.pth \
        [--epochs 20] [--lr 1e-3] [--batch-size 1024] [--cfg-options ...]

The model runs over the dataset of ``train_dataloader`` with the pipeline
of ``test_dataloader`` (no augmentation) and its ``test_cfg``; for every
pose it predicts, the rescore net's input at test time (keypoints and
keypoint scores after NMS and heatmap matching) and the OKS with the
best-matching ground truth are kept (see
:func:`samkr_mmpose.utils.rescore_samples.collect_rescore_samples`). The
net (MMPose's ``RescoreNet``, DEKR's 3-layer MLP) is fitted to the OKS with
an MSE loss and Adam; the defaults are DEKR's ``rescore_coco.yaml``.

``--out`` is a checkpoint of the net alone that the head's rescore net
loads at initialisation::

    rescore_cfg=dict(in_channels=IN, norm_indexes=(I, J),
                     init_cfg=dict(type='Pretrained', checkpoint=OUT))

with the ``in_channels`` and ``norm_indexes`` logged (also in the
checkpoint's ``meta``). An initialisation config only acts when the model
initialises its weights, i.e. in training; ``tools/test.py`` loads the
weights of CHECKPOINT only. ``--model-out`` writes a copy of CHECKPOINT with
the fitted net as ``head.rescore_net``, to test with that ``rescore_cfg``.
"""
import argparse
import copy
import os
import os.path as osp
from typing import Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import CheckpointLoader, Runner
from scipy.stats import spearmanr
from torch import nn

from mmpose.apis import init_model
from mmpose.models.heads.hybrid_heads.dekr_head import RescoreNet
from samkr_mmpose.utils.fit_rescore_net import fit_rescore_net
from samkr_mmpose.utils.rescore_samples import collect_rescore_samples

TORSO_LINKS = (('left_shoulder', 'left_hip'), ('right_shoulder', 'right_hip'))


def positive_int(text: str) -> int:
    """An ``argparse`` type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


def parse_args():
    parser = argparse.ArgumentParser(
        description='Train the rescore net of a bottom-up model')
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint of the model')
    parser.add_argument(
        '--out', required=True, help='checkpoint file of the rescore net')
    parser.add_argument(
        '--model-out',
        help='also write CHECKPOINT with the fitted net as head.rescore_net')
    parser.add_argument('--epochs', type=positive_int, default=20)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--batch-size', type=positive_int, default=1024)
    parser.add_argument(
        '--norm-indexes',
        type=int,
        nargs=2,
        help='the two skeleton links whose mean length normalises the '
        'features (default: those of the config\'s rescore_cfg, else the '
        'shoulder-hip links)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--device',
        default='cuda:0' if torch.cuda.is_available() else 'cpu',
        help='device of the model and the net')
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as in tools/train.py')
    return parser.parse_args()


def default_norm_indexes(cfg: Config, dataset_meta: dict) -> Tuple[int, int]:
    """The links of the config's ``rescore_cfg``, or the shoulder-hip
    links, DEKR's COCO choice.

    Args:
        cfg (Config): The model config.
        dataset_meta (dict): The dataset's metainfo.

    Returns:
        tuple: Two indices into ``dataset_meta['skeleton_links']``.
    """
    rescore_cfg = cfg.model.head.get('rescore_cfg', None)
    if rescore_cfg:
        return tuple(rescore_cfg['norm_indexes'])
    names = dataset_meta['keypoint_id2name']
    links = [{names[i], names[j]} for i, j in dataset_meta['skeleton_links']]
    if not all(set(link) in links for link in TORSO_LINKS):
        raise ValueError(
            f'the skeleton of {dataset_meta.get("dataset_name")} has no '
            f'links {TORSO_LINKS}: give --norm-indexes')
    return tuple(links.index(set(link)) for link in TORSO_LINKS)


def build_data_loader(cfg: Config, num_workers: int):
    """The training set through the test pipeline, one image a batch."""
    dataset = copy.deepcopy(cfg.train_dataloader.dataset)
    if 'pipeline' not in dataset:
        raise ValueError(
            'train_dataloader.dataset must be a dataset with a pipeline, got '
            f'{dataset.get("type")}')
    dataset.pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    return Runner.build_dataloader(
        dict(
            batch_size=1,
            num_workers=num_workers,
            persistent_workers=False,
            sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
            collate_fn=cfg.test_dataloader.get('collate_fn',
                                               dict(type='pseudo_collate')),
            dataset=dataset))


def write_model_checkpoint(checkpoint: str, net: RescoreNet, out: str) -> None:
    """Copy a model checkpoint with ``net`` as ``head.rescore_net``."""
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state_dict = ckpt.get('state_dict', ckpt)
    for key in [k for k in state_dict if k.startswith('head.rescore_net.')]:
        del state_dict[key]
    for key, value in net.state_dict().items():
        state_dict[f'head.rescore_net.{key}'] = value.cpu()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save(ckpt, out)


def main():
    args = parse_args()
    logger = MMLogger.get_instance('train_rescore_net', log_level='INFO')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpose'))

    data_loader = build_data_loader(cfg, args.num_workers)
    dataset_meta = data_loader.dataset.metainfo
    skeleton = dataset_meta['skeleton_links']
    norm_indexes = tuple(
        args.norm_indexes or default_norm_indexes(cfg, dataset_meta))
    if not all(0 <= i < len(skeleton) for i in norm_indexes):
        raise ValueError(f'norm_indexes {norm_indexes} are not indices of '
                         f'the {len(skeleton)} skeleton links')
    in_channels = 3 * len(skeleton) + dataset_meta['num_keypoints']
    rescore_cfg = cfg.model.head.get('rescore_cfg', None)
    if rescore_cfg and rescore_cfg['in_channels'] != in_channels:
        raise ValueError(
            f'rescore_cfg.in_channels={rescore_cfg["in_channels"]} of the '
            f'config does not fit the {len(skeleton)} links and '
            f'{dataset_meta["num_keypoints"]} keypoints of the dataset '
            f'({in_channels})')

    # the head rescores nothing while the samples are collected
    cfg.model.head.rescore_cfg = None
    model = init_model(cfg, args.checkpoint, device=args.device)
    use_area, iou_type = True, 'keypoints'
    evaluator = cfg.get('test_evaluator', None)
    if isinstance(evaluator, dict):
        use_area = evaluator.get('use_area', True)
        iou_type = evaluator.get('iou_type', 'keypoints')
    logger.info(f'collecting poses on {len(data_loader)} images')
    samples = collect_rescore_samples(model, data_loader, use_area, iou_type)
    del model
    logger.info(f'{len(samples["oks"])} poses, mean OKS '
                f'{samples["oks"].mean():.4f}, OKS variance '
                f'{samples["oks"].var():.5f}')

    torch.manual_seed(args.seed)
    net = RescoreNet(in_channels, norm_indexes)
    # DEKR's PredictOKSNet.init_weights
    for layer in (net.l1, net.l2, net.l3):
        nn.init.kaiming_uniform_(layer.weight, a=1)
        nn.init.zeros_(layer.bias)
    net.to(args.device)
    losses = fit_rescore_net(net, samples['keypoints'],
                             samples['keypoint_scores'], samples['oks'],
                             skeleton, args.epochs, args.lr, args.batch_size,
                             args.seed)

    with torch.no_grad():
        rescored = net(
            *(torch.from_numpy(samples[key]).to(args.device)
              for key in ('keypoints', 'keypoint_scores')),
            skeleton).cpu().numpy() * samples['scores']
    logger.info('Spearman correlation with the OKS on the training poses: '
                f'scores {spearmanr(samples["scores"], samples["oks"])[0]:.4f}'
                f', rescored {spearmanr(rescored, samples["oks"])[0]:.4f}')

    meta = dict(
        in_channels=in_channels,
        norm_indexes=list(norm_indexes),
        skeleton_links=[list(link) for link in skeleton],
        dataset_name=dataset_meta.get('dataset_name'),
        config=args.config,
        checkpoint=args.checkpoint,
        num_poses=len(samples['oks']),
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        losses=losses)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    net.cpu()
    torch.save(dict(meta=meta, state_dict=net.state_dict()), args.out)
    logger.info(f'saved {args.out}; load it with rescore_cfg=dict(in_channels='
                f'{in_channels}, norm_indexes={norm_indexes}, init_cfg=dict('
                f"type='Pretrained', checkpoint='{args.out}'))")
    if args.model_out:
        write_model_checkpoint(args.checkpoint, net, args.model_out)
        logger.info(f'saved {args.model_out}: {args.checkpoint} with this '
                    'net as head.rescore_net')


if __name__ == '__main__':
    main()
