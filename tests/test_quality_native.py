"""The C core of the quality step gives the Python reference's signals: on every document of the shared
English and Chinese data, on hand-picked tokenizer chunks and edge-case texts, and in a whole run."""

from __future__ import annotations

import gzip
import math
import os
import subprocess
import sys

import orjson
import pytest

from gristmill.steps.quality import FAMILIES, document_signals, reference_signals
from gristmill.text import native
from gristmill.text.words import _piece
from tests.conftest import SHARED, shared, tree_bytes, write_jsonl


def _read(path) -> list[str]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        return [orjson.loads(line)["text"] for line in f if line.strip()]


def _assert_same(text: str, lang: str, where: str = "") -> None:
    ref = reference_signals(text, lang)
    fast = native.document_signals(text, lang, FAMILIES)
    assert fast.keys() == ref.keys()
    for k, a in ref.items():
        b = fast[k]
        if a is None or b is None or isinstance(a, int):
            assert a == b, (where, k, a, b, text[:200])
        else:
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (where, k, a, b, text[:200])


def test_the_c_core_is_built():
    # the test environment installs with a C compiler; only GRISTMILL_PURE_PYTHON turns the core off
    assert native._qsignals is not None, "gristmill._qsignals was not built (pip install -e . needs a C compiler)"
    assert (not os.environ.get("GRISTMILL_PURE_PYTHON")) == native.AVAILABLE


FILES = sorted(p.name for p in (SHARED / "text_en").iterdir() if ".jsonl" in p.name) + sorted(
    p.name for p in (SHARED / "text_zh").iterdir() if ".jsonl" in p.name)


