"""A judge for annotation tests and benchmarks: an OpenAI-compatible server on loopback whose scores follow a
known hidden rule over the text it is shown, plus the real documents it is tested on.

The rule is a weighted mix of measurable properties, standardised on the corpus, with seeded noise, rounded
to a whole score from 0 to 5. English: the share of stop words among words (+), of number tokens (-), of
sentence-ending punctuation (+). Chinese: the share of function characters among Han characters (+), of
Latin letters and digits among all characters (-), of Chinese punctuation (+). Replies vary their format
(``Score: N``, ``**Educational score: N/5**``, JSON, ``评分：N`` with full-width digits) and a few hold no
score, as real judges' do. ``answered`` counts the answers per request (the client's cache key).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from tests.conftest import read_jsonl, shared

_STOP = ("the a an of to and or in on is are was were be been it this that for with as by at from not "
         "but which who can will would their there they he she we you his her its than then so if")
STOP_EN = set(_STOP.split())
FUNC_ZH = set("的了是在和也就都而及与着或把被之所以其这那个们中为对从到上下但并且如果因为所以可以")
PUNCT_ZH = set("，。！？、；：“”（）《》")
_EN_TOK = re.compile(r"[A-Za-z]+|\d+(?:[.,]\d+)*|[^\sA-Za-z\d]")
WEIGHTS = {"en": (1.0, -0.7, 0.6), "zh": (1.0, -0.7, 0.6)}
NOISE = 0.3          # standard deviation of the noise, in score points
SPREAD = 1.1         # score points per standard deviation of the weighted mix


def properties(text: str, lang: str) -> np.ndarray:
    if lang == "zh":
        chars = [c for c in text if not c.isspace()]
        han = [c for c in chars if "\u4e00" <= c <= "\u9fff"]
        n = max(len(chars), 1)
        return np.array([sum(c in FUNC_ZH for c in han) / max(len(han), 1),
                         sum(c.isascii() and c.isalnum() for c in chars) / n,
                         sum(c in PUNCT_ZH for c in chars) / n])
    toks = _EN_TOK.findall(text)
    n = max(len(toks), 1)
    words = [t for t in toks if t.isalpha()]
    return np.array([sum(w.lower() in STOP_EN for w in words) / max(len(words), 1),
                     sum(t[0].isdigit() for t in toks) / n,
                     sum(t in ".!?" for t in toks) / n])


def lang_of(text: str) -> str:
    han = sum("\u4e00" <= c <= "\u9fff" for c in text)
    letters = sum(c.isalpha() for c in text)
    return "zh" if letters and han / letters >= 0.3 else "en"


class Rule:
    """The hidden rule, standardised on ``texts`` (per language)."""

    def __init__(self, docs: list[dict]) -> None:
        self.stats = {}
        for lang in ("en", "zh"):
            P = np.array([properties(d["text"], lang) for d in docs if d["lang"] == lang])
            self.stats[lang] = (P.mean(0), P.std(0) + 1e-9)

    def value(self, text: str, lang: str | None = None) -> float:
        """The noiseless score (continuous)."""
        lang = lang or lang_of(text)
        mu, sd = self.stats[lang]
        z = (properties(text, lang) - mu) / sd
        return 2.5 + SPREAD * float(np.dot(WEIGHTS[lang], z)) / np.linalg.norm(WEIGHTS[lang])

    def score(self, text: str, lang: str | None = None) -> int:
        h = int(hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12], 16)
        noise = np.random.default_rng(h).normal(0, NOISE)
        return int(np.clip(np.rint(self.value(text, lang) + noise), 0, 5))


def reply(text: str, score: int, lang: str, h: int) -> str:
    """A judge's reply in one of several formats (a few with no score at all)."""
    if h % 50 == 0:
        return "I cannot rate this extract." if lang == "en" else "无法评价这段文字。"
    if lang == "zh":
        digit = str(score) if h % 2 else chr(0xFF10 + score)  # half of them full-width
        return f"理由：这段文字的内容{'较为连贯' if score >= 3 else '比较零散'}。\n评分：{digit}"
    k = h % 3
    if k == 0:
        return f"Reasons: the extract is {'coherent' if score >= 3 else 'fragmentary'}.\nScore: {score}"
    if k == 1:
        return f"The text was judged on five criteria; it meets {score}.\n**Educational score: {score}/5**"
    return json.dumps({"reason": "judged by the rubric", "score": score})


