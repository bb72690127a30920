"""``gristmill ablate ABLATION.yaml``: does a data-recipe change help? Variants × seeds, same budget.

For every variant the runner builds the data with a recipe (``gristmill run``), tokenises it with one
tokenizer shared by all variants (trained once on a sample of the raw data, or given), leaves out any
document identical to an evaluation text, packs it, trains a proxy GPT with the same token budget for each
seed, and scores the evaluation sets in bits per byte. Each finished cell (variant, seed) is saved, so a
rerun skips it; results are reproducible for a fixed seed (same data, same order, same initialisation).

An ablation file::

    name: quality-thresholds
    data: {paths: [../data/web.jsonl], text_field: text}   # paths relative to this file
    tokenizer: {vocab_size: 8000, sample_docs: 20000}       # or {path: tokenizer.json}
    train: {preset: cpu-tiny, tokens: 1000000}
    eval: [en, zh]                                          # bundled sets, or {name: path.jsonl}
    seeds: [0, 1, 2]
    variants:
      - {name: none, recipe: {steps: [{step: normalize}]}}
      - {name: default, recipe: default}                    # the built-in default recipe
      - name: strict
        recipe: default
        override: {quality_filter: {rules: {"en:gopher_short_doc": "gq_words >= 200"}}}
      - {name: half-zh, recipe: default, add_steps: [{step: mix, weights: {zh: 0.5, en: 0.5},
                                                     unit: tokens, tokenizer: "{tokenizer}"}]}

A variant may also name its own ``data``. ``{tokenizer}`` in a step parameter is the shared tokenizer's path.

**A dataset as a variant** (``gristmill.ablate.data``): ``data: PATH`` (a folder or files of JSONL/Parquet,
e.g. another tool's output; or a list) with no recipe is used as it is, with ``text_field``, ``id_field`` and
``lang_field`` (dotted, e.g. ``metadata.lang``; ``auto`` runs ``langid``) beside it::

      - {name: datatrove, data: out/datatrove/kept, lang_field: metadata.lang}

**Evaluation**: ``eval`` names bundled sets (``en``, ``zh``, ``en-domains``, ``zh-domains``) or maps names to
them or to the user's own held-out files (``{en: en-domains, mine: held-out/}``). Sets whose documents name a
``domain`` are scored per domain (``en/news``) and as a whole (bits over bytes of all the domains). Before
packing, every variant's data loses the exact and near copies of any evaluation text (counted in
``data.json`` → ``eval_overlap``; the documents in ``variants/V/train/eval_overlap.jsonl``);
``decontam: {threshold: 0.8, ngram: 5}`` tunes it.

**Equal language shares**: ``shares: {en: 0.5, zh: 0.5}`` (or ``shares: VARIANT``, that variant's token
shares) mixes every variant's decontaminated data to those token shares per language before packing (the
``mix`` step, unit tokens, repeats uncapped, other languages left out; the language with the most tokens for
its share used whole, the others repeated to their share, at least the budget in all), so
that a variant does not win a language only because it kept more of it. ``data.json`` then gives per language
the tokens available, the share trained on and the epochs the budget implies (``epochs_by_lang``: a variant
that kept 15 documents of a language repeats them many times). Without ``shares`` each variant trains on its
data as produced.

Cells are trained seed by seed (every variant's seed 0, then seed 1 …) and the results are rewritten after each
round, so a run stopped early leaves complete rounds.

**Which signals matter**: ``correlate: true`` (or ``{variant: NAME, max_chars: 2000}``) scores every document
of the baseline variant with the ``quality`` signals and its seed's proxy model (``perplexity``) and reports
the Spearman correlation of each numeric signal with bits per byte, per language (``gristmill.ablate.correlate``).
"""

from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path

import xxhash
import yaml

from gristmill.ablate import correlate, stats
from gristmill.ablate import data as vdata
from gristmill.errors import GristmillError

TOP = {"name", "description", "data", "tokenizer", "train", "eval", "seeds", "variants", "compare_to", "correlate",
       "decontam", "shares"}
UNCAPPED = 1e9  # max_epochs of the shares mix: a language is repeated as often as its share of the budget needs


