"""``extract``: main text from HTML, ``fast`` (Resiliparse) or ``precise`` (trafilatura), each page in a
worker process that is killed when it runs past ``timeout`` seconds (the page is rejected as ``timeout``).

Chinese pages keep their text: neither mode uses a stop-word (jusText-style) classifier, and ``fast`` falls
back to the whole visible text when the main-content heuristic keeps too little of it.
"""

from __future__ import annotations

import multiprocessing as mp
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa

from gristmill.params import param
from gristmill.steps.base import Result, Step, register, text_column, with_column

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LANG = re.compile(r"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z_-]+)", re.I)


def extract_fast(html: str) -> tuple[str, str | None]:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(html)
    main = extract_plain_text(tree, main_content=True, alt_texts=False, comments=False)
    if len(main) < 200:  # link-list and some Chinese layouts: keep the visible text instead
        full = extract_plain_text(tree, main_content=False, alt_texts=False, comments=False, noscript=False)
        if len(full) > 2 * len(main):
            main = full
    title = tree.title or None
    return trim_tail(main.strip()), title


def trim_tail(text: str, long: int = 100, short: int = 60) -> str:
    """Drop a tail made only of short lines after the last long paragraph (tags, share and comment prompts,
    footers): the boilerplate Resiliparse's main-content pass most often keeps.

    >>> len(trim_tail("A" * 120 + chr(10) + "Tags: news, sport" + chr(10) + "Leave a reply"))
    120
    """
    lines = text.split("\n")
    last = max((i for i, ln in enumerate(lines) if len(ln) >= long), default=None)
    if last is None or last == len(lines) - 1:
        return text
    if all(len(ln) < short for ln in lines[last + 1:]):
        return "\n".join(lines[:last + 1])
    return text


def extract_precise(html: str) -> tuple[str, str | None]:
    """trafilatura with its defaults; for Chinese pages its recall-oriented setting (the default drops
    Chinese paragraphs it judges short); the fast extractor when trafilatura finds nothing."""
    import trafilatura

    if len(_HAN.findall(html[:200_000])) > 200:
        text = trafilatura.extract(html, favor_recall=True, include_tables=True)
    else:
        text = trafilatura.extract(html)
    if not text:
        text, _ = extract_fast(html)
    m = _TITLE.search(html)
    return (text or "").strip(), (re.sub(r"\s+", " ", m.group(1)).strip() if m else None)


def _serve(conn, mode: str) -> None:  # pragma: no cover - runs in the child process
    fn = extract_fast if mode == "fast" else extract_precise
    while True:
        html = conn.recv()
        if html is None:
            return
        try:
            conn.send(("ok", *fn(html)))
        except Exception as e:  # noqa: BLE001
            conn.send(("error", f"{type(e).__name__}: {e}", None))


class TimeoutExtractor:
    """Extraction in a child process; a page that takes longer than ``timeout`` kills and replaces it."""

    def __init__(self, mode: str, timeout: float) -> None:
        self.mode, self.timeout = mode, timeout
        self.proc = None

    def _start(self) -> None:
        ctx = mp.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, self.mode), daemon=True)
        self.proc.start()

    def __call__(self, html: str) -> tuple[str, str | None, str | None]:
        """(status, text or error, title): status is ok, error or timeout."""
        if self.proc is None or not self.proc.is_alive():
            self._start()
        self.conn.send(html)
        if self.conn.poll(self.timeout):
            return self.conn.recv()
        self.proc.kill()
        self.proc.join()
        self.proc = None
        return ("timeout", f"extraction ran past {self.timeout} s", None)

    def close(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.conn.send(None)
            self.proc.join(1)
            if self.proc.is_alive():
                self.proc.kill()


@dataclass
class ExtractParams:
    mode: Literal["fast", "precise"] = param("fast", "fast: Resiliparse main content (bulk); precise: trafilatura")
    timeout: float = param(20.0, "seconds one page may take; slower pages are rejected as timeout", min=0.1)
    min_chars: int = param(1, "reject pages whose extracted text is shorter", min=0)
    keep_html: bool = param(False, "keep the page in an html column")


@register
class Extract(Step):
    """Main-content extraction from HTML (fast: Resiliparse, precise: trafilatura) with a per-page timeout."""

    name = "extract"
    Params = ExtractParams
    requires = {"resiliparse": "web"}
    outputs = ("text", "title", "html_lang")

    @classmethod
    def requirements(cls, params) -> dict[str, str]:
        req = {"resiliparse": "web"}
        if params is not None and params.mode == "precise":
            req["trafilatura"] = "web"
        return req

    def columns(self) -> list[str]:
        return ["title", "html_lang"] + (["html"] if self.params.keep_html else [])

    def setup(self) -> None:
        self.worker = TimeoutExtractor(self.params.mode, self.params.timeout)

    def process(self, table: pa.Table) -> Result:
        p: ExtractParams = self.params
        pages = text_column(table)
        texts, titles, langs = [], [], []
        reject = np.zeros(len(pages), dtype=bool)
        reasons, details = [], []
        for i, html in enumerate(pages):
            status, text, title = self.worker(html)
            m = _LANG.search(html[:4096])
            langs.append(m.group(1).lower() if m else None)
            titles.append(title)
            if status != "ok":
                texts.append("")
                reject[i] = True
                reasons.append(status)
                details.append(text)
            elif len(text) < p.min_chars:
                texts.append(text)
                reject[i] = True
                reasons.append("empty")
                details.append(f"{len(text)} characters extracted")
            else:
                texts.append(text)
        if p.keep_html:
            table = with_column(table, "html", pa.array(pages, pa.string()))
        table = with_column(table, "text", pa.array(texts, pa.string()))
        table = with_column(table, "title", pa.array(titles, pa.string()))
        table = with_column(table, "html_lang", pa.array(langs, pa.string()))
        return Result(table, reject, reasons, details)