def document_of(prompt: str) -> str:
    m = re.search(r"<document>\n(.*)\n</document>", prompt, re.S)
    return m.group(1) if m else prompt


def make_judge(rule: Rule, delay: float = 0.0, fail_every: int = 0) -> ThreadingHTTPServer:
    """The judge on a free loopback port (serve it from a thread); ``fail_every`` > 0 answers the first
    attempt of every such request with 429, ``delay`` seconds per answer."""
    answered: Counter = Counter()
    refused: set = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def _send(self, code: int, obj: dict, headers: dict | None = None) -> None:
            body = json.dumps(obj, ensure_ascii=False).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self._headers_buffer.append(b"\r\n" + body)  # one write: no Nagle / delayed-ACK stall
            self.flush_headers()

        def do_POST(self):  # noqa: N802
            from gristmill.sft.client import request_key

            raw = self.rfile.read(int(self.headers["Content-Length"]))
            body = json.loads(raw)
            key = request_key(body)  # the client's cache key of this request
            h = int(key[:12], 16)
            with lock:
                if fail_every and h % fail_every == 0 and key not in refused:
                    refused.add(key)
                    return self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})
            prompt = body["messages"][-1]["content"]
            text = document_of(prompt)
            lang = lang_of(text)
            content = reply(text, rule.score(text, lang), lang, h)
            if delay:
                time.sleep(delay)
            with lock:
                answered[key] += 1
            self._send(200, {"id": "j-" + key[:12], "object": "chat.completion", "model": body.get("model"),
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                          "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(content) // 4}})

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # the default 5 drops connections beyond it: the client waits 1 s to retry

    srv = Server(("127.0.0.1", 0), Handler)
    srv.answered = answered
    return srv


def _chunks(text: str, size: int = 1500, least: int = 200) -> list[str]:
    """Paragraph-aligned pieces of about ``size`` characters (shorter pieces than ``least`` dropped)."""
    out, cur = [], ""
    for para in re.split(r"\n\s*\n|\n", text):
        para = para.strip()
        if not para:
            continue
        if cur and len(cur) + len(para) > size:
            out.append(cur)
            cur = ""
        cur = (cur + "\n" + para) if cur else para[:size * 2]
    if cur:
        out.append(cur)
    return [c for c in out if len(c) >= least]


EN_SOURCES = ["text_en/c4_sample_shared.jsonl", "text_en/dolma_cc_samples.jsonl",
              "text_en/datajuicer_mixed_web_shared.jsonl", "text_en/debian_reference_en_shared.jsonl.gz",
              "text_en/python311_doc_shared.jsonl.gz"]
ZH_SOURCES = ["text_zh/chinesewebtext_cc2021_43_shared.jsonl", "text_zh/manpages_zh_cn_shared.jsonl.gz",
              "text_zh/debian_reference_zh_cn_shared.jsonl.gz", "text_zh/chnsenticorp_hotel_reviews.jsonl.gz"]


def corpus(per_source: int = 400) -> list[dict]:
    """Real English and Chinese documents (pieces of pages, and whole reviews) as ``{id, text, lang, source}``,
    at most ``per_source`` from each file."""
    docs = []
    for lang, files in (("en", EN_SOURCES), ("zh", ZH_SOURCES)):
        for rel in files:
            src = rel.split("/")[1].split(".")[0]
            k = 0
            for r in read_jsonl(shared(rel)):
                pieces = [r["text"]] if "hotel" in rel else _chunks(r["text"])
                for j, t in enumerate(pieces):
                    if k >= per_source or lang_of(t) != lang or len(t) < 40:
                        continue
                    docs.append({"id": f"{src}-{r.get('id', k)}-{j}", "text": t, "lang": lang, "source": src})
                    k += 1
    return docs