def load_spec(path: str) -> dict:
    p = Path(path)
    if not p.exists():
        raise GristmillError(f"ablation file not found: {path}")
    spec = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    if not isinstance(spec, dict):
        raise GristmillError(f"{path}: an ablation file is a mapping (name, data, variants …)")
    unknown = set(spec) - TOP
    if unknown:
        raise GristmillError(f"{path}: unknown key {sorted(unknown)[0]!r}", hint=f"keys: {', '.join(sorted(TOP))}")
    if not spec.get("variants"):
        raise GristmillError(f"{path}: no variants", hint="variants: [{name: a, recipe: default}, …]")
    names = [v.get("name") for v in spec["variants"]]
    if None in names or len(set(names)) != len(names):
        raise GristmillError(f"{path}: every variant needs a unique name")
    spec.setdefault("name", p.stem)
    spec.setdefault("seeds", [0])
    spec.setdefault("train", {})
    spec["_dir"] = str(p.parent.resolve())
    return spec


def _paths(spec: dict, data: dict) -> list[str]:
    out = []
    for x in data.get("paths", []):
        x = os.path.expanduser(x)
        out.append(x if os.path.isabs(x) or "://" in x else os.path.join(spec["_dir"], x))
    if not out:
        raise GristmillError("an ablation needs data.paths (at the top or in each variant)")
    return out


def _recipe(spec: dict, variant: dict, tokenizer: str) -> dict:
    from gristmill.recipe import default_recipe_path

    data = vdata.data_of(variant, spec)
    r = variant.get("recipe", "default")
    if vdata.as_is(variant):
        base = {"steps": [{"step": "langid"}] if data.get("lang_field") == "auto" else []}
    elif r == "default":
        base = yaml.safe_load(default_recipe_path().read_text(encoding="utf-8"))
    elif isinstance(r, str):
        p = r if os.path.isabs(r) else os.path.join(spec["_dir"], r)
        base = yaml.safe_load(Path(p).read_text(encoding="utf-8"))
    else:
        base = copy.deepcopy(r)
    steps = base.setdefault("steps", [])
    for label, params in (variant.get("override") or {}).items():
        hit = [s for s in steps if s.get("name", s.get("step")) == label]
        if not hit:
            raise GristmillError(f"variant {variant['name']}: no step labelled {label!r} to override",
                                 hint="labels: " + ", ".join(s.get("name", s.get("step")) for s in steps))
        for k, v in params.items():
            if isinstance(v, dict) and isinstance(hit[0].get(k), dict):
                hit[0][k] = {**hit[0][k], **v}
            else:
                hit[0][k] = v
    steps += copy.deepcopy(variant.get("add_steps") or [])
    text = json.dumps(base).replace("{tokenizer}", tokenizer.replace("\\", "/"))
    base = json.loads(text)
    base.pop("output", None)
    base["input"] = {**(base.get("input") or {}),
                     **{k: v for k, v in data.items() if k not in ("paths", "lang_field")}}
    base["output"] = {"format": "jsonl", "report": False, "text_field": "text"}
    return base


def _train_tokenizer(spec: dict, out: str) -> str:
    """The ablation's shared tokenizer: the one named, or one trained (once) on a sample of all variants' data."""
    from gristmill.tokenize.tokenizer import sample_texts, train_tokenizer

    cfg = spec.get("tokenizer") or {}
    if cfg.get("path"):
        p = cfg["path"]
        return p if os.path.isabs(p) else os.path.join(spec["_dir"], p)
    path = os.path.join(out, "tokenizer.json")
    if os.path.exists(path):
        return path
    datas = ([spec["data"]] if spec.get("data") else []) + [vdata.data_of(v, {}) for v in spec["variants"]
                                                            if v.get("data")]
    texts = sample_texts([(_paths(spec, d), d.get("text_field", "text"), d.get("id_field", "id")) for d in datas],
                         int(cfg.get("sample_docs", 20000)))
    train_tokenizer(texts, vocab_size=int(cfg.get("vocab_size", 8000))).save(path)
    return path