@pytest.mark.parametrize("name", FILES)
def test_same_signals_as_the_reference_on_shared_data(name):
    sub = "text_en" if (SHARED / "text_en" / name).exists() else "text_zh"
    texts = _read(shared(f"{sub}/{name}"))
    if len(texts) > 8000:  # the 40,000 short SMS: every k-th, so the suite stays fast (all of them outside it)
        texts = texts[:: len(texts) // 8000 + 1]
    langs = ["en"] if sub == "text_en" else ["zh", "en"]  # Chinese files also through the English rules
    for lang in langs:
        for i, t in enumerate(texts[:3000] if lang == "en" and sub == "text_zh" else texts):
            _assert_same(t, lang, f"{name}:{i}:{lang}")


CHUNKS = [
    "word", "word,", "(word)", '"quoted."', "end.", "Mr.", "Jan.", "a.", "U.S.", "e.g.,", "(8)", "8)", "8);", "x86",
    "20ft", "5G", "2019.", "don't", "dont", "Cannot", "cannot,", "Parent", "shouldnt.", "well-known",
    "side-by-side", "well--known", "2018-02-21", "-lpthread", "--", "-", "+", "+++--", "EC_GROUP", "foo_bar-baz",
    "a-1", "x-", "www.example.org", "https://x.org/a?b=1.", "a@b.co", "<a@b.co>", "...", "end...", "end…",
    "word):", "(AC_INIT):", "and/or", "w/o", "İstanbul,", "ΣΑΣ", "ΟΔΟΣ.", "ǅemal", "½", "²³", "Ⅻ",
    "«Guillemets»", "¿Qué?", "naïve-café", "x.format", "Resource.Specified", "3.14", "1,000", "#hashtag", "$5",
    "50%", "C++", ":)", ":-)", "<3", "…", "—", "中文。", "apt-get", "rock'n'roll", "dogs'", "it’s", "Σ.",
    "'re", "we're", "they’re", "x'y’s", "I'm", "'s", "rock'n'roll's", "isn't.", "(don't)", "D'Angelo", "a.b.",
    "a.b", "5-10", "1+2", "x^2", "2^10", "20°C", "a,b", "key=value", "a:b", "a<b", "Hello...world",
    "Hello…world", "one..two", "i.e.,", "Prof.", "St.)", "p.m.", "x.Y", "é.É", "((x))", "“Hi,”", "end.”", "::", "-x-",
    "~tilde", "a~b", "a–b", "a—b", "1–2", "ok:)", "(:", "20km.", "3rd", "v2.0", "C#", "F#.", "$HOME/x", "50k+",
    "http://x.y).", "www.x,", "ftp://a.b/c", "https://", "http://a@b.c", "www.", "www.a.", "https://x.org/a').",
    "(https://x.org/a)", "<john@x.org>", "john.doe+x@ex-ample.co.uk", "a@b", "x@y.z.", "@home", "2mm", "1a2m",
    "10am", "20kmh", "2.5GB", "5Pa", "7hPa,", "12T", "3x4m", "٣km", "Can't", "CANNOT", "DoNt", "Wouldnt!", "bfd/cache.c:",
    "I/O", "//", "+-", "+++--", "++-+", "+", "Clément", "x/Y", "a:b/c",
]


@pytest.mark.parametrize("chunk", CHUNKS)
def test_tokenizer_chunks(chunk):
    # the C side splits simple chunks itself and hands the rest to the cached Python rules
    for text in (chunk, f"The {chunk} and {chunk} again.\n{chunk.upper()} {chunk}"):
        _assert_same(text, "en", chunk)
    n = native.document_signals(chunk, "en", FAMILIES)["n_words"]
    assert n == len(_piece(chunk))


EDGE = [
    "", " ", "\n", "\n\n\n", "a", "\r\n", "one\r\ntwo\r\n\r\nthree", "x\x0by\x0cz\x1cw\x85v\u2028u\u2029t",
    "[1] Cited line with words.\nAnother [edit] line here too.\nA [citation needed] claim is made here.",
    "Text with [12] and [] markers [a] here.", "lorem ipsum dolor sit amet, consectetur.\nfunction() { return 1; }",
    "Please enable JavaScript to view this page.\nWe use cookies. See our Privacy Policy for more.",
    "Mr. Smith went to Washington. He said hi! Did he? Yes... No.\nU.S. Army is big. Ok.",
    "“Quoted.” Then more. 他说：“好。”然后走了！真的吗？是的。。\n好。。",
    ("long " * 300) + "x" * 1200 + " end.", "x" * 1500, "#" * 50 + "\n" + "..." * 20 + "\n• bullet\n- dash\n…",
    "𠀀𠀁𠀂 astral Han 𝟘𝟙 digits 😀 emoji.", "ÀÉÎ ÕÜ Straße İstanbul ΣΑΣ ΟΔΟΣ ǅ.", "\t  \u3000全角空格\u3000。 \n",
    "mail me: john.doe+x@example.co.uk, a@b, x@y.z, @@, a@@b.c, first.last@sub-domain.example.org.",
    "see https://a.b/c, http://x.y and www.z.org; https:// http//x www. ftp://q.r",
    "The cat sat on the mat the cat sat on the mat the cat sat on the mat the cat sat on the mat.",
    "今天天气很好。今天天气很好。今天天气很好。今天天气很好。今天天气很好。今天天气很好。",
    "這是繁體中文的句子，裡面有很多繁體字。\n这是简体。", "澳门新葡京 bet365 yabo 赌场 棋牌。",
    # URLs and e-mails at line ends and across line breaks; lines that are tables, code and options
    "go to http://a.b\nwww.c.d then e@f.gh\r\nhttp://x https://y.z/www.q http://h.i/http://j.k wwww.l.m\u2028www.n.o",
    "a | b | c\n|a|\n| |\nx = 1\nfoo_bar(x)\n  --opt  value\n\tname\tvalue here\ncol   one   two\nLorem [1] {x}.",
    "int main(void) {\n    return 0;\n}\n$ ls -la\n>>> print(x)\nusage: cmd [-h] [--all] (a|b)\nThe End.",
]


@pytest.mark.parametrize("text", EDGE)
@pytest.mark.parametrize("lang", ["en", "zh", "fr"])
def test_edge_texts(text, lang):
    _assert_same(text, lang)


def test_dispatch_uses_the_core():
    if native.AVAILABLE:
        native._setup()
        assert len(native._counts("One line.", "en")) == len(native.COUNTS)  # the C layout and its names
        assert len(native._counts("一行。", "zh")) == len(native.COUNTS)
        text = "A short text. It has two sentences!"
        assert document_signals(text, "en") == native.document_signals(text, "en", FAMILIES)


RECIPE = """
output:
  format: jsonl
  report: false
steps:
  - step: langid
  - step: quality
  - step: filter
    preset: [bilingual]
"""


def test_a_run_without_the_core_gives_the_same_output(tmp_path):
    rows = [{"id": f"en{i}", "text": t} for i, t in enumerate(_read(shared("text_en/c4_sample_shared.jsonl")))]
    rows += [{"id": f"zh{i}", "text": t}
             for i, t in enumerate(_read(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl")))]
    data = write_jsonl(tmp_path / "in.jsonl", rows)
    (tmp_path / "recipe.yaml").write_text(RECIPE)
    outs = {}
    for mode in ("native", "python"):
        env = {k: v for k, v in os.environ.items() if k != "GRISTMILL_PURE_PYTHON"}
        if mode == "python":
            env["GRISTMILL_PURE_PYTHON"] = "1"
        out = tmp_path / mode
        r = subprocess.run([sys.executable, "-m", "gristmill", "run", str(tmp_path / "recipe.yaml"), "--input",
                            str(data), "--output", str(out), "--workers", "1", "--quiet"],
                           env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        outs[mode] = tree_bytes(out)
    assert outs["native"] == outs["python"]
    assert outs["native"]  # something was written


def test_tokens_are_the_python_tokenizers():
    # every whitespace chunk of the shared English data, then seeded random chunks over the characters the
    # rules look at: the C tokenizer gives the same tokens as gristmill.text.words._tokens
    from gristmill.text.words import _tokens

    native._setup()
    tokens = native._qsignals.tokens
    chunks: set[str] = set()
    for p in sorted((SHARED / "text_en").iterdir()):
        if ".jsonl" in p.name:
            for t in _read(p):
                chunks.update(t.split())
    assert len(chunks) > 50_000
    for c in sorted(chunks):
        assert tokens(c) == _tokens(c), c
    import random

    rng = random.Random(7)
    alphabet = list("aAzZ09_-–—~.,;:!?'’\"“”()[]{}<>@/#$%&*+=^|°…ntsNT8Dw") + ["é", "É", "ß", "Σ", "中", "½", "²"]
    for _ in range(30_000):
        c = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9)))
        assert tokens(c) == _tokens(c), c


def test_script_counts_are_the_python_ones():
    import random

    from gristmill.text.scripts import _c_script_counts, script_counts_py

    assert _c_script_counts is not None or os.environ.get("GRISTMILL_PURE_PYTHON")
    if _c_script_counts is None:
        return
    texts = _read(shared("text_zh/manpages_zh_tw_shared_subset.jsonl.gz")) + _read(
        shared("text_en/c4_sample_shared.jsonl"))
    rng = random.Random(3)
    pool = "aZ中〇𠀀ぁアｱ가ᄀé1 \n,。ß"
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 12))) for _ in range(20_000)]
    for t in texts:
        assert _c_script_counts(t) == script_counts_py(t), t[:80]


