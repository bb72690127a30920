"""Near-duplicates of real Chinese text the way a reader sees them: copies that differ only in punctuation,
Latin runs or line order, or in a few characters, are found at the default threshold; documents below it
are not merged; English decisions do not change.

Two similarities: (a) character 5-grams with punctuation kept, (b) 5-grams of gristmill's tokens (words,
single CJK characters, punctuation dropped). By default a mostly-CJK pair is a near-duplicate when either
reaches the threshold; ``similarity: tokens`` is the old behaviour, ``similarity: chars`` (a) alone.
"""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from gristmill import run
from gristmill.dedup.shingles import batch_shingles, cjk_share, jaccard, shingle_hashes, tokens
from tests.conftest import output_rows, read_jsonl, shared, write_jsonl

_FULL_TO_ASCII = str.maketrans({"，": ",", "。": ".", "：": ":", "；": ";", "！": "!", "？": "?", "（": "(",
                                "）": ")", "“": '"', "”": '"', "、": ","})
_LATIN = ["Linux", "https://example.org/docs/index.html", "v2.3.1", "iPhone 13 Pro", "UTF-8", "Python 3.11"]


def grams(units: list[str], n: int = 5) -> set[str]:
    """n-grams of units (fewer than n units: one of all), as gristmill counts them."""
    if len(units) < n:
        return {"\x1f".join(units)}
    return {"\x1f".join(units[i:i + n]) for i in range(len(units) - n + 1)}


def chars_set(t: str) -> set[str]:
    """Definition (a), written out plainly: character 5-grams, punctuation kept, whitespace dropped."""
    return grams([c for c in t.lower() if unicodedata.category(c) not in ("Zs", "Zl", "Zp", "Cc", "Cf")])


def j(x: set, y: set) -> float:
    return len(x & y) / len(x | y)


def j_chars(a: str, b: str) -> float:
    return j(chars_set(a), chars_set(b))


def j_tokens(a: str, b: str) -> float:
    """Definition (b): 5-grams of gristmill's tokens."""
    return j(grams(tokens(a)), grams(tokens(b)))


def char_edits(text: str, rate: float, rng: random.Random) -> str:
    pool = [c for c in text if not c.isspace()]
    out = []
    for c in text:
        x = rng.random()
        if c.isspace() or x >= rate:
            out.append(c)
        elif x < rate / 2:
            out.append(rng.choice(pool))
        elif x >= 3 * rate / 4:
            out.append(c + rng.choice(pool))
    return "".join(out)


