# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from mmcv.cnn import ConvModule, build_conv_layer
from mmengine.model import Sequential


class ScaleBranch(Sequential):
    """SWAHR's scale branch: a 1x1 convolution + BN + ReLU to one map per
    keypoint, then a depthwise 9x9 convolution to the scale maps ``s`` that
    :class:`AdaptiveHeatmapLoss` adapts the heatmap targets to.

    The last convolution starts at zero, so that training starts from the
    unadapted targets (``s = 0``).

    Args:
        in_channels (int): Number of input channels.
        num_keypoints (int): Number of keypoints K, i.e. of scale maps.
    """

    def __init__(self, in_channels: int, num_keypoints: int) -> None:
        super().__init__(
            ConvModule(
                in_channels, num_keypoints, 1, norm_cfg=dict(type='BN')),
            build_conv_layer(
                dict(type='Conv2d'),
                num_keypoints,
                num_keypoints,
                kernel_size=9,
                padding=4,
                groups=num_keypoints),
            init_cfg=dict(type='Constant', val=0, override=dict(name='1')))
