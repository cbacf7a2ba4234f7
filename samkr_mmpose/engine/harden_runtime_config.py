# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import copy
from typing import Union

from mmengine.config import Config
from mmengine.hooks import CheckpointHook
from mmengine.registry import Registry
from mmengine.runner import EpochBasedTrainLoop

from mmpose.datasets import CocoDataset, CrowdPoseDataset
from mmpose.datasets.transforms import LoadImage
from mmpose.models import BottomupPoseEstimator
from mmpose.registry import DATASETS, HOOKS, LOOPS, MODELS, TRANSFORMS
from ..datasets import (CheckedCocoDataset, CheckedCrowdPoseDataset,
                        LoadAnyImage)
from ..models import BatchedBottomupPoseEstimator
from .hooks import (AtomicCheckpointHook, KeypointConsistencyHook,
                    NonFiniteLossHook)
from .resumable_epoch_based_train_loop import ResumableEpochBasedTrainLoop

# (stock class, hardened class) of each dataset the runtime checks
CHECKED_DATASETS = ((CocoDataset, CheckedCocoDataset),
                    (CrowdPoseDataset, CheckedCrowdPoseDataset))
ADDED_HOOKS = (KeypointConsistencyHook, NonFiniteLossHook)


def harden_runtime_config(cfg: Config) -> Config:
    """A copy of a runner config with the hardened runtime's types.

    Swaps MMPose's and mmengine's stock types for their hardened
    subclasses, each in its own function below: the estimator
    (:func:`harden_model`), the training loop (:func:`harden_train_loop`),
    the checkpoint hook (:func:`harden_checkpoint_hook`), the datasets and
    the image loading of validation and testing (:func:`harden_dataloader`),
    and appends :class:`KeypointConsistencyHook` and
    :class:`NonFiniteLossHook` (:func:`harden_custom_hooks`). Everything
    else, the arguments of the swapped types included, stays as it is.

    Args:
        cfg (Config): The runner config, e.g. of a SAMKR config without
            ``configs/_base_/samkr_hardened_runtime.py``.

    Returns:
        Config: The hardened copy.

    Raises:
        ValueError: If a swapped part has a type that is neither the stock
            one nor a subclass of the hardened one.
    """
    cfg = copy.deepcopy(cfg)
    cfg.model = harden_model(cfg.model)
    if cfg.get('train_cfg') is not None:
        cfg.train_cfg = harden_train_loop(cfg.train_cfg)
    if cfg.get('default_hooks', {}).get('checkpoint') is not None:
        cfg.default_hooks.checkpoint = harden_checkpoint_hook(
            cfg.default_hooks.checkpoint)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(name) is not None:
            cfg[name] = harden_dataloader(
                cfg[name], check_images=name != 'train_dataloader')
    cfg.custom_hooks = harden_custom_hooks(cfg.get('custom_hooks') or [])
    return cfg


def harden_model(model: dict) -> dict:
    """``BottomupPoseEstimator`` becomes
    :class:`BatchedBottomupPoseEstimator`.

    Args:
        model (dict): The model config.

    Returns:
        dict: The model config with the batched estimator.
    """
    return _swap_type(model, MODELS, BottomupPoseEstimator,
                      BatchedBottomupPoseEstimator, 'model')


def harden_train_loop(train_cfg: dict) -> dict:
    """mmengine's epoch-based loop (``by_epoch=True`` or
    ``EpochBasedTrainLoop``) becomes :class:`ResumableEpochBasedTrainLoop`.

    Args:
        train_cfg (dict): The ``train_cfg`` of the runner.

    Returns:
        dict: The loop config, with a ``type`` and without ``by_epoch``.
    """
    if 'type' not in train_cfg:
        train_cfg = copy.deepcopy(train_cfg)
        if not train_cfg.pop('by_epoch', False):
            raise ValueError(
                'the hardened runtime resumes epoch-based training only, '
                f'got train_cfg={train_cfg!r} without by_epoch=True')
        train_cfg = dict(type=EpochBasedTrainLoop.__name__, **train_cfg)
    return _swap_type(train_cfg, LOOPS, EpochBasedTrainLoop,
                      ResumableEpochBasedTrainLoop, 'train_cfg')