def test_line_parts_are_the_python_ones():
    # the language-share line split of langid (CJK lines against word-like letters of the others)
    import random

    from gristmill.text.scripts import _c_line_parts, line_parts_py

    if _c_line_parts is None:
        assert os.environ.get("GRISTMILL_PURE_PYTHON")
        return
    texts = _read(shared("text_zh/manpages_zh_cn_shared.jsonl.gz")) + _read(
        shared("text_zh/debian_reference_zh_cn_shared.jsonl.gz")) + _read(shared("text_en/c4_sample_shared.jsonl"))
    rng = random.Random(16)
    pool = "aZ中〇𠀀ぁアｱ가ᄀé1 \n\t,。ß-:/()'’😀_"
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 16))) for _ in range(20_000)]
    for t in texts:
        for zmin in (0.3, 0.0, 1.0):
            assert _c_line_parts(t, zmin) == line_parts_py(t, zmin), t[:80]


def test_bias_term_counts_are_the_python_ones():
    import random
    from collections import Counter

    from gristmill.report import bias

    if bias._c_term_counts is None:
        assert os.environ.get("GRISTMILL_PURE_PYTHON")
        return
    cat = bias._CATEGORY["en"]
    texts = _read(shared("text_en/c4_sample_shared.jsonl"))
    rng = random.Random(5)
    texts += ["".join(rng.choice("heHEsmnoawi_1 .'é\n") for _ in range(rng.randint(0, 15))) for _ in range(20_000)]
    for t in texts:
        ref = Counter(w for w in map(str.lower, bias._ASCII_WORD.findall(t)) if w in cat)
        assert Counter(bias._c_term_counts(t, bias._TERMS_EN)) == ref, t[:80]
    assert bias.count_terms("He said she and HER sister met him; hehe, she's.", "en")["gender.female:she"] == 2


