"""A deterministic sample of documents to annotate: stratified by language and source, chosen by id hash.

Within a stratum (a ``(lang, source)`` pair) documents are ranked by ``xxh64(id, seed)`` and the lowest ranks
are taken, so the sample does not depend on file order, and a larger sample contains a smaller one with the
same seed. ``n`` is shared out equally between languages, then equally between each language's sources
(``allocation="equal"``; a stratum with fewer documents gives its unused share to the others), or in
proportion to stratum sizes (``"proportional"``).

>>> docs = [{"id": f"{l}{i}", "lang": l, "source": s} for l in ("en", "zh") for s in ("a", "b") for i in range(50)]
>>> pick = stratified(docs, 20)
>>> len(pick), sorted({(d["lang"], d["source"]) for d in pick}) == [("en", "a"), ("en", "b"), ("zh", "a"), ("zh", "b")]
(20, True)
>>> [d["id"] for d in stratified(docs, 8)] == [d["id"] for d in pick if d in stratified(docs, 8)]
True
"""

from __future__ import annotations

import json
import os
from collections import defaultdict

import xxhash

from gristmill.errors import GristmillError


def _share(total: int, sizes: dict, allocation: str) -> dict:
    """Documents per group: equal shares with leftovers redistributed (water-filling), or proportional."""
    if allocation == "proportional":
        all_ = sum(sizes.values())
        want = {g: total * s / all_ for g, s in sizes.items()} if all_ else {}
        out = {g: min(sizes[g], int(w)) for g, w in want.items()}
        for g in sorted(want, key=lambda g: want[g] - int(want[g]), reverse=True):  # largest remainders
            if sum(out.values()) >= min(total, all_):
                break
            if out[g] < sizes[g]:
                out[g] += 1
        return out
    if allocation != "equal":
        raise GristmillError(f"unknown allocation {allocation!r}", hint="equal or proportional")
    out, left, open_ = dict.fromkeys(sizes, 0), total, sorted(sizes)
    while left > 0 and open_:
        each, extra = divmod(left, len(open_))
        nxt = []
        for k, g in enumerate(open_):
            take = min(sizes[g] - out[g], each + (1 if k < extra else 0))
            out[g] += take
            left -= take
            if out[g] < sizes[g]:
                nxt.append(g)
        if nxt == open_ and each == 0 and extra == 0:
            break
        open_ = nxt
    return out


def rank(doc_id: str, seed: int = 0) -> int:
    """The id's place in every sample with this seed (lower is chosen first)."""
    return xxhash.xxh64_intdigest(doc_id.encode("utf-8", "surrogatepass"), seed=seed)


def stratified(docs: list[dict], n: int, *, seed: int = 0, allocation: str = "equal") -> list[dict]:
    """``n`` documents (each a dict with ``id``, ``lang``, ``source``), in (lang, source, rank) order."""
    strata: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for d in docs:
        strata[d["lang"]][d["source"]].append(d)
    langs = _share(n, {lang: sum(len(v) for v in s.values()) for lang, s in strata.items()}, allocation)
    out = []
    for lang in sorted(strata):
        per = _share(langs[lang], {s: len(v) for s, v in strata[lang].items()}, allocation)
        for src in sorted(strata[lang]):
            out += sorted(strata[lang][src], key=lambda d: rank(d["id"], seed))[: per[src]]
    return out


def read_documents(paths: list[str], *, text_field: str = "text",
                   id_field: str = "id") -> tuple[list[dict], int, int]:
    """(documents as ``{id, text, lang, source}``, records that could not be read, records skipped for an id
    seen before or an empty text) from any input gristmill reads. ``lang`` and ``source`` come from the record
    when it has them; otherwise ``lang`` is the ``langid`` step's answer and ``source`` the file name."""
    import pyarrow as pa

    from gristmill.io.paths import plan_shards
    from gristmill.io.readers import ReadOptions, read_shard

    opts = ReadOptions(text_field=text_field, id_field=id_field)
    docs, seen, bad, skipped, need_lang = [], set(), 0, 0, []
    for sh in plan_shards(paths):
        for rb in read_shard(sh, opts):
            bad += len(rb.quarantine)
            if rb.table is None:
                continue
            metas = rb.table.column("meta").to_pylist() if "meta" in rb.table.column_names else [None] * rb.table.num_rows
            for i, t, m in zip(rb.table.column("id").to_pylist(), rb.table.column("text").to_pylist(), metas,
                               strict=True):
                if i in seen or not t:
                    skipped += 1
                    continue
                seen.add(i)
                meta = json.loads(m) if m else {}
                meta = meta if isinstance(meta, dict) else {}
                d = {"id": i, "text": t, "lang": meta.get("lang"),
                     "source": str(meta.get("source") or os.path.basename(sh.path))}
                if not isinstance(d["lang"], str) or not d["lang"]:
                    need_lang.append(d)
                docs.append(d)
    if need_lang:
        from gristmill.recipe import load_recipe

        step = load_recipe(text="steps:\n  - step: langid\n").steps[0].build()
        step.setup()
        for a in range(0, len(need_lang), 2000):
            part = need_lang[a:a + 2000]
            t = step.process(pa.table({"id": [d["id"] for d in part], "text": [d["text"] for d in part]})).table
            for d, lang in zip(part, t.column("lang").to_pylist(), strict=True):
                d["lang"] = lang or "und"
    return docs, bad, skipped