def harden_checkpoint_hook(hook: dict) -> dict:
    """``CheckpointHook`` becomes :class:`AtomicCheckpointHook`.

    Args:
        hook (dict): The ``default_hooks.checkpoint`` config.

    Returns:
        dict: The hook config.
    """
    return _swap_type(hook, HOOKS, CheckpointHook, AtomicCheckpointHook,
                      'default_hooks.checkpoint')


def harden_dataloader(dataloader: dict, check_images: bool) -> dict:
    """MMPose's COCO and CrowdPose datasets become
    :class:`CheckedCocoDataset` and :class:`CheckedCrowdPoseDataset`;
    with ``check_images``, ``LoadImage`` becomes :class:`LoadAnyImage`.

    Args:
        dataloader (dict): A dataloader config.
        check_images (bool): Whether to load images with
            :class:`LoadAnyImage` (validation and testing, where image
            arrays are inferred).

    Returns:
        dict: The dataloader config.
    """
    dataloader = copy.deepcopy(dataloader)
    dataset = dataloader['dataset']
    dataset_cls = _get(DATASETS, dataset['type'], 'dataset')
    for stock, hardened in CHECKED_DATASETS:
        if dataset_cls is stock or issubclass(dataset_cls, hardened):
            dataloader['dataset'] = _swap_type(dataset, DATASETS, stock,
                                               hardened, 'dataset')
            break
    else:
        raise ValueError(
            'the hardened runtime checks COCO and CrowdPose datasets, got '
            f'dataset type {dataset["type"]!r}')
    if check_images:
        dataset = dataloader['dataset']
        dataset['pipeline'] = harden_pipeline(dataset['pipeline'])
    return dataloader


def harden_pipeline(pipeline: list) -> list:
    """``LoadImage`` becomes :class:`LoadAnyImage`.

    Args:
        pipeline (list): The transform configs.

    Returns:
        list: A copy of the transform configs.
    """
    loading = [
        i for i, t in enumerate(pipeline)
        if issubclass(_get(TRANSFORMS, t['type'], 'transform'), LoadImage)
    ]
    if not loading:
        raise ValueError('the hardened runtime loads images with '
                         f'LoadAnyImage, got no LoadImage in {pipeline}')
    pipeline = list(pipeline)
    for i in loading:
        pipeline[i] = _swap_type(pipeline[i], TRANSFORMS, LoadImage,
                                 LoadAnyImage, 'pipeline')
    return pipeline


def harden_custom_hooks(custom_hooks: list) -> list:
    """Append :class:`KeypointConsistencyHook` and
    :class:`NonFiniteLossHook` where not already listed.

    Args:
        custom_hooks (list): The ``custom_hooks`` configs.

    Returns:
        list: The hook configs.
    """
    listed = [_get(HOOKS, hook['type'], 'hook') for hook in custom_hooks]
    return list(custom_hooks) + [
        dict(type=hook.__name__) for hook in ADDED_HOOKS
        if not any(issubclass(cls, hook) for cls in listed)
    ]


def _swap_type(cfg: dict, registry: Registry, stock: type, hardened: type,
               key: str) -> dict:
    """A copy of ``cfg`` whose ``type`` ``stock`` becomes ``hardened``;
    subclasses of ``hardened`` stay."""
    cls = _get(registry, cfg['type'], key)
    if isinstance(cls, type) and issubclass(cls, hardened):
        return cfg
    if cls is not stock:
        raise ValueError(
            f'the hardened runtime replaces {stock.__name__} by '
            f'{hardened.__name__} in {key}, got type {cfg["type"]!r}')
    swapped = copy.deepcopy(cfg)
    swapped['type'] = hardened.__name__
    return swapped


def _get(registry: Registry, name: Union[str, type], key: str) -> type:
    """The class registered as ``name`` (a name or a class)."""
    cls = registry.get(name) if isinstance(name, str) else name
    if cls is None:
        raise ValueError(f'{key} type {name!r} is not in the {registry.name} '
                         'registry')
    return cls