def test_cue_counts_are_the_regular_expressions():
    # spam cues (lower-cased, longest first) and the Chinese bias terms (with 其他 not counted as 他)
    import random
    from collections import Counter

    from gristmill.report import bias
    from gristmill.text.chinese import _cues_longest_first, spam_cue_count, spam_cues

    if native._qsignals is None:
        assert os.environ.get("GRISTMILL_PURE_PYTHON")
        return
    count = native._qsignals.count_cues
    pattern, cues = spam_cues()
    rng = random.Random(11)
    alphabet = "".join(sorted(set("".join(cues)))) + "其他她男人孩子 aYABObet365İΣ"
    texts = _read(shared("text_zh/chinesewebtext_cc2021_43_shared.jsonl"))
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(30_000)]
    for t in texts:
        assert spam_cue_count(t, None, count) == len(set(pattern.findall(t.lower()))), t[:80]
        zh = bias._TERMS_LONGEST_FIRST["zh"]
        assert Counter(count(t, zh, False, bias._NOT_AFTER)) == Counter(bias._PATTERNS["zh"].findall(t)), t[:80]
    assert count("İ yabo", _cues_longest_first(), True, {}) is None  # İ lower-cases to two characters


def test_random_texts_give_the_reference_signals():
    # seeded random mixes of the characters and pieces the rules look at, in both languages' rules
    import random

    rng = random.Random(13)
    pool = ["中", "文", "\r\n", "\r", "\n", "\x00", "😀", "e\u0301", " ", "\u3000", "\x0b", "\u2028", "a", "1", "。",
            "\t", "\x85", "ﾟ", "𠀀", "[1]", "他", "yabo", "İ", "Σ", "Mr.", "don't", "...", "—", "https://x.y", "#"]
    for _ in range(4000):
        t = "".join(rng.choice(pool) for _ in range(rng.randint(0, 24)))
        for lang in ("zh", "en"):
            _assert_same(t, lang, "random")


def test_results_do_not_depend_on_the_calls_before():
    # the core keeps its working memory between calls: a text's counts are the same after a long or a short one
    if not native.AVAILABLE:
        pytest.skip("no C core")
    native._setup()
    big = ("A line of prose that ends well. " * 40 + "\n") * 300 + "今天天气很好。" * 500
    texts = EDGE + [big, "short.", big[:5000], ""]
    first = {(t, lang): native._counts(t, lang) for lang in ("en", "zh") for t in texts}
    for lang in ("zh", "en"):
        for t in reversed(texts):
            assert native._counts(t, lang) == first[(t, lang)]
            assert native._counts(big, lang) == first[(big, lang)]


def test_a_call_inside_a_call_gets_its_own_memory():
    # the word recount of a cited line calls Python, which may call the core again (another thread, say)
    if not native.AVAILABLE:
        pytest.skip("no C core")
    native._setup()
    q, stops = native._qsignals, native._stop_hashes("en")
    inner = ("Another text with other words. " * 50 + "\n") * 20
    outer = ("A claim is made here [1] and more words follow it. " * 3 + "\n") * 40
    seen = []

    def recount(line: str) -> int:
        seen.append(q.signals(inner, False, None, stops, native._count_en, 0.5))
        return native._count_en(line)

    plain = q.signals(outer, False, None, stops, native._count_en, 0.5)
    assert q.signals(outer, False, None, stops, recount, 0.5) == plain
    assert seen and all(r == q.signals(inner, False, None, stops, native._count_en, 0.5) for r in seen)
