"""Read packed token shards: documents back, or random training windows (no copy: numpy memmaps).

>>> import tempfile, json, pathlib
>>> from gristmill.tokenize.tokenizer import train_tokenizer
>>> from gristmill.tokenize.pack import pack
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> train_tokenizer(["one two three", "四五六"] * 20, vocab_size=270).save(str(d / "tok.json"))
>>> _ = (d / "a.jsonl").write_text(json.dumps({"text": "one two"}) + "\\n" + json.dumps({"text": "四五"}) + "\\n")
>>> m = pack([str(d / "a.jsonl")], str(d / "tok.json"), str(d / "shards"))
>>> ts = TokenShards(str(d / "shards"))
>>> sorted(ts.text(i, str(d / "tok.json")) for i in range(len(ts)))
['one two', '四五']
"""

from __future__ import annotations

import os

import numpy as np
import orjson

from gristmill.errors import GristmillError


class TokenShards:
    """The shards of one ``gristmill tokenize`` output (numpy or Megatron format)."""

    def __init__(self, path: str) -> None:
        mpath = os.path.join(path, "manifest.json")
        if not os.path.exists(mpath):
            raise GristmillError(f"{path} holds no token shards (manifest.json missing)",
                                 hint="gristmill tokenize -i DATA -t tokenizer.json -o SHARDS")
        with open(mpath, "rb") as f:
            self.manifest = orjson.loads(f.read())
        self.dtype = np.dtype(self.manifest["dtype"])
        self.eos_id = self.manifest["eos_id"]
        self.tokens, self.bounds = [], []
        for p in self.manifest["shards"]:
            base = os.path.join(path, p["file"][:-4])
            self.tokens.append(np.memmap(base + ".bin", dtype=self.dtype, mode="r"))
            if self.manifest["format"] == "numpy":
                self.bounds.append(np.load(base + ".idx.npy"))
            else:
                from gristmill.tokenize.megatron import read_megatron_index

                _, lengths, _, _ = read_megatron_index(base + ".idx")
                b = np.zeros(len(lengths) + 1, dtype=np.int64)
                b[1:] = np.cumsum(lengths)
                self.bounds.append(b)
        self._doc_start = np.cumsum([0] + [len(b) - 1 for b in self.bounds])
        self.sizes = np.array([len(t) for t in self.tokens], dtype=np.int64)

    def __len__(self) -> int:
        return int(self._doc_start[-1])

    @property
    def num_tokens(self) -> int:
        return int(self.sizes.sum())

    def document(self, i: int) -> np.ndarray:
        """Tokens of document ``i`` in stored (shuffled) order, without its trailing EOS."""
        part = int(np.searchsorted(self._doc_start, i, side="right") - 1)
        j = i - int(self._doc_start[part])
        a, b = int(self.bounds[part][j]), int(self.bounds[part][j + 1])
        return np.asarray(self.tokens[part][a:b - 1])

    def text(self, i: int, tokenizer) -> str:
        if isinstance(tokenizer, str):
            from gristmill.tokenize.tokenizer import load_tokenizer

            tokenizer = load_tokenizer(tokenizer)
        return tokenizer.decode(self.document(i).tolist(), skip_special_tokens=False)

    def batch(self, rng: np.random.Generator, batch_size: int, seq_len: int) -> np.ndarray:
        """``batch_size`` random windows of ``seq_len + 1`` tokens (inputs and shifted targets), int64.

        Shards are chosen in proportion to their size; windows cross document boundaries (EOS separates them),
        as in GPT-style packed pre-training.
        """
        usable = np.maximum(self.sizes - seq_len - 1, 0)
        if usable.sum() <= 0:
            raise GristmillError(f"too few tokens ({self.num_tokens:,}) for windows of {seq_len + 1}")
        parts = rng.choice(len(self.sizes), size=batch_size, p=usable / usable.sum())
        out = np.empty((batch_size, seq_len + 1), dtype=np.int64)
        for k, p in enumerate(parts.tolist()):
            s = int(rng.integers(0, usable[p] + 1))
            out[k] = self.tokens[p][s:s + seq_len + 1]
        return out
