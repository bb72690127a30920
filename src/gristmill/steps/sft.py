"""Steps for fine-tuning records (read with ``input.sft``): ``sft_signals`` measures each record, and
``rouge_dedup`` removes instructions too similar (ROUGE-L, Chinese-aware) to an earlier one.

Signals: ``sft_turns`` (assistant turns), ``sft_prompt_len`` / ``sft_response_len`` (tokens with a
``tokenizer``; otherwise words, each Han character counting one), ``sft_prompt_lang`` /
``sft_response_lang`` / ``sft_lang_match`` (texts under 40 letters count as undetermined), ``sft_translation``
(the instruction asks for a translation), ``sft_refusal`` (a refusal or "as an AI language model" answer,
English or Chinese), ``sft_truncated`` (the response stops mid-sentence or inside an open code block),
``sft_instruction`` (the first user turn, for dedup keys).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np
import orjson
import pyarrow as pa

from gristmill.params import param
from gristmill.steps.base import Result, Step, register, with_column

REFUSAL = re.compile(
    r"as an ai(?: language)? model|as a language model|i(?:'m| am) (?:sorry|afraid),? but (?:i|as an ai)"
    r"|i can(?:no|')t (?:help|assist|provide|fulfill|comply)(?! but)|i(?:'m| am) (?:not able|unable) to (?:help|assist|provide)"
    r"|i don't have (?:the ability|personal|access)|作为(?:一个|一名)?(?:ai|人工智能|语言模型|AI)"
    r"|我(?:无法|不能)(?:提供|帮助|回答|满足)|(?:很|非常)?抱歉，?我(?:无法|不能)|我只是一个(?:ai|人工智能|语言模型)",
    re.I)
_TERMINAL = set(".!?。！？…\"'”’)）]】」』>`*~:：;；")
_TRANSLATE = re.compile(r"translat|in(?:to)? (?:english|chinese|french|german|spanish|japanese)|翻译|译成|译为|用英文|用中文", re.I)
_MIN_LETTERS = 40  # shorter texts get "und": language ID is unreliable on a few words
_UNIT = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W_]+", re.UNICODE)


_DANGLING = re.compile(r"(?:[,，、(（\[{-]|\b(?:and|or|the|a|an|of|to|with|for|in|that|which|is|are))$", re.I)


def truncated(response: str) -> bool:
    """True when a response looks cut off: an unclosed code block, a dangling comma or function word, or a
    long final line (prose, not a list item, title or verse) that does not end a sentence.

    >>> truncated("The answer is 42."), truncated("The steps are: first, open the"), truncated("```python\\nx = 1")
    (False, True, True)
    >>> truncated("- Learn a new language\\n- Start a business"), truncated("Summer tongue awakes")
    (False, False)
    """
    r = response.rstrip()
    if not r:
        return False
    if r.count("```") % 2:
        return True
    if _DANGLING.search(r):
        return True
    line = r.rsplit("\n", 1)[-1].strip()
    han = sum(1 for c in line if "\u3400" <= c <= "\u9fff")
    long_line = len(line) >= 100 or han >= 40
    return long_line and line[-1] not in _TERMINAL and not line[-1].isdigit()


@dataclass
class SftSignalsParams:
    tokenizer: str | None = param(None, "tokenizer.json for lengths in tokens (null: words, a Han character = 1)")


@register
class SftSignals(Step):
    """Signals of fine-tuning records: turns, lengths, languages and their match, refusals, truncation."""

    name = "sft_signals"
    path_params = ("tokenizer",)
    Params = SftSignalsParams
    outputs = ("sft_turns", "sft_prompt_len", "sft_response_len", "sft_prompt_lang", "sft_response_lang",
               "sft_lang_match", "sft_translation", "sft_refusal", "sft_truncated", "sft_instruction")

    def setup(self) -> None:
        from gristmill.steps.langid import load_model

        self.lid = load_model()
        self.tok = None
        if self.params.tokenizer:
            from gristmill.tokenize.tokenizer import load_tokenizer

            self.tok = load_tokenizer(self.params.tokenizer)

    def _len(self, texts: list[str]) -> list[int]:
        if self.tok is not None:
            return [len(e.ids) for e in self.tok.encode_batch(texts, add_special_tokens=False)]
        return [len(_UNIT.findall(t)) for t in texts]

    def _lang(self, texts: list[str]) -> list[str]:
        from gristmill.steps.langid import decide, normalise_label
        from gristmill.text.scripts import script_counts

        out = []
        labels, scores = self.lid.predict([t[:1000].replace("\n", " ") for t in texts], k=1) if texts else ([], [])
        for t, lab, sc in zip(texts, labels, scores, strict=True):
            letters, han, kana, hangul = script_counts(t)
            if letters < _MIN_LETTERS and han < 10:
                out.append("und")
                continue
            out.append(decide(normalise_label(lab[0]), float(sc[0]), letters, han, kana, hangul, 0.3)[0])
        return out

    def process(self, table: pa.Table) -> Result:
        from gristmill.sft.formats import parse

        if not hasattr(self, "lid"):
            self.setup()
        metas = table.column("meta").to_pylist() if "meta" in table.column_names else [None] * table.num_rows
        samples = []
        for m in metas:
            rec = orjson.loads(m) if m else {}
            fmt = rec.pop("_sft_format", None)
            samples.append(parse(rec, fmt))
        prompts = [s.prompt_text() for s in samples]
        responses = [s.response_text() for s in samples]
        pl, rl = self._lang(prompts), self._lang(responses)
        cols = {
            "sft_turns": pa.array([sum(m.role == "assistant" for m in s.conversation()) for s in samples], pa.int32()),
            "sft_prompt_len": pa.array(self._len(prompts), pa.int32()),
            "sft_response_len": pa.array(self._len(responses), pa.int32()),
            "sft_prompt_lang": pa.array(pl, pa.string()), "sft_response_lang": pa.array(rl, pa.string()),
            "sft_lang_match": pa.array([a == b or "und" in (a, b) for a, b in zip(pl, rl, strict=True)]),
            "sft_translation": pa.array([bool(_TRANSLATE.search(p)) for p in prompts]),
            "sft_refusal": pa.array([bool(REFUSAL.search(r)) for r in responses]),
            "sft_truncated": pa.array([truncated(r) for r in responses]),
            "sft_instruction": pa.array(prompts, pa.string()),
        }
        for k, v in cols.items():
            table = with_column(table, k, v)
        return Result(table)


@dataclass
class RougeDedupParams:
    column: str = param("sft_instruction", "column (or input field) compared")
    threshold: float = param(0.7, "ROUGE-L at or above which a later record is a near-duplicate", min=0, max=1)


@register
class RougeDedup(Step):
    """Remove records whose instruction has ROUGE-L ≥ threshold with an earlier kept one (Chinese-aware)."""

    name = "rouge_dedup"
    Params = RougeDedupParams
    kind = "global"
    reads_input_fields = True

    def map_state(self, table: pa.Table, resolve) -> list:
        c = self.params.column
        col = table.column(c) if c in table.column_names else resolve(c)
        return ["" if v is None else str(v) for v in col.to_pylist()]

    def save_state(self, path: str, parts: list) -> None:
        with open(path + ".tmp", "wb") as f:
            f.write(orjson.dumps([x for p in parts for x in p]))
        os.replace(path + ".tmp", path)

    def reduce(self, state_paths: list[str], decision_dir: str) -> dict:
        from gristmill.sft.rouge import NoveltyIndex

        os.makedirs(decision_dir, exist_ok=True)
        idx = NoveltyIndex(self.params.threshold)
        owners: list[tuple[int, int]] = []
        removed = 0
        for s, sp in enumerate(state_paths):
            texts = []
            if os.path.exists(sp):
                with open(sp, "rb") as f:
                    texts = orjson.loads(f.read())
            dec = []
            for r, t in enumerate(texts):
                k, score = idx.most_similar(t)
                if k is not None and score >= self.params.threshold:
                    dec.append((r, owners[k][0], owners[k][1], int(round(score * 1000))))
                    removed += 1
                else:
                    idx.add(t)
                    owners.append((s, r))
            arr = np.array(dec, dtype=np.int64).reshape(-1, 4)
            np.save(os.path.join(decision_dir, f"{s:05d}.tmp.npy"), arr)
            os.replace(os.path.join(decision_dir, f"{s:05d}.tmp.npy"), os.path.join(decision_dir, f"{s:05d}.npy"))
        return {"duplicates": removed, "kept": len(owners)}

    @staticmethod
    def load_decision(decision_dir: str, shard: int) -> np.ndarray:
        return np.load(os.path.join(decision_dir, f"{shard:05d}.npy"))

    def apply(self, table: pa.Table, decision: np.ndarray, offset: int, kept_id) -> Result:
        from gristmill.dedup.exact import batch_decisions

        reject, part = batch_decisions(decision, offset, table.num_rows)
        details = [f"ROUGE-L {sc / 1000:.3f} with {kept_id(int(s), int(r))}" for _, s, r, sc in part]
        return Result(table, reject, ["near_duplicate_instruction"] * len(part), details)
