"""``url_filter``: block- and allow-lists of domains (a domain covers its subdomains), URL patterns, and a
soft word list with a threshold; plus the URL normalisation that ``exact_dedup``'s ``url`` key uses.

>>> normalise_url("HTTP://www.Example.com:80/a/b/?utm_source=x&b=2&a=1#top")
'http://example.com/a/b?a=1&b=2'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa

from gristmill.errors import GristmillError
from gristmill.params import param
from gristmill.steps.base import Result, Step, register
from gristmill.text.urls import normalise_url  # noqa: F401 - its old home (exact_dedup, tests)


def host_of(url: str) -> str:
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def _load_list(items: list[str]) -> list[str]:
    """Entries, where an entry naming an existing file contributes that file's lines (# comments allowed)."""
    out = []
    for it in items:
        p = Path(it)
        if p.suffix in (".txt", ".list") or p.exists():
            if not p.exists():
                raise GristmillError(f"list file not found: {it}")
            out += [ln.strip().lower() for ln in p.read_text(encoding="utf-8").splitlines()
                    if ln.strip() and not ln.lstrip().startswith("#")]
        else:
            out.append(it.strip().lower())
    return out


def _domain_match(host: str, domains: set[str]) -> str | None:
    parts = host.split(".")
    for i in range(len(parts)):
        d = ".".join(parts[i:])
        if d in domains:
            return d
    return None


@dataclass
class UrlFilterParams:
    field: str = param("url", "column or input field holding the URL")
    block_domains: list[str] = param([], "domains (or files of domains) to reject, subdomains included")
    allow_domains: list[str] = param([], "if set, only these domains (and subdomains) are kept")
    block_patterns: list[str] = param([], "regular expressions; a URL matching one is rejected")
    soft_words: list[str] = param([], "words (or files of words) counted in the URL, e.g. casino, porn")
    soft_threshold: int = param(2, "reject URLs holding at least this many soft words", min=1)


@register
class UrlFilter(Step):
    """Reject documents by URL: domain block/allow lists, patterns, soft word counts."""

    name = "url_filter"
    Params = UrlFilterParams
    reads_input_fields = True

    def __init__(self, params: UrlFilterParams, label: str | None = None) -> None:
        super().__init__(params, label)
        self.block = set(_load_list(params.block_domains))
        self.allow = set(_load_list(params.allow_domains))
        try:
            self.patterns = [re.compile(x) for x in params.block_patterns]
        except re.error as e:
            raise GristmillError(f"bad URL pattern: {e}") from None
        self.soft = _load_list(params.soft_words)

    def process(self, table: pa.Table, resolve=None) -> Result:
        p: UrlFilterParams = self.params
        col = table.column(p.field) if p.field in table.column_names else resolve(p.field)
        urls = col.to_pylist()
        reject = np.zeros(len(urls), dtype=bool)
        reasons, details = [], []
        for i, url in enumerate(urls):
            why = None
            if not url:
                why = ("no_url", f"no {p.field}") if self.allow else None
            else:
                host, low = host_of(url), url.lower()
                if self.block and (d := _domain_match(host, self.block)):
                    why = ("blocked_domain", d)
                elif self.allow and not _domain_match(host, self.allow):
                    why = ("not_allowed_domain", host)
                elif any(r.search(url) for r in self.patterns):
                    why = ("blocked_pattern", next(r.pattern for r in self.patterns if r.search(url)))
                elif self.soft:
                    hits = [w for w in self.soft if w in low]
                    if len(hits) >= p.soft_threshold:
                        why = ("soft_words", ", ".join(hits))
            if why:
                reject[i] = True
                reasons.append(why[0])
                details.append(why[1])
        return Result(table, reject, reasons, details)
