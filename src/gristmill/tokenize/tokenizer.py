"""Byte-level BPE tokenizers (Hugging Face ``tokenizers``): train on a sample of documents, or load any
``tokenizer.json``. Byte-level BPE is lossless: ``decode(encode(text)) == text`` for every Unicode text, which is
what lets packed shards round-trip and bits-per-byte compare tokenizers.

>>> tok = train_tokenizer(["hello world", "你好，世界", "hello 世界"] * 50, vocab_size=300)
>>> ids = tok.encode("hello 你好").ids
>>> tok.decode(ids), tok.token_to_id(EOS)
('hello 你好', 0)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable

from gristmill.errors import GristmillError

EOS = "<|endoftext|>"
PAD = "<|pad|>"


def _require():
    try:
        import tokenizers
    except ImportError:  # pragma: no cover - tokenizers is a core dependency
        raise GristmillError("the tokenizers package is missing", hint="pip install tokenizers") from None
    return tokenizers


def train_tokenizer(texts: Iterable[str], vocab_size: int = 16000, min_frequency: int = 2):
    """Train a byte-level BPE (GPT-2 style pre-tokenisation, no normaliser) with ``<|endoftext|>`` as id 0
    (end of document, also the beginning-of-sequence token, as in GPT-2) and ``<|pad|>`` as id 1 (padding
    distinct from EOS, so collators that mask padding in the labels still teach the model to stop)."""
    tk = _require()
    from tokenizers import decoders, models, pre_tokenizers, trainers

    tok = tk.Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[EOS, PAD],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def sample_texts(sources: list[tuple[list[str], str, str]], k: int) -> list[str]:
    """Up to ``k`` texts from ``(paths, text_field, id_field)`` sources, a uniform sample chosen by id hash (the
    same documents whatever the file order); a file named by several sources is read once."""
    from gristmill.io.paths import plan_shards
    from gristmill.io.readers import ReadOptions, read_shard
    from gristmill.sampling import ThresholdSample, id_hash

    sample, seen = ThresholdSample(k), set()
    for paths, text_field, id_field in sources:
        opts = ReadOptions(text_field=text_field, id_field=id_field)
        for sh in plan_shards(paths, "auto", 1 << 40):
            if sh.path in seen:
                continue
            seen.add(sh.path)
            for rb in read_shard(sh, opts):
                if rb.table is None or rb.table.num_rows == 0:
                    continue
                hs = id_hash(rb.table.column("id").to_pylist())
                for h, t in zip(hs.tolist(), rb.table.column("text").to_pylist(), strict=True):
                    sample.offer(h, t)
    texts = [t for _, t in sorted(sample.to_dict()["items"])]
    if not texts:
        raise GristmillError("no text to train the tokenizer on", hint="check the input paths and text field")
    return texts


def tokenizer_file(path: str) -> str:
    """The ``tokenizer.json`` that ``path`` names: the file itself, or the one inside a folder."""
    return os.path.join(path, "tokenizer.json") if os.path.isdir(path) else path


def load_tokenizer(path: str):
    """A ``tokenizer.json``, or a folder holding one (from ``gristmill tokenizer train`` or any Hugging Face
    model folder)."""
    tk = _require()
    path = tokenizer_file(path)
    if not os.path.exists(path):
        raise GristmillError(f"no tokenizer at {path}", hint="gristmill tokenizer train -i DATA -o tokenizer/")
    try:
        return tk.Tokenizer.from_file(path)
    except Exception as e:  # the Rust error is a plain Exception
        raise GristmillError(f"{path} is not a tokenizer.json: {e}") from None


def eos_id(tok) -> int:
    """The id of the end-of-document token: ``<|endoftext|>``, ``</s>`` or ``<eos>``."""
    for t in (EOS, "</s>", "<eos>", "<|end_of_text|>"):
        i = tok.token_to_id(t)
        if i is not None:
            return i
    raise GristmillError("the tokenizer has no end-of-document token (<|endoftext|>, </s>, <eos>)",
                         hint="train one with gristmill tokenizer train")


def token_dtype(tok):
    """The narrowest integer type that holds every id of ``tok``: uint16 when the largest id is below 65,536,
    else int32 (the type Megatron's tools use above uint16; numpy and torch index with it directly).

    >>> token_dtype(train_tokenizer(["a b"] * 5, vocab_size=300)).name
    'uint16'
    """
    import numpy as np

    ids = tok.get_vocab(with_added_tokens=True).values()
    top = max(ids, default=0)
    if top < 1 << 16:
        return np.dtype(np.uint16)
    if top < 1 << 31:
        return np.dtype(np.int32)
    raise GristmillError(f"token id {top:,} does not fit a 32-bit signed integer")


def fingerprint(tok) -> str:
    """A short hash of the tokenizer's JSON, recorded in shard metadata."""
    return hashlib.sha256(tok.to_str().encode()).hexdigest()[:16]


def encode_lengths(tok, texts: list[str]) -> list[int]:
    """Token counts of texts (batched, multi-threaded in Rust)."""
    return [len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False)]
