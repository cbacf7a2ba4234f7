# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Train DEKR's rescore net for a trained model (official DEKR's
``tools/train_scorenet.py``, which MMPose lacks).

The model runs over the dataset of ``train_dataloader`` with the pipeline
of ``test_dataloader`` (no augmentation) and its ``test_cfg``; for every
pose it predicts, the rescore net's input at test time (keypoints and
keypoint scores after NMS and heatmap matching) and the OKS with the
best-matching ground truth are kept (see
:func:`samkr_mmpose.utils.rescore_samples.collect_rescore_samples`). The
net (MMPose's ``RescoreNet``, DEKR's 3-layer MLP) is fitted to the OKS with
an MSE loss and Adam; the defaults are DEKR's ``rescore_coco.yaml``.
"""
import copy
import os
import os.path as osp
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
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


def rescore_net_channels(cfg: Config, dataset_meta: dict,
                         norm_indexes: Sequence[int]) -> int:
    """The rescore net's input channels for a dataset's skeleton, checked
    against the config's ``rescore_cfg``.

    Args:
        cfg (Config): The model config.
        dataset_meta (dict): The dataset's metainfo.
        norm_indexes (Sequence[int]): The two normalising skeleton links.

    Returns:
        int: ``3 * links + keypoints``.

    Raises:
        ValueError: If ``norm_indexes`` are no link indices or the
            config's ``in_channels`` differ.
    """
    skeleton = dataset_meta['skeleton_links']
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
    return in_channels


def collect_samples(cfg: Config, checkpoint: str, data_loader, device: str,
                    logger: MMLogger) -> dict:
    """The model's poses on the data with their OKS (see
    :func:`collect_rescore_samples`), the head rescoring nothing."""
    cfg.model.head.rescore_cfg = None
    model = init_model(cfg, checkpoint, device=device)
    use_area, iou_type = True, 'keypoints'
    evaluator = cfg.get('test_evaluator', None)
    if isinstance(evaluator, dict):
        use_area = evaluator.get('use_area', True)
        iou_type = evaluator.get('iou_type', 'keypoints')
    logger.info(f'collecting poses on {len(data_loader)} images')
    samples = collect_rescore_samples(model, data_loader, use_area, iou_type)
    logger.info(f'{len(samples["oks"])} poses, mean OKS '
                f'{samples["oks"].mean():.4f}, OKS variance '
                f'{samples["oks"].var():.5f}')
    return samples


def init_rescore_net(in_channels: int, norm_indexes: Tuple[int, int],
                     seed: int) -> RescoreNet:
    """A rescore net initialised as DEKR's ``PredictOKSNet.init_weights``
    does, after seeding torch with ``seed``."""
    torch.manual_seed(seed)
    net = RescoreNet(in_channels, norm_indexes)
    for layer in (net.l1, net.l2, net.l3):
        nn.init.kaiming_uniform_(layer.weight, a=1)
        nn.init.zeros_(layer.bias)
    return net


def rescored(net: RescoreNet, samples: dict, skeleton: list,
             device: str) -> np.ndarray:
    """The scores of the samples rescored by ``net``."""
    with torch.no_grad():
        return net(
            *(torch.from_numpy(samples[key]).to(device)
              for key in ('keypoints', 'keypoint_scores')),
            skeleton).cpu().numpy() * samples['scores']


def save_rescore_net(net: RescoreNet, meta: dict, out: str,
                     logger: MMLogger) -> None:
    """Save the net, moved to the CPU, with ``meta`` and log how a head
    loads it."""
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    net.cpu()
    torch.save(dict(meta=meta, state_dict=net.state_dict()), out)
    logger.info(f'saved {out}; load it with rescore_cfg=dict(in_channels='
                f'{meta["in_channels"]}, norm_indexes='
                f'{tuple(meta["norm_indexes"])}, init_cfg=dict('
                f"type='Pretrained', checkpoint='{out}'))")


def train_rescore_net(config: str,
                      checkpoint: str,
                      out: str,
                      model_out: Optional[str] = None,
                      epochs: int = 20,
                      lr: float = 1e-3,
                      batch_size: int = 1024,
                      norm_indexes: Optional[Sequence[int]] = None,
                      seed: int = 0,
                      device: str = 'cpu',
                      num_workers: int = 2,
                      cfg_options: Optional[dict] = None) -> RescoreNet:
    """Fit DEKR's rescore net to the OKS of a model's poses and save it.

    Args:
        config (str): Config file of the model.
        checkpoint (str): Checkpoint of the model.
        out (str): Checkpoint file of the rescore net, with the
            ``in_channels`` and ``norm_indexes`` in its ``meta``.
        model_out (str, optional): Also write ``checkpoint`` with the
            fitted net as ``head.rescore_net`` here.
        epochs (int): Training epochs. Defaults to 20.
        lr (float): Adam's learning rate. Defaults to 1e-3.
        batch_size (int): Poses per step. Defaults to 1024.
        norm_indexes (Sequence[int], optional): The two skeleton links
            whose mean length normalises the features; by default
            :func:`default_norm_indexes`.
        seed (int): Seed of the initialisation and the shuffling.
            Defaults to 0.
        device (str): Device of the model and the net. Defaults to
            ``'cpu'``.
        num_workers (int): Data loader workers. Defaults to 2.
        cfg_options (dict, optional): Overrides of the config.

    Returns:
        RescoreNet: The fitted net, on the CPU.
    """
    logger = MMLogger.get_instance('train_rescore_net', log_level='INFO')
    cfg = Config.fromfile(config)
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    data_loader = build_data_loader(cfg, num_workers)
    dataset_meta = data_loader.dataset.metainfo
    skeleton = dataset_meta['skeleton_links']
    norm_indexes = tuple(
        norm_indexes or default_norm_indexes(cfg, dataset_meta))
    in_channels = rescore_net_channels(cfg, dataset_meta, norm_indexes)
    samples = collect_samples(cfg, checkpoint, data_loader, device, logger)

    net = init_rescore_net(in_channels, norm_indexes, seed).to(device)
    losses = fit_rescore_net(net, samples['keypoints'],
                             samples['keypoint_scores'], samples['oks'],
                             skeleton, epochs, lr, batch_size, seed)
    scores = rescored(net, samples, skeleton, device)
    logger.info('Spearman correlation with the OKS on the training poses: '
                f'scores {spearmanr(samples["scores"], samples["oks"])[0]:.4f}'
                f', rescored {spearmanr(scores, samples["oks"])[0]:.4f}')

    meta = dict(
        in_channels=in_channels,
        norm_indexes=list(norm_indexes),
        skeleton_links=[list(link) for link in skeleton],
        dataset_name=dataset_meta.get('dataset_name'),
        config=config,
        checkpoint=checkpoint,
        num_poses=len(samples['oks']),
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        losses=losses)
    save_rescore_net(net, meta, out, logger)
    if model_out:
        write_model_checkpoint(checkpoint, net, model_out)
        logger.info(f'saved {model_out}: {checkpoint} with this '
                    'net as head.rescore_net')
    return net
