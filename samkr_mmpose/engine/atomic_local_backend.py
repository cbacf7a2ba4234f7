# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import os
import os.path as osp
import re
import uuid
from pathlib import Path
from typing import List, Union

import mmengine
from mmengine.fileio import LocalBackend, register_backend

# a file being written: hidden, beside its final name, with a random tag
TEMP_NAME = re.compile(r'\..+\.[0-9a-f]{8}\.tmp')


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose writes are atomic.

    :class:`LocalBackend` opens the final path with ``'wb'``, which first
    empties an existing file: a process killed while writing leaves a
    truncated file under that name, and it replaced a good one. Here the
    bytes go to a hidden temporary file in the same directory, are flushed
    to the disk (``fsync``), and ``os.replace`` renames it onto the final
    name, which POSIX makes atomic within one file system. A
    reader, or a run resumed after a crash, finds the previous file or the
    complete new one, never a part. The directory is synced too, so that
    the rename survives a power loss.

    Registered as the file backend ``'atomic_local'``: pass
    ``backend_args=dict(backend='atomic_local')`` where mmengine takes
    ``backend_args``.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes to ``filepath`` atomically, creating its directory.

        Args:
            obj (bytes): Data to be written.
            filepath (str or Path): Path to write data.
        """
        filepath = str(filepath)
        directory = osp.dirname(osp.abspath(filepath))
        mmengine.mkdir_or_exist(directory)
        temp_path = osp.join(
            directory, f'.{osp.basename(filepath)}.{uuid.uuid4().hex[:8]}.tmp')
        # unlike tempfile.mkstemp's 0o600, the umask decides the mode, as
        # for the files LocalBackend writes
        fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp_path, filepath)
        except BaseException:
            if osp.exists(temp_path):
                os.remove(temp_path)
            raise
        _sync_directory(directory)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically, creating its directory.

        Args:
            obj (str): Data to be written.
            filepath (str or Path): Path to write data.
            encoding (str): The encoding format used to encode the ``obj``.
                Defaults to 'utf-8'.
        """
        self.put(obj.encode(encoding), filepath)

    def remove_temp_files(self, directory: Union[str, Path]) -> List[str]:
        """Delete the temporary files that writes killed midway left.

        Args:
            directory (str or Path): The directory written to.

        Returns:
            List[str]: The paths deleted.
        """
        removed = []
        for name in sorted(os.listdir(directory)):
            if TEMP_NAME.fullmatch(name):
                path = osp.join(directory, name)
                os.remove(path)
                removed.append(path)
        return removed


def _sync_directory(directory: str) -> None:
    """Flush a directory's entries, such as a rename, to the disk.

    Args:
        directory (str): The directory.
    """
    # Windows cannot open a directory; its renames are durable already
    if os.name == 'nt':
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


register_backend('atomic_local', AtomicLocalBackend)
