# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Replace an attribute for the duration of a block."""
import contextlib
from typing import Any


@contextlib.contextmanager
def patched(owner: Any, attr: str, value: Any):
    """Set ``owner.attr`` to ``value`` while the block runs, and
    restore it however the block ends: the original is set back where
    ``owner`` had its own, else the attribute is deleted again (an
    instance or class then reads the inherited one).

    Args:
        owner: A module, class or instance.
        attr (str): The attribute's name.
        value: What it is while the block runs.

    Yields:
        The original attribute.
    """
    original = getattr(owner, attr)
    own = attr in vars(owner)
    setattr(owner, attr, value)
    try:
        yield original
    finally:
        if own:
            setattr(owner, attr, original)
        else:
            delattr(owner, attr)
