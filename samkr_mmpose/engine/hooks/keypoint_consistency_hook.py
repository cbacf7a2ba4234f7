# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch.utils.data import DataLoader

from mmpose.registry import HOOKS
from samkr_mmpose.utils.check_keypoint_consistency import \
    check_keypoint_consistency


@HOOKS.register_module()
class KeypointConsistencyHook(Hook):
    """Check that the datasets and the model's head agree on the keypoints
    before training, validation and testing start.

    Runs :func:`check_keypoint_consistency` on the head with the metainfo
    of each dataset used (training and validation before training) and,
    for the training dataset, the codec of its ``GenerateTarget``. A
    mismatch raises a ``ValueError`` naming the numbers before the first
    iteration, instead of a failure at some later batch or silently wrong
    poses.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        """Check the training and validation datasets.

        Args:
            runner (Runner): The runner of the training process.
        """
        self._check(runner, runner.train_dataloader)
        if runner.val_loop is not None:
            self._check(runner, runner.val_dataloader)

    def before_val(self, runner) -> None:
        """Check the validation dataset.

        Args:
            runner (Runner): The runner of the validation process.
        """
        self._check(runner, runner.val_dataloader)

    def before_test(self, runner) -> None:
        """Check the test dataset.

        Args:
            runner (Runner): The runner of the test process.
        """
        self._check(runner, runner.test_dataloader)

    @staticmethod
    def _check(runner, dataloader: DataLoader) -> None:
        """Check one dataset against the head.

        Args:
            runner (Runner): The runner.
            dataloader (DataLoader): The dataloader of the dataset.
        """
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        dataset = dataloader.dataset
        pipeline = getattr(dataset, 'pipeline', None)
        encoders = [
            t.encoder for t in getattr(pipeline, 'transforms', [])
            if hasattr(t, 'encoder')
        ]
        check_keypoint_consistency(model.head, dataset.metainfo,
                                   encoders[0] if encoders else None)
