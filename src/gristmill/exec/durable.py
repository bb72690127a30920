"""Moved to :mod:`gristmill.io.durable` (the writers below the executor use it); this path keeps old imports
working and is the same module's functions and settings.

>>> from gristmill.io import durable as moved
>>> replace is moved.replace and POINTS is moved.POINTS
True
"""

from gristmill.io.durable import (
    ENV_FAULT,
    ENV_FSYNC,
    POINTS,
    configure,
    enabled,
    fault,
    replace,
    sync_dir,
    sync_file,
    sync_path,
    sync_tree,
    write_bytes,
)

__all__ = ["ENV_FAULT", "ENV_FSYNC", "POINTS", "configure", "enabled", "fault", "replace", "sync_dir", "sync_file",
           "sync_path", "sync_tree", "write_bytes"]