def _eval_sets(spec: dict) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(what is scored: a set, or one entry per domain ``set/domain``; every set's texts, for decontamination)."""
    from gristmill.train import evalsets

    docs = evalsets.load_docs(spec.get("eval"))
    doms = evalsets.domains(docs)
    scored: dict[str, list[str]] = {}
    for name, ds in docs.items():
        if name in doms:
            scored.update({f"{name}/{d}": texts for d, texts in doms[name].items()})
        else:
            scored[name] = [d["text"] for d in ds]
    return scored, {k: [d["text"] for d in v] for k, v in docs.items()}


def _scores(r: dict) -> dict[str, float]:
    """A cell's bits per byte per scored set, plus each domain set as a whole (bits over bytes)."""
    ev = {k: x["bpb"] for k, x in r["eval"].items()}
    whole: dict[str, list[float]] = {}
    for k, x in r["eval"].items():
        if "/" in k:
            w = whole.setdefault(k.split("/", 1)[0], [0.0, 0.0])
            w[0] += x["bpb"] * x["bytes"]
            w[1] += x["bytes"]
    ev.update({k: round(b / max(n, 1), 5) for k, (b, n) in whole.items()})
    return ev


def _fingerprint(paths: list[str]) -> str:
    """Names, sizes and modification times of the input files: a rerun rebuilds a variant whose files changed."""
    h = xxhash.xxh3_64()
    for p in paths:
        files = [os.path.join(r, f) for r, _, fs in os.walk(p) for f in fs] if os.path.isdir(p) else [p]
        for f in sorted(files):
            try:
                st = os.stat(f)
            except OSError:
                continue
            h.update(f"{f} {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _budget(spec: dict) -> int:
    from gristmill.train.presets import PRESETS

    tr = spec["train"]
    return int(tr.get("tokens") or PRESETS[tr.get("preset", "cpu-tiny")].tokens)


def _mix_to_shares(spec: dict, train_dir: str, tok: str, vdir: str, available: dict[str, int],
                   docs: dict[str, int], reference, *, workers, quiet: bool) -> tuple[str, dict]:
    """Mix ``train.jsonl`` to the ablation's language shares in tokens; (what to pack, what was done).

    The total is the larger of the budget and the amount at which the language with the most tokens for its
    share is used whole: nothing is left out that training could have read, and the languages with less are
    repeated to their share (training then reads budget × share of each, whatever the total)."""
    import gristmill
    from gristmill.recipe import parse_recipe

    weights, missing = vdata.share_weights(spec["shares"], available, reference)
    if not weights:
        raise GristmillError(f"{vdir}: none of the languages of shares ({spec['shares']}) is in this variant")
    budget = _budget(spec)
    # the mix step counts tokens without the EOS that packing adds: one per document
    total = max(float(budget), max((available[k] - docs.get(k, 0)) / w for k, w in weights.items()))
    recipe = parse_recipe({"output": {"format": "jsonl", "report": False, "text_field": "text"},
                           "steps": [{"step": "mix", "by": "lang", "unit": "tokens", "tokenizer": tok,
                                      "weights": weights, "total": total, "max_epochs": UNCAPPED,
                                      "seed": 0}]}, "<shares>")
    m = gristmill.run(recipe, inputs=[os.path.join(train_dir, "train.jsonl")], output=os.path.join(vdir, "mixed"),
                      workers=workers, resume=False, quiet=quiet)
    mix = m.get("global_steps", {}).get("mix") or {}
    info = {"target": spec["shares"] if isinstance(spec["shares"], str) else dict(spec["shares"]),
            "weights": weights, "missing": missing, "budget": budget, "total": round(total),
            "left_out": {k: v for k, v in available.items() if k not in weights},
            "mix": {k: mix.get(k) for k in ("available", "target", "achieved", "shares", "epochs", "documents_in",
                                            "documents_out")}}
    return os.path.join(vdir, "mixed", "kept"), info


def _build(spec: dict, v: dict, tok: str, vdir: str, index, *, workers, quiet: bool, say,
           reference: dict[str, int] | None = None) -> dict:
    """Build, decontaminate, (mix to the shares and) pack one variant's data (unless done before the same way)."""
    import gristmill
    from gristmill.tokenize.pack import pack

    data = vdata.data_of(v, spec)
    recipe = _recipe(spec, v, tok)
    rpath = os.path.join(vdir, "recipe.yaml")
    os.makedirs(vdir, exist_ok=True)
    text = yaml.safe_dump(recipe, allow_unicode=True, sort_keys=False)
    changed = not os.path.exists(rpath) or Path(rpath).read_text(encoding="utf-8") != text
    Path(rpath).write_text(text, encoding="utf-8")
    kpath = os.path.join(vdir, "build.key")
    shares = spec.get("shares")
    stamp = f"{index.key} {_fingerprint(_paths(spec, data))}"  # eval sets, settings and the input files
    if shares:
        stamp += " " + json.dumps({"shares": shares, "budget": _budget(spec), "reference": reference,
                                   "total": "the language with most used whole"}, sort_keys=True)
    stale = changed or not os.path.exists(kpath) or Path(kpath).read_text() != stamp
    shards = os.path.join(vdir, "shards")
    if stale or not os.path.exists(os.path.join(vdir, "data.json")):
        say(f"[{v['name']}] building the data" + (" (as it is)" if vdata.as_is(v) else ""))
        m = gristmill.run(rpath, inputs=_paths(spec, data), output=os.path.join(vdir, "data"), workers=workers,
                          resume=not changed, quiet=quiet)
        lf = data.get("lang_field") or "lang"
        train_dir = os.path.join(vdir, "train")
        ov = vdata.split_eval_overlap(os.path.join(vdir, "data", "kept"), train_dir, index,
                                      "lang" if lf == "auto" else lf)
        by_lang = ov.pop("by_lang")
        mixed = None
        if shares:
            available = vdata.lang_tokens(os.path.join(train_dir, "train.jsonl"), tok)
            for lang, n in available.items():
                by_lang.setdefault(lang, {"docs": 0, "bytes": 0})["tokens"] = n
            src, mixed = _mix_to_shares(spec, train_dir, tok, vdir, available,
                                        {k: x["docs"] for k, x in by_lang.items()},
                                        available if shares == v["name"] else reference, workers=workers,
                                        quiet=quiet)
        else:
            src = os.path.join(train_dir, "train.jsonl")
        tm = pack([src], tok, shards, seed=0)
        packed = tm["tokens_by"].get("lang") or {}
        for lang, n in packed.items():
            if not shares:
                by_lang.setdefault(lang, {"docs": 0, "bytes": 0})["tokens"] = n
        share = {lang: round(n / max(tm["tokens"], 1), 5) for lang, n in packed.items()}
        with open(os.path.join(vdir, "data.json"), "w") as f:
            json.dump({"counts": m["counts"], "tokens": tm["tokens"], "tokens_by": tm["tokens_by"],
                       "by_lang": by_lang, "train_share": share, "shares": mixed, "eval_overlap": ov,
                       "mix": m.get("global_steps", {}).get("mix")}, f, indent=2, ensure_ascii=False)
        Path(kpath).write_text(stamp)
    with open(os.path.join(vdir, "data.json")) as f:
        return json.load(f)


def epochs(dinfo: dict, tokens_trained: int) -> tuple[float, dict[str, float]]:
    """(epochs overall, per language) that ``tokens_trained`` implies: passes over the tokens available.

    >>> epochs({"tokens": 100, "train_share": {"en": 0.5, "zh": 0.5},
    ...         "by_lang": {"en": {"tokens": 1000}, "zh": {"tokens": 10}}, "shares": {}}, 200)
    (0.198, {'en': 0.1, 'zh': 10.0})
    """
    bl = dinfo.get("by_lang") or {}
    avail = sum(x.get("tokens", 0) for x in bl.values()) if dinfo.get("shares") is not None else dinfo["tokens"]
    per = {lang: round(tokens_trained * s / bl[lang]["tokens"], 3)
           for lang, s in (dinfo.get("train_share") or {}).items() if bl.get(lang, {}).get("tokens")}
    return round(tokens_trained / max(avail, 1), 3), per


def _cell(spec: dict, v: dict, seed: int, dinfo: dict, out: str, evals: dict, corr_variant, *, quiet: bool,
          say, progress_every: float) -> dict:
    """Train and score one (variant, seed), or load it when done before with the same settings and data."""
    from gristmill.train.trainer import train

    tr = spec["train"]
    shards = os.path.join(out, "variants", v["name"], "shards")
    cpath = os.path.join(out, "cells", v["name"], f"seed-{seed}.json")
    mdir = cpath[:-len(".json")] + ".model" if (v["name"] == corr_variant and seed == spec["seeds"][0]) else None
    key = {"train": tr, "eval": sorted(evals), "seed": seed, "tokens": dinfo["tokens"]}
    if spec.get("shares"):
        key["shares"] = spec["shares"]
    if os.path.exists(cpath) and (mdir is None or os.path.exists(os.path.join(mdir, "model.pt"))):
        with open(cpath) as f:
            cell = json.load(f)
        if cell.get("key") == key:
            say(f"[{v['name']} seed {seed}] done before: skipped")
            return cell
    say(f"[{v['name']} seed {seed}] training {tr.get('preset', 'cpu-tiny')} for "
        f"{tr.get('tokens') or 'the preset'} tokens")
    r = train(shards, preset=tr.get("preset", "cpu-tiny"), tokens=tr.get("tokens"), seed=seed,
              eval_sets=evals, overrides=tr.get("overrides"), device=tr.get("device"), quiet=quiet,
              progress_every=progress_every, label=f"{v['name']} seed {seed}", out=mdir,
              log_path=cpath[:-len(".json")] + ".train_log.jsonl")
    cell = {"variant": v["name"], "seed": seed, "key": key, "data": dinfo, "eval": _scores(r), "train": {
                k: r[k] for k in ("preset", "params", "steps", "tokens_trained", "train_seconds",
                                  "tokens_per_second", "loss_first", "loss_last", "device")}}
    cell["train"]["epochs"], cell["train"]["epochs_by_lang"] = epochs(dinfo, r["tokens_trained"])
    os.makedirs(os.path.dirname(cpath), exist_ok=True)
    tmp = cpath + ".tmp"
    with open(tmp, "w") as f:
        json.dump(cell, f, indent=2, ensure_ascii=False)
    os.replace(tmp, cpath)
    return cell


def ablate(path: str, out: str | None = None, *, workers: int | None = None, quiet: bool = False,
           only: list[str] | None = None, progress_every: float = 5.0) -> dict:
    """Run (or resume) an ablation; returns the results and writes results.{json,md,html} in ``out``.

    Unless ``quiet``, each data build and training run shows its progress (training: step, tokens/s, loss,
    ETA; a line every ``progress_every`` s when not a terminal); each cell's training log is written beside
    the cell, ``cells/VARIANT/seed-N.train_log.jsonl``."""
    from gristmill.train.eval_decontam import EvalIndex

    spec = load_spec(path)
    out = out or os.path.join("ablations", spec["name"])
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()
    say = (lambda *a: None) if quiet else print
    evals, whole = _eval_sets(spec)
    dc = spec.get("decontam") or {}
    index = EvalIndex(whole, n=int(dc.get("ngram", 5)), threshold=float(dc.get("threshold", 0.8)))
    tok = _train_tokenizer(spec, out)
    corr = spec.get("correlate")
    corr = ({} if corr is True else dict(corr)) if corr else None
    names = [v["name"] for v in spec["variants"]]
    corr_variant = (corr.get("variant") or spec.get("compare_to") or names[0]) if corr is not None else None
    run = [v for v in spec["variants"] if not only or v["name"] in only]
    ref = spec.get("shares") if isinstance(spec.get("shares"), str) else None
    if ref is not None and ref not in names:
        raise GristmillError(f"shares: {ref!r} is not a variant", hint="a variant name, or {en: 0.5, zh: 0.5}")
    dinfo, reference = {}, None
    for v in sorted(spec["variants"], key=lambda v: v["name"] != ref):  # the shares' reference first
        if v in run or v["name"] == ref:
            dinfo[v["name"]] = _build(spec, v, tok, os.path.join(out, "variants", v["name"]), index,
                                      workers=workers, quiet=quiet, say=say, reference=reference)
            if v["name"] == ref:
                reference = {k: x.get("tokens", 0) for k, x in dinfo[ref]["by_lang"].items()}
    cells = []
    for seed in spec["seeds"]:  # seed-major: a run stopped early leaves whole rounds
        for v in run:
            cells.append(_cell(spec, v, seed, dinfo[v["name"]], out, evals, corr_variant, quiet=quiet, say=say,
                               progress_every=progress_every))
        stats.write({**stats.summarize(spec, cells), "tokenizer": tok, "partial": seed != spec["seeds"][-1]}, out)
    results = stats.summarize(spec, cells)
    if corr is not None and (not only or corr_variant in only):
        say(f"[{corr_variant}] scoring every document: quality signals and bits per byte")
        vdir = os.path.join(out, "variants", corr_variant)
        rows = correlate.score(os.path.join(vdir, "train", "train.jsonl"),
                               os.path.join(out, "cells", corr_variant, f"seed-{spec['seeds'][0]}.model"),
                               os.path.join(vdir, "scored"), max_chars=int(corr.get("max_chars", 2000)),
                               max_docs=corr.get("max_docs"), workers=workers, quiet=quiet)
        results["correlations"] = {"variant": corr_variant, "documents": len(rows),
                                   "table": correlate.correlations(rows)}
    results["seconds"] = round(time.perf_counter() - t0, 1)
    results["tokenizer"] = tok
    stats.write(results, out)
    return results
