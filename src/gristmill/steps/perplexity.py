"""``perplexity``: score documents with a proxy LM trained by ``gristmill train`` (bits per byte, lower = more
like the model's training data), as a signal for selection in the CCNet / perplexity-pruning style:
train the model on reference text (e.g. Wikipedia-like or curated data), then keep documents with
``ppl_bpb <= X`` (or the middle percentiles) with a ``filter`` step; ``gristmill calibrate`` shows the cut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from gristmill.params import param
from gristmill.steps.base import Result, Step, register, text_column, with_column


@dataclass
class PerplexityParams:
    model: str = param(doc="folder written by gristmill train (model.pt, config.json, tokenizer.json)")
    column: str = param("ppl_bpb", "name of the score column (bits per UTF-8 byte)")
    max_chars: int = param(2000, "score at most this many characters from the start of each document", min=1)
    batch_size: int = param(32, "windows per forward pass", min=1)
    threads: int = param(1, "PyTorch threads per worker process (workers already use every core)", min=1)


@register
class Perplexity(Step):
    """Bits per byte of each document under a trained proxy LM (a signal for perplexity-based selection)."""

    name = "perplexity"
    path_params = ("model",)
    Params = PerplexityParams
    requires = {"torch": "train"}
    outputs = ("ppl_bpb",)

    def columns(self) -> list[str]:
        return [self.params.column]

    def setup(self) -> None:
        import torch

        from gristmill.tokenize.tokenizer import eos_id
        from gristmill.train.trainer import load_model

        torch.set_num_threads(self.params.threads)
        self.model, self.tok = load_model(self.params.model)
        self.eos = eos_id(self.tok)

    def process(self, table: pa.Table) -> Result:
        import torch

        p: PerplexityParams = self.params
        if not hasattr(self, "model"):
            self.setup()
        seq = self.model.config.seq_len
        texts = [t[:p.max_chars] for t in text_column(table)]
        enc = self.tok.encode_batch(texts, add_special_tokens=False)
        windows, owner = [], []
        nbytes = np.array([len(t.encode("utf-8")) for t in texts], dtype=np.float64)
        for i, e in enumerate(enc):
            ids = [self.eos] + e.ids
            for s in range(0, len(ids) - 1, seq):
                windows.append(ids[s:s + seq + 1])
                owner.append(i)
        nll = np.zeros(len(texts))
        with torch.no_grad():
            order = sorted(range(len(windows)), key=lambda k: len(windows[k]))
            for a in range(0, len(order), p.batch_size):
                group = [order[k] for k in range(a, min(a + p.batch_size, len(order)))]
                n = max(len(windows[g]) for g in group)
                x = torch.full((len(group), n), self.eos, dtype=torch.long)
                mask = torch.zeros((len(group), n - 1))
                for r, g in enumerate(group):
                    w = windows[g]
                    x[r, :len(w)] = torch.tensor(w)
                    mask[r, :len(w) - 1] = 1
                logits, _ = self.model(x[:, :-1])
                lp = torch.nn.functional.cross_entropy(logits.transpose(1, 2), x[:, 1:], reduction="none")
                sums = (lp * mask).sum(dim=1).numpy()
                for r, g in enumerate(group):
                    nll[owner[g]] += sums[r]
        bpb = np.where(nbytes > 0, nll / math.log(2) / np.maximum(nbytes, 1), np.nan)
        return Result(with_column(table, p.column, pa.array(np.round(bpb, 5), mask=np.isnan(bpb))))
