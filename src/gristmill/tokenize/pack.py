"""``gristmill tokenize``: documents to training-ready token shards.

Pass 1 tokenises every document (batched, multi-threaded) into a temporary uint32 stream and records each
document's offset, length, group and ``mix_repeats`` (from the ``mix`` step; 1 when absent). Pass 2 writes the
documents, each repeated as many times as asked and followed by EOS, in an order shuffled by a seed (the
same order whatever the input sharding), into shards of at most ``shard_tokens`` tokens:

- ``numpy`` (default): ``part-NNNNN.bin`` (raw uint16 when the vocabulary fits, else uint32; open it with
  ``numpy.memmap``) and ``part-NNNNN.idx.npy`` (int64 document boundaries, one more than documents);
- ``megatron``: ``part-NNNNN.bin`` + ``part-NNNNN.idx`` in Megatron-LM's ``MMIDIDX`` indexed-dataset format.

``manifest.json`` records the tokenizer (path and fingerprint), dtype, EOS id, seed, document and token
counts, and tokens per language and per source.
"""

from __future__ import annotations

import os
import struct
import tempfile
import time
from collections import Counter

import numpy as np
import orjson
import xxhash

from gristmill.errors import GristmillError
from gristmill.io.paths import plan_shards
from gristmill.io.readers import ReadOptions, read_shard
from gristmill.record import meta_column
from gristmill.tokenize.tokenizer import eos_id, fingerprint, load_tokenizer

MEGATRON_HEADER = b"MMIDIDX\x00\x00"
MEGATRON_DTYPES = {np.dtype(np.uint8): 1, np.dtype(np.int8): 2, np.dtype(np.int16): 3, np.dtype(np.int32): 4,
                   np.dtype(np.int64): 5, np.dtype(np.float64): 6, np.dtype(np.float32): 7, np.dtype(np.uint16): 8}


def _field(table, name: str) -> list:
    if name in table.column_names:
        return table.column(name).to_pylist()
    try:
        return meta_column(table, name).to_pylist()
    except (KeyError, Exception):
        return [None] * table.num_rows


def write_megatron_index(path: str, lengths: np.ndarray, dtype: np.dtype) -> None:
    """Megatron-LM ``.idx``: header, version 1, dtype code, counts, int32 sizes, int64 byte pointers and
    int64 document indices (one sequence per document)."""
    lengths = np.asarray(lengths, dtype=np.int32)
    pointers = np.zeros(len(lengths), dtype=np.int64)
    if len(lengths) > 1:
        pointers[1:] = np.cumsum(lengths[:-1].astype(np.int64)) * np.dtype(dtype).itemsize
    docs = np.arange(len(lengths) + 1, dtype=np.int64)
    with open(path, "wb") as f:
        f.write(MEGATRON_HEADER)
        f.write(struct.pack("<Q", 1))
        f.write(struct.pack("<B", MEGATRON_DTYPES[np.dtype(dtype)]))
        f.write(struct.pack("<Q", len(lengths)))
        f.write(struct.pack("<Q", len(docs)))
        f.write(lengths.tobytes(order="C"))
        f.write(pointers.tobytes(order="C"))
        f.write(docs.tobytes(order="C"))


def read_megatron_index(path: str) -> tuple[np.dtype, np.ndarray, np.ndarray, np.ndarray]:
    """(dtype, sequence lengths, byte pointers, document indices) of a Megatron ``.idx`` file."""
    with open(path, "rb") as f:
        if f.read(9) != MEGATRON_HEADER:
            raise GristmillError(f"{path} is not a Megatron MMIDIDX index")
        (version,) = struct.unpack("<Q", f.read(8))
        (code,) = struct.unpack("<B", f.read(1))
        (n_seq,) = struct.unpack("<Q", f.read(8))
        (n_doc,) = struct.unpack("<Q", f.read(8))
        dtype = {v: k for k, v in MEGATRON_DTYPES.items()}[code]
        lengths = np.frombuffer(f.read(4 * n_seq), dtype=np.int32)
        pointers = np.frombuffer(f.read(8 * n_seq), dtype=np.int64)
        docs = np.frombuffer(f.read(8 * n_doc), dtype=np.int64)
    if version != 1:
        raise GristmillError(f"{path}: Megatron index version {version} is not supported")
    return dtype, lengths, pointers, docs


