# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Optional, Sequence

import numpy as np

from mmpose.datasets.transforms import PackPoseInputs
from mmpose.datasets.transforms.formatting import image_to_tensor
from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackMultiScalePoseInputs(PackPoseInputs):
    """:class:`PackPoseInputs` that also packs an image pyramid.

    ``BottomupResize(aug_scales=[...])`` replaces ``results['img']`` with a
    list of images of different sizes (the input size first), which
    MMPose 1.3's :class:`PackPoseInputs` cannot stack. Here ``inputs``
    becomes a list of (C, H, W) tensors, one per scale, and
    ``aug_scales`` is always packed into the metainfo. A single image is
    packed as by :class:`PackPoseInputs`. Batch the result with
    :class:`MultiScalePoseDataPreprocessor`.

    Args:
        meta_keys (Sequence[str], optional): Keys packed into the
            metainfo; ``'aug_scales'`` is added. Defaults to ``None``, the
            keys of :class:`PackPoseInputs`.
        pack_transformed (bool): Whether to pack the transformed keypoints.
            Defaults to ``False``.
    """

    def __init__(self,
                 meta_keys: Optional[Sequence[str]] = None,
                 pack_transformed: bool = False) -> None:
        keys = {} if meta_keys is None else dict(meta_keys=tuple(meta_keys))
        super().__init__(pack_transformed=pack_transformed, **keys)
        if 'aug_scales' not in self.meta_keys:
            self.meta_keys = (*self.meta_keys, 'aug_scales')

    def transform(self, results: dict) -> dict:
        """Pack the inputs and the data sample.

        Args:
            results (dict): Result dict from the data pipeline.

        Returns:
            dict: ``inputs`` (a tensor, or a list of tensors per scale) and
            ``data_samples``.
        """
        images = results['img']
        if isinstance(images, np.ndarray):
            return super().transform(results)
        packed = super().transform({**results, 'img': images[0]})
        packed['inputs'] = [image_to_tensor(image) for image in images]
        return packed
