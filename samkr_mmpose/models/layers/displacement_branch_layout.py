# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Optional, Sequence

from mmengine.model import Sequential
from torch import nn


class DisplacementBranchLayout:
    """Where each layer of a DEKR or SAMKR displacement branch sits in the
    head's ``displacement_conv_layers``, whose indices are the state-dict
    keys (``displacement_conv_layers.<i>.``), so that DEKR checkpoints load.

    SAMKR (eq. 1-9): the 1x1 input convolution (eq. 1), the adaptive
    blocks (eq. 2, 7-8), the subspace attention (eq. 3-5, 9) and the
    grouped 1x1 output convolution (eq. 6). DEKR's branch has no attention
    and two adaptive blocks: :data:`DEKR_LAYOUT`.

    Args:
        num_adaptive_blocks (int): Number of adaptive blocks.
        has_attention (bool): Whether a subspace attention follows the
            blocks. Defaults to ``True``.
    """
    name = 'displacement_conv_layers'
    input_conv = 0

    def __init__(self,
                 num_adaptive_blocks: int,
                 has_attention: bool = True) -> None:
        self.num_adaptive_blocks = num_adaptive_blocks
        self.has_attention = has_attention

    @property
    def adaptive_blocks(self) -> range:
        """range: The indices of the adaptive blocks."""
        return range(1, 1 + self.num_adaptive_blocks)

    @property
    def attention(self) -> Optional[int]:
        """int, optional: The index of the subspace attention."""
        return 1 + self.num_adaptive_blocks if self.has_attention else None

    @property
    def output_conv(self) -> int:
        """int: The index of the output convolution."""
        return 1 + self.num_adaptive_blocks + int(self.has_attention)

    def prefix(self, index: Optional[int] = None, head: str = '') -> str:
        """The state-dict key prefix of the branch or of one of its layers.

        Args:
            index (int, optional): The layer; ``None`` for the branch.
            head (str): The prefix of the head's keys, e.g. ``'head.'``.
                Defaults to ``''``.

        Returns:
            str: E.g. ``'head.displacement_conv_layers.0.'``.
        """
        layer = '' if index is None else f'{index}.'
        return f'{head}{self.name}.{layer}'

    def build(self, input_conv: nn.Module,
              adaptive_blocks: Sequence[nn.Module],
              attention: Optional[nn.Module],
              output_conv: nn.Module) -> Sequential:
        """The branch of these layers, in this layout.

        Args:
            input_conv (nn.Module): The input convolution.
            adaptive_blocks (Sequence[nn.Module]): The adaptive blocks.
            attention (nn.Module, optional): The subspace attention, if the
                layout has one.
            output_conv (nn.Module): The output convolution.

        Returns:
            Sequential: The branch.
        """
        if len(adaptive_blocks) != self.num_adaptive_blocks or (
                attention is None) == self.has_attention:
            raise ValueError(
                f'the layout has {self.num_adaptive_blocks} adaptive blocks '
                f'and has_attention={self.has_attention}, got '
                f'{len(adaptive_blocks)} and {type(attention).__name__}')
        attentions = [attention] if self.has_attention else []
        return Sequential(input_conv, *adaptive_blocks, *attentions,
                          output_conv)


#: The displacement branch of MMPose's :class:`DEKRHead`
DEKR_LAYOUT = DisplacementBranchLayout(2, has_attention=False)