def pack(inputs: list[str], tokenizer: str, output: str, *, text_field: str = "text", id_field: str = "id",
         fmt: str = "numpy", seed: int = 0, shard_tokens: int = 1 << 28, groups: tuple[str, ...] = ("lang", "source"),
         batch_docs: int = 2000, exclude_hashes: set[int] | None = None) -> dict:
    """Tokenise ``inputs`` into shards under ``output``; returns (and writes) the manifest.

    ``exclude_hashes`` holds xxh3-64 hashes of whitespace-normalised texts to leave out (held-out sets).
    """
    if fmt not in ("numpy", "megatron"):
        raise GristmillError(f"unknown shard format {fmt!r}", hint="numpy or megatron")
    t0 = time.perf_counter()
    tok = load_tokenizer(tokenizer)
    eos = eos_id(tok)
    vocab = tok.get_vocab_size(with_added_tokens=True)
    dtype = np.dtype(np.uint16) if vocab <= 65536 else np.dtype(np.uint32)
    shards = plan_shards(inputs, "auto", 1 << 40)
    if not shards:
        raise GristmillError(f"no readable input in {', '.join(inputs)}")
    os.makedirs(output, exist_ok=True)
    opts = ReadOptions(text_field=text_field, id_field=id_field, batch_rows=batch_docs)
    tmpdir = tempfile.mkdtemp(prefix="tokenize-", dir=output)
    stream_path = os.path.join(tmpdir, "stream.u32")
    offsets, lengths, reps, keys_src, gidx = [], [], [], [], {g: [] for g in groups}
    names: dict[str, dict[str, int]] = {g: {} for g in groups}
    n_in = excluded = quarantined = 0
    pos = 0
    with open(stream_path, "wb") as stream:
        for sh in shards:
            for rb in read_shard(sh, opts):
                quarantined += len(rb.quarantine)
                t = rb.table
                if t is None or t.num_rows == 0:
                    continue
                texts = t.column("text").to_pylist()
                ids = t.column("id").to_pylist()
                rep = _field(t, "mix_repeats")
                vals = {g: _field(t, g) for g in groups}
                keep = list(range(len(texts)))
                n_in += len(texts)
                if exclude_hashes:
                    keep = [i for i in keep if xxhash.xxh3_64_intdigest(" ".join(texts[i].split()).encode())
                            not in exclude_hashes]
                    excluded += len(texts) - len(keep)
                enc = tok.encode_batch([texts[i] for i in keep], add_special_tokens=False)
                for i, e in zip(keep, enc, strict=True):
                    ids_ = np.asarray(e.ids, dtype=np.uint32)
                    stream.write(ids_.tobytes())
                    offsets.append(pos)
                    lengths.append(len(ids_))
                    pos += len(ids_)
                    reps.append(1 if rep[i] is None else int(rep[i]))
                    keys_src.append(ids[i])
                    for g in groups:
                        v = "" if vals[g][i] is None else str(vals[g][i])
                        gidx[g].append(names[g].setdefault(v, len(names[g])))
    offsets_a = np.array(offsets, dtype=np.int64)
    lengths_a = np.array(lengths, dtype=np.int64)
    reps_a = np.array(reps, dtype=np.int64)
    # the order: every copy of every document, keyed by a hash of (id, copy) with the seed
    doc_of = np.repeat(np.arange(len(lengths_a)), reps_a)
    copy_no = np.concatenate([np.arange(r) for r in reps_a]) if len(reps_a) else np.zeros(0, np.int64)
    keys = np.array([xxhash.xxh3_64_intdigest(f"{keys_src[d]}#{c}".encode(), seed=seed)
                     for d, c in zip(doc_of.tolist(), copy_no.tolist(), strict=True)], dtype=np.uint64)
    order = doc_of[np.argsort(keys, kind="stable")]
    src: np.ndarray = np.memmap(stream_path, dtype=np.uint32, mode="r") if pos else np.zeros(0, np.uint32)
    parts, part_docs, part_tokens = [], [], 0
    written_tokens = 0
    by_group = {g: Counter() for g in groups}
    inv = {g: {i: v for v, i in names[g].items()} for g in groups}

    def flush(idx: int, docs: list[int], src: np.ndarray) -> None:
        nonlocal written_tokens
        if not docs:
            return
        base = os.path.join(output, f"part-{idx:05d}")
        lens = lengths_a[docs] + 1
        bounds = np.zeros(len(docs) + 1, dtype=np.int64)
        bounds[1:] = np.cumsum(lens)
        out = np.memmap(base + ".bin.tmp", dtype=dtype, mode="w+", shape=(int(bounds[-1]),))
        for j, d in enumerate(docs):
            a = int(bounds[j])
            n = int(lengths_a[d])
            out[a:a + n] = src[offsets_a[d]:offsets_a[d] + n]
            out[a + n] = eos
        out.flush()
        del out
        os.replace(base + ".bin.tmp", base + ".bin")
        if fmt == "numpy":
            np.save(base + ".idx.npy", bounds)
        else:
            write_megatron_index(base + ".idx", lens, dtype)
        parts.append({"file": os.path.basename(base) + ".bin", "documents": len(docs), "tokens": int(bounds[-1])})
        written_tokens += int(bounds[-1])

    for d in order.tolist():
        n = int(lengths_a[d]) + 1
        if part_docs and part_tokens + n > shard_tokens:
            flush(len(parts), part_docs, src)
            part_docs, part_tokens = [], 0
        part_docs.append(d)
        part_tokens += n
        for g in groups:
            by_group[g][inv[g][gidx[g][d]]] += n
    flush(len(parts), part_docs, src)
    del src
    os.remove(stream_path)
    os.rmdir(tmpdir)
    manifest = {
        "format": fmt, "dtype": dtype.name, "eos_id": eos, "vocab_size": vocab, "seed": seed,
        "tokenizer": os.path.abspath(tokenizer), "tokenizer_fingerprint": fingerprint(tok),
        "inputs": [s.path for s in shards], "documents_in": n_in, "documents_excluded": excluded,
        "quarantined": quarantined, "documents_out": int(len(order)), "tokens": written_tokens,
        "tokens_by": {g: dict(sorted(c.items(), key=lambda kv: -kv[1])) for g, c in by_group.items()
                      if set(c) != {""}},
        "shards": parts, "seconds": round(time.perf_counter() - t0, 3),
    }
    with open(os.path.join(output, "manifest.json"), "wb") as f:
        f.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest
