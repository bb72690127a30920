"""The package's version and the versions of the libraries that decide its outputs (recorded in manifests).

>>> v = versions()
>>> v["gristmill"] == __version__ and "python" in v
True
"""

from __future__ import annotations

import contextlib
import platform

__version__ = "0.1.0"

PACKAGES = ("pyarrow", "numpy", "orjson", "ftfy", "fasttext-numpy2", "regex", "xxhash", "OpenCC", "fsspec")


def versions() -> dict:
    """gristmill, Python and each installed package of :data:`PACKAGES`, name -> version."""
    from importlib import metadata  # here: importing it costs every process ~0.03 CPU s (email, zipfile ...)

    out = {"gristmill": __version__, "python": platform.python_version()}
    for p in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[p] = metadata.version(p)
    return out
