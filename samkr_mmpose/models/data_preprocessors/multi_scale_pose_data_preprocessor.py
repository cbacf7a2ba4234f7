# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from torch import Tensor

from mmpose.models.data_preprocessors import PoseDataPreprocessor
from mmpose.registry import MODELS


@MODELS.register_module()
class MultiScalePoseDataPreprocessor(PoseDataPreprocessor):
    """:class:`PoseDataPreprocessor` that also batches image pyramids.

    With samples packed by :class:`PackMultiScalePoseInputs` from
    ``BottomupResize(aug_scales=[...])``, every sample's input is a list of
    images, one per scale, which the collate function turns into a list
    with the images (or the stacked batch) of every scale. Each scale is
    normalised and batched as by :class:`PoseDataPreprocessor`, and
    ``inputs`` becomes the list of (B, C, H, W) batches, input size first,
    that :meth:`BottomupPoseEstimator.predict` takes with
    ``multiscale_test``. The metainfo (``batch_input_shape``,
    ``pad_shape``) is that of the first scale. Other inputs are processed
    as by :class:`PoseDataPreprocessor`; the arguments are the same.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        """Normalise, pad and batch the inputs of every scale.

        Args:
            data (dict): Data sampled from the dataloader.
            training (bool): Whether to apply training-time augmentation.

        Returns:
            dict: ``inputs`` (a tensor, or a list of tensors per scale) and
            ``data_samples``.
        """
        inputs = data['inputs']
        # one image per sample: (C, H, W) tensors or a (B, C, H, W) batch
        if not isinstance(inputs, list) or any(
                isinstance(x, Tensor) and x.dim() == 3 for x in inputs):
            return super().forward(data, training)
        batches = [None] * len(inputs)
        # the first scale last: its shapes stay in the metainfo
        for scale in [*range(1, len(inputs)), 0]:
            batch = inputs[scale]
            if not isinstance(batch, Tensor):
                batch = list(batch)
            out = super().forward(dict(data, inputs=batch), training)
            batches[scale] = out['inputs']
        return dict(inputs=batches, data_samples=out['data_samples'])