def latin_runs(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(max(1, len(text) // 150)):
        chars.insert(rng.randrange(len(chars) + 1), " " + rng.choice(_LATIN) + " ")
    return "".join(chars)


def move_lines(text: str, rng: random.Random) -> str:
    """A block of lines (a paragraph or section) moved elsewhere, and two neighbouring lines swapped."""
    lines = text.split("\n")
    a = rng.randrange(len(lines))
    b = min(len(lines), a + max(1, len(lines) // 4))
    block, rest = lines[a:b], lines[:a] + lines[b:]
    k = rng.randrange(len(rest) + 1)
    lines = rest[:k] + block + rest[k:]
    i = rng.randrange(len(lines) - 1)
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def zh_corpus():
    """Real Chinese pages (web text, the Debian reference, hotel reviews) that are mostly Chinese and not
    near-duplicates of each other, each with one edited copy; the copy's kind and both similarities."""
    rng = random.Random(11)
    pool = [d["text"] for d in read_jsonl(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl"))] + \
        [d["text"] for d in read_jsonl(shared("text_zh/debian_reference_zh_cn_shared.jsonl.gz"))] + \
        [d["text"] for d in read_jsonl(shared("text_zh/chnsenticorp_hotel_reviews.jsonl.gz"))[:1500]]
    base, sets = [], []
    for t in pool:
        t = t[:3000]
        if len(base) == 84 or len(t) < 250 or t.strip().count("\n") < 2 or cjk_share(t) < 0.6:
            continue
        a, b = chars_set(t), grams(tokens(t))
        if all(j(a, x) < 0.4 and j(b, y) < 0.4 for x, y in sets):
            base.append(t)
            sets.append((a, b))
    kinds = ["to_ascii", "drop_punct", "latin", "lines", "reader_edit", "below"]
    docs, pairs = [], []
    for i, t in enumerate(base):
        kind = kinds[i % len(kinds)]
        if kind == "to_ascii":
            c = t.translate(_FULL_TO_ASCII)
        elif kind == "drop_punct":
            c = "".join(ch for ch in t if not unicodedata.category(ch).startswith("P") or rng.random() < 0.5)
        elif kind == "latin":
            c = latin_runs(t, rng)
        elif kind == "lines":
            c = move_lines(t, rng)
        elif kind == "below":
            c = char_edits(t, 0.15, rng)
        else:  # the lowest edit rate that puts the copy above 0.72 under (a) and below 0.68 under (b), if any
            for k in range(40):
                c = char_edits(t, 0.01 + k * 0.001, rng)
                if j_tokens(t, c) < 0.68:
                    break
            if j_chars(t, c) < 0.72:
                continue
        ja, jb = j_chars(t, c), j_tokens(t, c)
        if kind not in ("reader_edit", "below") and max(ja, jb) < 0.7:
            continue  # not a near-duplicate under either definition: no copy of this kind to find
        docs += [{"id": f"zh-{i}", "text": t}, {"id": f"zh-{i}-copy", "text": c}]
        pairs.append((f"zh-{i}", f"zh-{i}-copy", kind, ja, jb))
    return docs, pairs


def clusters(tmp_path, docs, extra: str = "", shard: str = "64MB") -> tuple[dict, dict]:
    """Run minhash_dedup (settings ``extra``: ``key: value;key: value``): each id's dup_cluster, and the
    step's manifest entry."""
    write_jsonl(tmp_path / "in.jsonl", docs)
    settings = "".join(f"    {x}\n" for x in extra.split(";") if x)
    recipe = f"input:\n  shard_size: {shard}\nsteps:\n  - step: minhash_dedup\n{settings}"
    (tmp_path / "r.yaml").write_text(recipe)
    m = run(str(tmp_path / "r.yaml"), inputs=[str(tmp_path / "in.jsonl")], output=str(tmp_path / "o"),
            workers=1, quiet=True)
    assert m["reconciled"]
    rows = output_rows(tmp_path / "o") + output_rows(tmp_path / "o", "rejected")
    return {r["id"]: r.get("dup_cluster") for r in rows}, m["global_steps"]["minhash_dedup"]


def test_character_shingles_are_the_readers_definition(zh_corpus):
    docs, pairs = zh_corpus
    text = {d["id"]: d["text"] for d in docs}
    for a, b, *_ in pairs[:24]:
        x, y = shingle_hashes(text[a], units="chars"), shingle_hashes(text[b], units="chars")
        assert jaccard(x, y) == pytest.approx(j_chars(text[a], text[b]), abs=1e-9)
        x, y = shingle_hashes(text[a]), shingle_hashes(text[b])
        assert jaccard(x, y) == pytest.approx(j_tokens(text[a], text[b]), abs=1e-9)
    # punctuation and Latin letters are units of their own; whitespace is not
    t = "你好，世界！ 再见"
    assert len(shingle_hashes(t, units="chars")) == 4 and len(shingle_hashes(t)) == 2
    h, off = batch_shingles([text[a] for a, *_ in pairs[:16]], units="chars")
    assert all((h[off[i]:off[i + 1]] == shingle_hashes(text[a], units="chars", distinct=False)).all()
               for i, (a, *_) in enumerate(pairs[:16]))


def test_cjk_share_tells_chinese_pages_from_english_ones():
    zh = read_jsonl(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl"))[:20]
    en = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[:20]
    man = read_jsonl(shared("text_zh/manpages_zh_cn_shared.jsonl.gz"))
    assert sum(cjk_share(d["text"]) >= 0.5 for d in zh) >= 18 and all(cjk_share(d["text"]) == 0 for d in en)
    shares = sorted(cjk_share(d["text"]) for d in man)  # Chinese man pages keep English options: in between
    assert shares[0] < 0.5 < shares[len(shares) // 2] < 0.95


def test_chinese_copies_found_as_a_reader_would(zh_corpus, tmp_path):
    docs, pairs = zh_corpus
    kinds = {p[2] for p in pairs}
    assert kinds == {"to_ascii", "drop_punct", "latin", "lines", "reader_edit", "below"} and len(pairs) >= 50
    # the two definitions disagree on these copies: punctuation changes move (a) only, Latin runs and
    # character edits move (a) and (b) by different amounts
    assert any(ja < 0.7 <= jb for *_, k, ja, jb in pairs if k in ("to_ascii", "drop_punct"))
    assert all(ja >= 0.72 > jb for *_, k, ja, jb in pairs if k == "reader_edit")
    found = {}
    for mode in ("either", "tokens", "chars"):
        cl, info = clusters(tmp_path / mode, docs, f"similarity: {mode}")
        found[mode] = {k: [cl[a] is not None and cl[a] == cl[b] for a, b, kk, *_ in pairs if kk == k]
                       for k in {p[2] for p in pairs}}
        merged = {d for d, c in cl.items() if c is not None}  # nothing else is merged:
        assert merged <= {x for a, b, k, *_ in pairs if k != "below" for x in (a, b)}
        assert (info["docs_with_char_shingles"] > 0) == (mode != "tokens")
    for k in ("to_ascii", "drop_punct", "latin", "lines", "reader_edit"):
        assert all(found["either"][k]), k  # every copy a reader calls a copy, at the default threshold
    assert not any(found["either"]["below"])
    # what changed: the old token shingles miss copies that differ in a few characters, since dropping
    # punctuation makes each edit weigh more; characters alone miss copies whose punctuation was rewritten
    assert not any(found["tokens"]["reader_edit"]) and all(found["tokens"]["to_ascii"])
    ascii_ja = [ja for *_, k, ja, _ in pairs if k == "to_ascii"]
    ascii_low = [f for f, ja in zip(found["chars"]["to_ascii"], ascii_ja, strict=True) if ja < 0.7]
    assert ascii_low and not any(ascii_low)


def test_english_decisions_unchanged(tmp_path):
    rng = random.Random(3)
    en = [d for d in read_jsonl(shared("text_en/c4_sample_shared.jsonl")) if len(d["text"]) > 1200][:40]
    docs = []
    for i, d in enumerate(en):
        docs.append({"id": d["id"], "text": d["text"]})
        if i % 2 == 0:  # word edits at 1-6%: straddling the threshold
            words = d["text"].split(" ")
            rate = 0.01 + 0.05 * (i / len(en))
            words = [w for w in words if rng.random() > rate]
            docs.append({"id": d["id"] + "-copy", "text": " ".join(words) + "\n你好，这是一个中文脚注。"})
    before, _ = clusters(tmp_path / "tokens", docs, "similarity: tokens")
    after, info = clusters(tmp_path / "either", docs)
    assert before == after and info["docs_with_char_shingles"] == 0
    assert 5 <= sum(c is not None for c in after.values()) < len(docs)  # some copies merged, not all


@pytest.mark.parametrize("verify,similarity,kinds", [
    ("exact", "either", ("to_ascii", "reader_edit", "below")),
    ("signature", "chars", ("lines", "below")),
])
def test_shards_with_and_without_chinese(zh_corpus, tmp_path, verify, similarity, kinds):
    """English-only shards have no character shingles at all; pairs are still checked across shards, exactly
    or by signature agreement."""
    docs, pairs = zh_corpus
    c4 = read_jsonl(shared("text_en/c4_sample_shared.jsonl"))[:60]
    en = [{"id": d["id"], "text": d["text"]} for d in c4]
    picked = [p for p in pairs if p[2] in kinds]
    keep = {x for a, b, *_ in picked for x in (a, b)}
    cl, info = clusters(tmp_path, en + [d for d in docs if d["id"] in keep],
                        f"verify: {verify};similarity: {similarity}", shard="60KB")
    for a, b, kind, _, _ in picked:
        assert (cl[a] is not None and cl[a] == cl[b]) == (kind != "below"), (kind, verify)
    assert all(cl[d["id"]] is None for d in en) and info["docs_with_char_shingles"] == len(keep)


def test_one_permutation_signature_estimates_character_jaccard(zh_corpus):
    """The character signature (one permutation, densified) estimates J like a full MinHash would."""
    import numpy as np

    from gristmill.dedup.lsh import OnePermHasher, band_keys

    docs, pairs = zh_corpus
    text = {d["id"]: d["text"] for d in docs}
    h = OnePermHasher(128)
    errors = []
    for a, b, _, ja, _ in pairs:
        sa = h.signature(shingle_hashes(text[a], units="chars"))
        sb = h.signature(shingle_hashes(text[b], units="chars"))
        errors.append(abs(float(np.mean(sa == sb)) - ja))
        if ja >= 0.72:  # 25 bands of 5 rows: P(candidate) >= 0.99 at J = 0.72
            keys = band_keys(np.stack([sa, sb]), 25, 5, salt=1)
            assert (keys[0] == keys[1]).any(), (a, ja)
    assert np.mean(errors) < 0.04 and max(errors) < 0.15


def test_punctuation_alone_does_not_make_a_copy():
    """Two different reviews with the same punctuation pattern share no character 5-gram of text."""
    a, b = "房间很干净，服务也很好。下次还来！", "早餐太简单，价格也偏贵。不会再来！"
    assert jaccard(shingle_hashes(a, units="chars"), shingle_hashes(b, units="chars")) < 0.1
    assert re.sub(r"\w", "", a) == re.sub(r"\w", "", b)
