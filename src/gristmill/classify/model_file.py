"""One model file format for the numpy classifiers: named arrays plus a JSON ``meta`` (with a ``format``
name) in one ``.npz``, written byte-identically for the same model (fixed zip dates, no pickles).

>>> import os, tempfile
>>> p = os.path.join(tempfile.mkdtemp(), "m.npz")
>>> save_arrays(p, {"w": np.arange(3.0)}, {"format": "demo-1", "lang": "en"})
>>> z, meta = load_arrays(p, "demo-1", "demo model")
>>> z["w"].tolist(), meta["lang"]
([0.0, 1.0, 2.0], 'en')
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np

from gristmill.errors import GristmillError


def save_arrays(path: str, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write ``arrays`` and ``meta`` to ``path`` (deflated; the same bytes for the same content)."""
    arrays = arrays | {"meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode(), np.uint8)}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, a in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(a), allow_pickle=False)
            z.writestr(zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0)), buf.getvalue(),
                       compress_type=zipfile.ZIP_DEFLATED)


def load_arrays(path: str, fmt: str, what: str):
    """(the arrays, meta) of a file written by :func:`save_arrays` with format ``fmt``; one clear error naming
    ``what`` it should have been otherwise."""
    try:
        z = np.load(path)
        meta = json.loads(z["meta"].tobytes().decode())
    except (OSError, ValueError, KeyError) as e:
        raise GristmillError(f"not a gristmill {what}: {path} ({e})") from None
    if meta.get("format") != fmt:
        raise GristmillError(f"unknown model format {meta.get('format')!r} in {path}")
    return z, meta
