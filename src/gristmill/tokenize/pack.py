"""``gristmill tokenize``: documents to training-ready token shards.

Pass 1 tokenises every document (batched, multi-threaded) into a temporary uint32 stream and records each
document's offset, length, group and ``mix_repeats`` (from the ``mix`` step; 1 when absent). Pass 2 writes the
documents, each repeated as many times as asked and followed by EOS, in an order shuffled by a seed (the
same order whatever the input sharding), into shards of at most ``shard_tokens`` tokens:

- ``numpy`` (default): ``part-NNNNN.bin`` (raw tokens, open it with ``numpy.memmap``) and ``part-NNNNN.idx.npy``
  (int64 document boundaries, one more than documents);
- ``megatron``: ``part-NNNNN.bin`` + ``part-NNNNN.idx`` in Megatron-LM's ``MMIDIDX`` indexed-dataset format,
  which megatron-core's ``IndexedDataset`` reads (one sequence per document, EOS included).

Tokens are uint16 when every id of the vocabulary fits (largest id below 65,536), else int32 (as Megatron's
tools do: its index has no unsigned 32-bit type); ``manifest.json`` records the dtype, the tokenizer (its
``tokenizer.json`` and fingerprint), EOS id, seed, document and token counts, and tokens per language and per
source.

The output appears all at once: everything (the pass-1 stream included) is written into a hidden staging
folder next to ``output`` and renamed into place at the end; a failure or Ctrl-C removes it, so a failed run
leaves neither a partial shard nor a temporary folder. An earlier token-shard output at ``output`` is replaced;
any other non-empty folder is refused.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import numpy as np
import orjson
import xxhash

from gristmill.errors import GristmillError
from gristmill.io.paths import plan_shards
from gristmill.io.readers import ReadOptions, read_shard
from gristmill.record import meta_column
from gristmill.tokenize.megatron import MEGATRON_HEADER, read_megatron_index, write_megatron_index
from gristmill.tokenize.staging import staged_folder
from gristmill.tokenize.tokenizer import eos_id, fingerprint, load_tokenizer, token_dtype, tokenizer_file

__all__ = ["MEGATRON_HEADER", "is_token_shards", "pack", "read_megatron_index", "write_megatron_index"]


def _field(table, name: str) -> list:
    if name in table.column_names:
        return table.column(name).to_pylist()
    try:
        return meta_column(table, name).to_pylist()
    except (KeyError, Exception):
        return [None] * table.num_rows


def is_token_shards(path: str) -> bool:
    """Whether ``path`` holds an earlier ``gristmill tokenize`` output (its manifest names format and shards)."""
    try:
        with open(os.path.join(path, "manifest.json"), "rb") as f:
            m = orjson.loads(f.read())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(m, dict) and m.get("format") in ("numpy", "megatron") and "tokenizer_fingerprint" in m


class _Documents:
    """Pass 1's record of every document: offset and length in the token stream, repeats, id and groups."""

    def __init__(self, groups: tuple[str, ...]) -> None:
        self.groups = groups
        self.offsets: list[int] = []
        self.lengths: list[int] = []
        self.reps: list[int] = []
        self.ids: list = []
        self.gidx: dict[str, list[int]] = {g: [] for g in groups}
        self.names: dict[str, dict[str, int]] = {g: {} for g in groups}
        self.n_in = self.excluded = self.quarantined = self.tokens = 0


def _tokenize(shards, opts: ReadOptions, tok, stream_path: str, docs: _Documents,
              exclude_hashes: set[int] | None) -> None:
    """Pass 1: every document's tokens, appended to a raw uint32 stream."""
    with open(stream_path, "wb") as stream:
        for sh in shards:
            for rb in read_shard(sh, opts):
                docs.quarantined += len(rb.quarantine)
                t = rb.table
                if t is None or t.num_rows == 0:
                    continue
                texts = t.column("text").to_pylist()
                ids = t.column("id").to_pylist()
                rep = _field(t, "mix_repeats")
                vals = {g: _field(t, g) for g in docs.groups}
                keep = list(range(len(texts)))
                docs.n_in += len(texts)
                if exclude_hashes:
                    keep = [i for i in keep if xxhash.xxh3_64_intdigest(" ".join(texts[i].split()).encode())
                            not in exclude_hashes]
                    docs.excluded += len(texts) - len(keep)
                enc = tok.encode_batch([texts[i] for i in keep], add_special_tokens=False)
                for i, e in zip(keep, enc, strict=True):
                    ids_ = np.asarray(e.ids, dtype=np.uint32)
                    stream.write(ids_.tobytes())
                    docs.offsets.append(docs.tokens)
                    docs.lengths.append(len(ids_))
                    docs.tokens += len(ids_)
                    docs.reps.append(1 if rep[i] is None else int(rep[i]))
                    docs.ids.append(ids[i])
                    for g in docs.groups:
                        v = "" if vals[g][i] is None else str(vals[g][i])
                        docs.gidx[g].append(docs.names[g].setdefault(v, len(docs.names[g])))


