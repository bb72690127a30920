"""Megatron-LM's indexed-dataset index (``.idx``, ``MMIDIDX`` version 1), as megatron-core's
``megatron.core.datasets.indexed_dataset`` writes and reads it: header, version, dtype code, sequence and
document counts, int32 sequence lengths, int64 byte pointers into the ``.bin``, int64 document indices.
gristmill writes one sequence per document (each followed by EOS), as Megatron's ``preprocess_data.py
--append-eod`` does.

The dtype codes are Megatron's ``DType`` enum (uint8 1, int8 2, int16 3, int32 4, int64 5, float64 6,
float32 7, uint16 8); there is no unsigned 32-bit code, so token ids that do not fit uint16 are stored as int32.

>>> import tempfile, os, numpy as np
>>> p = os.path.join(tempfile.mkdtemp(), "part.idx")
>>> write_megatron_index(p, np.array([3, 5]), np.dtype(np.int32))
>>> dtype, lengths, pointers, docs = read_megatron_index(p)
>>> dtype, lengths.tolist(), pointers.tolist(), docs.tolist()
(dtype('int32'), [3, 5], [0, 12], [0, 1, 2])
"""

from __future__ import annotations

import struct

import numpy as np

from gristmill.errors import GristmillError

MEGATRON_HEADER = b"MMIDIDX\x00\x00"
MEGATRON_DTYPES = {np.dtype(np.uint8): 1, np.dtype(np.int8): 2, np.dtype(np.int16): 3, np.dtype(np.int32): 4,
                   np.dtype(np.int64): 5, np.dtype(np.float64): 6, np.dtype(np.float32): 7, np.dtype(np.uint16): 8}


def write_megatron_index(path: str, lengths: np.ndarray, dtype: np.dtype) -> None:
    """Write the ``.idx`` of a ``.bin`` holding ``lengths`` tokens per document, one sequence per document."""
    dtype = np.dtype(dtype)
    if dtype not in MEGATRON_DTYPES:
        raise GristmillError(f"Megatron's indexed dataset has no code for {dtype}",
                             hint="token ids are stored as uint16 or int32")
    lengths = np.asarray(lengths, dtype=np.int64)
    if len(lengths) and int(lengths.max()) > np.iinfo(np.int32).max:
        raise GristmillError("a document is longer than Megatron's int32 sequence length allows")
    pointers = np.zeros(len(lengths), dtype=np.int64)
    if len(lengths) > 1:
        pointers[1:] = np.cumsum(lengths[:-1]) * dtype.itemsize
    docs = np.arange(len(lengths) + 1, dtype=np.int64)
    with open(path, "wb") as f:
        f.write(MEGATRON_HEADER)
        f.write(struct.pack("<Q", 1))
        f.write(struct.pack("<B", MEGATRON_DTYPES[dtype]))
        f.write(struct.pack("<Q", len(lengths)))
        f.write(struct.pack("<Q", len(docs)))
        f.write(lengths.astype(np.int32).tobytes(order="C"))
        f.write(pointers.tobytes(order="C"))
        f.write(docs.tobytes(order="C"))


def read_megatron_index(path: str) -> tuple[np.dtype, np.ndarray, np.ndarray, np.ndarray]:
    """(dtype, sequence lengths, byte pointers, document indices) of a Megatron ``.idx`` file."""
    codes = {v: k for k, v in MEGATRON_DTYPES.items()}
    with open(path, "rb") as f:
        if f.read(9) != MEGATRON_HEADER:
            raise GristmillError(f"{path} is not a Megatron MMIDIDX index")
        (version,) = struct.unpack("<Q", f.read(8))
        if version != 1:
            raise GristmillError(f"{path}: Megatron index version {version} is not supported")
        (code,) = struct.unpack("<B", f.read(1))
        if code not in codes:
            raise GristmillError(f"{path}: unknown Megatron dtype code {code}")
        (n_seq,) = struct.unpack("<Q", f.read(8))
        (n_doc,) = struct.unpack("<Q", f.read(8))
        lengths = np.frombuffer(f.read(4 * n_seq), dtype=np.int32)
        pointers = np.frombuffer(f.read(8 * n_seq), dtype=np.int64)
        docs = np.frombuffer(f.read(8 * n_doc), dtype=np.int64)
    if len(lengths) != n_seq or len(docs) != n_doc:
        raise GristmillError(f"{path} is truncated ({n_seq:,} sequences announced)")
    return codes[code], lengths, pointers, docs
