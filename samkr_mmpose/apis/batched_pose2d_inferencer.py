# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""MMPose's 2D pose inferencer with batches of images."""
from typing import Iterable, Iterator, List, Tuple

from mmpose.apis.inferencers import Pose2DInferencer
from mmpose.apis.inferencers.pose2d_inferencer import InputType
from ..engine import harden_model, harden_pipeline


class BatchedPose2DInferencer(Pose2DInferencer):
    """MMPose's 2D pose inferencer, predicting ``batch_size`` images per
    forward pass.

    MMPose's inferencers take ``batch_size`` but collate one image at a
    time. Bottom-up models whose head predicts batches of images of any
    sizes (SAMKR's :class:`BatchedBottomupPoseEstimator`) get the whole
    batch here. Images are loaded by :class:`LoadAnyImage`, which converts
    grayscale, BGRA and 16-bit arrays and refuses what would give wrong
    poses silently (e.g. float images in [0, 1]). Everything else
    (visualisation, JSON, videos, webcam) is MMPose's. The arguments are
    those of :class:`Pose2DInferencer`.

    Raises:
        ValueError: If the model is not bottom-up.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.cfg.data_mode != 'bottomup':
            raise ValueError(f'batched inference needs a bottom-up model, '
                             f'got data_mode={self.cfg.data_mode!r}')

    def _init_model(self, cfg, weights, device='cpu'):
        """Build the model as :class:`Pose2DInferencer` does, with
        :class:`BatchedBottomupPoseEstimator` for MMPose's
        ``BottomupPoseEstimator`` (:func:`harden_model`)."""
        if cfg:
            cfg.model = harden_model(cfg.model)
        return super()._init_model(cfg, weights, device)

    def _init_pipeline(self, cfg):
        """MMPose's test pipeline with :class:`LoadAnyImage` for
        ``LoadImage`` (:func:`harden_pipeline`)."""
        dataset = cfg.test_dataloader.dataset
        dataset.pipeline = harden_pipeline(dataset.pipeline)
        return super()._init_pipeline(cfg)

    def preprocess(self,
                   inputs: Iterable[InputType],
                   batch_size: int = 1,
                   **kwargs) -> Iterator[Tuple[dict, List[InputType]]]:
        """Run the test pipeline and collate ``batch_size`` inputs at a
        time.

        Args:
            inputs (Iterable[str | np.ndarray]): Image paths or BGR images
                (video frames).
            batch_size (int): Images per batch. Defaults to 1.
            **kwargs: MMPose's person-box arguments (``bboxes``,
                ``bbox_thr``, ``nms_thr``), which bottom-up models ignore.

        Yields:
            tuple: The collated batch and its inputs.
        """
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        batch: List[dict] = []
        originals: List[InputType] = []
        for index, item in enumerate(inputs):
            batch.extend(self.preprocess_single(item, index=index))
            originals.append(item)
            if len(originals) == batch_size:
                yield self.collate_fn(batch), originals
                batch, originals = [], []
        if originals:
            yield self.collate_fn(batch), originals