def _order(docs: _Documents, seed: int) -> np.ndarray:
    """Every copy of every document, ordered by a hash of (id, copy number) with the seed."""
    reps_a = np.array(docs.reps, dtype=np.int64)
    doc_of = np.repeat(np.arange(len(reps_a)), reps_a)
    copy_no = np.concatenate([np.arange(r) for r in reps_a]) if len(reps_a) else np.zeros(0, np.int64)
    keys = np.array([xxhash.xxh3_64_intdigest(f"{docs.ids[d]}#{c}".encode(), seed=seed)
                     for d, c in zip(doc_of.tolist(), copy_no.tolist(), strict=True)], dtype=np.uint64)
    return doc_of[np.argsort(keys, kind="stable")]


def _write_shards(folder: str, stream_path: str, docs: _Documents, order: np.ndarray, *, fmt: str,
                  dtype: np.dtype, eos: int, shard_tokens: int) -> tuple[list[dict], dict[str, Counter]]:
    """Pass 2: the documents in ``order``, each followed by EOS, into shards of at most ``shard_tokens``."""
    offsets_a = np.array(docs.offsets, dtype=np.int64)
    lengths_a = np.array(docs.lengths, dtype=np.int64)
    src = np.memmap(stream_path, dtype=np.uint32, mode="r") if docs.tokens else np.zeros(0, np.uint32)
    parts: list[dict] = []
    by_group = {g: Counter() for g in docs.groups}
    inv = {g: {i: v for v, i in docs.names[g].items()} for g in docs.groups}

    def flush(part: list[int]) -> None:
        if not part:
            return
        base = os.path.join(folder, f"part-{len(parts):05d}")
        lens = lengths_a[part] + 1
        bounds = np.zeros(len(part) + 1, dtype=np.int64)
        bounds[1:] = np.cumsum(lens)
        out = np.memmap(base + ".bin", dtype=dtype, mode="w+", shape=(int(bounds[-1]),))
        for j, d in enumerate(part):
            a, n = int(bounds[j]), int(lengths_a[d])
            out[a:a + n] = src[offsets_a[d]:offsets_a[d] + n]
            out[a + n] = eos
        out.flush()
        del out
        if fmt == "numpy":
            np.save(base + ".idx.npy", bounds)
        else:
            write_megatron_index(base + ".idx", lens, dtype)
        parts.append({"file": os.path.basename(base) + ".bin", "documents": len(part), "tokens": int(bounds[-1])})

    part, part_tokens = [], 0
    for d in order.tolist():
        n = int(lengths_a[d]) + 1
        if part and part_tokens + n > shard_tokens:
            flush(part)
            part, part_tokens = [], 0
        part.append(d)
        part_tokens += n
        for g in docs.groups:
            by_group[g][inv[g][docs.gidx[g][d]]] += n
    flush(part)
    return parts, by_group


def pack(inputs: list[str], tokenizer: str, output: str, *, text_field: str = "text", id_field: str = "id",
         fmt: str = "numpy", seed: int = 0, shard_tokens: int = 1 << 28, groups: tuple[str, ...] = ("lang", "source"),
         batch_docs: int = 2000, exclude_hashes: set[int] | None = None) -> dict:
    """Tokenise ``inputs`` into shards under ``output`` (all or nothing); returns (and writes) the manifest.

    ``tokenizer`` is a ``tokenizer.json`` or a folder holding one. ``exclude_hashes`` holds xxh3-64 hashes of
    whitespace-normalised texts to leave out (held-out sets).
    """
    if fmt not in ("numpy", "megatron"):
        raise GristmillError(f"unknown shard format {fmt!r}", hint="numpy or megatron")
    t0 = time.perf_counter()
    tok = load_tokenizer(tokenizer)
    eos = eos_id(tok)
    dtype = token_dtype(tok)
    shards = plan_shards(inputs, "auto", 1 << 40)
    if not shards:
        raise GristmillError(f"no readable input in {', '.join(inputs)}")
    opts = ReadOptions(text_field=text_field, id_field=id_field, batch_rows=batch_docs)
    docs = _Documents(groups)
    with staged_folder(output, is_token_shards, "token-shard output") as stage:
        stream_path = os.path.join(stage, "stream.u32")
        _tokenize(shards, opts, tok, stream_path, docs, exclude_hashes)
        order = _order(docs, seed)
        parts, by_group = _write_shards(stage, stream_path, docs, order, fmt=fmt, dtype=dtype, eos=eos,
                                        shard_tokens=shard_tokens)
        os.remove(stream_path)
        manifest = {
            "format": fmt, "dtype": dtype.name, "eos_id": eos, "vocab_size": tok.get_vocab_size(with_added_tokens=True),
            "seed": seed, "tokenizer": os.path.abspath(tokenizer_file(tokenizer)),
            "tokenizer_fingerprint": fingerprint(tok), "inputs": [s.path for s in shards],
            "documents_in": docs.n_in, "documents_excluded": docs.excluded, "quarantined": docs.quarantined,
            "documents_out": int(len(order)), "tokens": sum(p["tokens"] for p in parts),
            "tokens_by": {g: dict(sorted(c.items(), key=lambda kv: -kv[1])) for g, c in by_group.items()
                          if set(c) != {""}},
            "shards": parts, "seconds": round(time.perf_counter() - t0, 3),
        }
        with open(os.path.join(stage, "manifest.json"), "wb") as f:
            f.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest
