"""``mix``: reach target proportions by group (language, source, any field), measured in tokens, bytes or
documents: down-sample the groups that have too much, up-sample (repeat) those that have too little, up to
``max_epochs``. Deterministic for a seed whatever the sharding.

Nothing is duplicated on disk: a kept document carries ``mix_repeats`` (how many times it enters training;
``gristmill tokenize`` honours it) and a document left out is rejected with reason ``downsampled`` (or
``not_in_mix`` for a group without a weight), so the run still reconciles. The manifest's ``global_steps.mix``
records the available, target and achieved amounts and shares of every group.

>>> plan = mix_plan({"en": 900.0, "zh": 100.0}, {"en": 0.5, "zh": 0.5}, total=None, max_epochs=4)
>>> plan["total"], plan["target"]
(800.0, {'en': 400.0, 'zh': 400.0})
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

import numpy as np
import orjson
import pyarrow as pa
import xxhash

from gristmill.errors import GristmillError
from gristmill.params import param
from gristmill.steps.base import Result, Step, register, with_column


@dataclass
class MixParams:
    weights: dict[str, float] = param({}, "target share of each group, e.g. {en: 0.7, zh: 0.3} (normalised to "
                                          "sum to 1); documents of other groups are rejected as not_in_mix")
    by: str = param("lang", "column or input field whose value names a document's group: lang, source, …; "
                            "_file: the input file's name")
    unit: Literal["tokens", "bytes", "docs"] = param("bytes", "what the shares measure (tokens need tokenizer)")
    tokenizer: str | None = param(None, "tokenizer.json used to count tokens (unit: tokens)")
    total: float | None = param(None, "total amount to produce, in the unit; null: the most the weights allow "
                                      "with no group repeated more than max_epochs times")
    max_epochs: float = param(1.0, "the most times a group's data may be repeated (1: down-sampling only)", min=1)
    seed: int = param(0, "which documents are dropped or repeated")


def mix_plan(available: dict[str, float], weights: dict[str, float], *, total: float | None,
             max_epochs: float) -> dict:
    """Targets per group from what is available, the weights and the epoch cap (the total is capped too)."""
    w = {g: float(v) for g, v in weights.items() if v and v > 0}
    s = sum(w.values())
    if s <= 0:
        raise GristmillError("mix: the weights are all zero")
    w = {g: v / s for g, v in w.items()}
    feasible = min((available.get(g, 0.0) * max_epochs / v for g, v in w.items()), default=0.0)
    capped = total is not None and total > feasible
    t = feasible if total is None or capped else float(total)
    return {"total": t, "capped": capped, "weights": w, "target": {g: t * v for g, v in w.items()}}


def _order_key(ids: list[str], seed: int) -> np.ndarray:
    return np.array([xxhash.xxh3_64_intdigest(i.encode(), seed=seed) for i in ids], dtype=np.uint64)


@register
class Mix(Step):
    """Reach target shares by language/source in tokens, bytes or documents (down- and up-sampling)."""

    name = "mix"
    path_params = ("tokenizer",)
    Params = MixParams
    kind = "global"
    reads_input_fields = True
    outputs = ("mix_repeats",)

    def setup(self) -> None:
        self._tok = None
        if self.params.unit == "tokens":
            from gristmill.tokenize.tokenizer import load_tokenizer

            if not self.params.tokenizer:
                raise GristmillError("mix: unit tokens needs a tokenizer", hint="set tokenizer: tokenizer.json")
            self._tok = load_tokenizer(self.params.tokenizer)

    # -- map ---------------------------------------------------------------------------------------
    def map_state(self, table: pa.Table, resolve) -> dict:
        p: MixParams = self.params
        if not hasattr(self, "_tok"):
            self.setup()
        col = table.column(p.by) if p.by in table.column_names else resolve(p.by)
        groups = ["" if v is None else str(v) for v in col.to_pylist()]
        texts = table.column("text")
        if p.unit == "docs":
            size = np.ones(table.num_rows, dtype=np.int64)
        elif p.unit == "bytes":
            import pyarrow.compute as pc

            size = pc.binary_length(texts).to_numpy(zero_copy_only=False).astype(np.int64)
        else:
            from gristmill.tokenize.tokenizer import encode_lengths

            size = np.array(encode_lengths(self._tok, texts.to_pylist()), dtype=np.int64)
        return {"groups": groups, "size": size, "key": _order_key(table.column("id").to_pylist(), p.seed)}

    def save_state(self, path: str, parts: list[dict]) -> None:
        groups = [g for x in parts for g in x["groups"]]
        names = sorted(set(groups))
        index = {g: i for i, g in enumerate(names)}
        arrays = {"group": np.array([index[g] for g in groups], dtype=np.int32),
                  "size": np.concatenate([x["size"] for x in parts]) if parts else np.zeros(0, np.int64),
                  "key": np.concatenate([x["key"] for x in parts]) if parts else np.zeros(0, np.uint64)}
        tmp = path + ".tmp.npz"
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
        with open(path + ".groups.json", "wb") as f:
            f.write(orjson.dumps(names))

    # -- reduce ------------------------------------------------------------------------------------
    def reduce(self, state_paths: list[str], decision_dir: str) -> dict:
        p: MixParams = self.params
        os.makedirs(decision_dir, exist_ok=True)
        shards = []
        for sp in state_paths:
            if not os.path.exists(sp):
                shards.append(None)
                continue
            with np.load(sp) as z:
                arr = {k: z[k] for k in ("group", "size", "key")}
            with open(sp + ".groups.json", "rb") as f:
                names = orjson.loads(f.read())
            arr["names"] = np.array(names + [""], dtype=object)[arr["group"]] if len(arr["group"]) else \
                np.zeros(0, dtype=object)
            shards.append(arr)
        live = [s for s in shards if s is not None]
        names = np.concatenate([s["names"] for s in live]) if live else np.zeros(0, dtype=object)
        size = np.concatenate([s["size"] for s in live]) if live else np.zeros(0, np.int64)
        key = np.concatenate([s["key"] for s in live]) if live else np.zeros(0, np.uint64)
        available = {g: float(size[names == g].sum()) for g in sorted(set(names.tolist()))}
        plan = mix_plan(available, p.weights, total=p.total, max_epochs=p.max_epochs)
        repeats = np.zeros(len(size), dtype=np.int32)
        achieved, epochs = {}, {}
        for g, t in plan["target"].items():
            idx = np.nonzero(names == g)[0]
            a = available.get(g, 0.0)
            if not len(idx) or a <= 0:
                achieved[g], epochs[g] = 0.0, 0.0
                continue
            full = int(t // a)
            rest = t - full * a
            order = idx[np.argsort(key[idx], kind="stable")]
            cum = np.cumsum(size[order])
            k = int(np.searchsorted(cum, rest, side="left"))  # first prefix reaching the rest …
            if k > 0 and (k >= len(cum) or abs(cum[k - 1] - rest) <= abs(cum[k] - rest)):
                k -= 1                                           # … or the one before, whichever is closer
            else:
                k = min(k, len(cum) - 1)
            repeats[idx] = full
            repeats[order[:k + 1]] += 1 if rest > 0 else 0
            achieved[g] = float((repeats[idx] * size[idx]).sum())
            epochs[g] = round(achieved[g] / a, 4)
        start = 0
        for i, s in enumerate(shards):
            n = 0 if s is None else len(s["size"])
            dec = np.zeros((n, 2), dtype=np.int32)
            if n:
                dec[:, 0] = repeats[start:start + n]
                dec[:, 1] = ~np.isin(names[start:start + n], list(plan["target"]))
            start += n
            tmp = os.path.join(decision_dir, f"{i:05d}.tmp.npy")
            np.save(tmp, dec)
            os.replace(tmp, os.path.join(decision_dir, f"{i:05d}.npy"))
        total = sum(achieved.values())
        return {"by": p.by, "unit": p.unit, "available": available, "target": plan["target"],
                "achieved": achieved, "weights": plan["weights"], "total_capped": plan["capped"],
                "shares": {g: round(v / total, 6) if total else 0.0 for g, v in achieved.items()},
                "epochs": epochs, "documents_out": int(repeats.sum()), "documents_in": int(len(size))}

    # -- apply -------------------------------------------------------------------------------------
    @staticmethod
    def load_decision(decision_dir: str, shard: int) -> np.ndarray:
        return np.load(os.path.join(decision_dir, f"{shard:05d}.npy"))

    def apply(self, table: pa.Table, decision: np.ndarray, offset: int, kept_id) -> Result:
        n = table.num_rows
        part = decision[offset:offset + n]
        rep, other = part[:, 0], part[:, 1].astype(bool)
        table = with_column(table, "mix_repeats", pa.array(rep, pa.int32()))
        reject = rep == 0
        reasons = ["not_in_mix" if o else "downsampled" for o in other[reject]]
        details = [f"{self.params.by} has no weight" if o else "left out to reach the target shares"
                   for o in other[reject]]
        return Result(table, reject, reasons, details)
