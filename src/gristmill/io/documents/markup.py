"""Markdown and reStructuredText as plain text: kept as written, or with the markup stripped (headings'
``#`` and underlines, emphasis, links and images to their text, inline code to its content, directives,
comments, reference definitions, code fences and front matter removed; the words stay).

>>> strip_markdown("# Pipes\\n\\nA **named** pipe, see [fifo(7)](https://man7.org/fifo.7.html).")
'Pipes\\n\\nA named pipe, see fifo(7).'
>>> strip_rst("Pipes\\n=====\\n\\nA *named* pipe, see `fifo <https://man7.org>`_ and :manpage:`mkfifo(1)`.")
'Pipes\\n\\nA named pipe, see fifo and mkfifo(1).'
"""

from __future__ import annotations

import re

_FRONT = re.compile(r"\A(?:---\r?\n.*?\r?\n(?:---|\.\.\.)|\+\+\+\r?\n.*?\r?\n\+\+\+)\r?\n", re.S)
_MD_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_MD_SETEXT = re.compile(r"^ {0,3}(?:=+|-+)\s*$")
_MD_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_MD_REFDEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s+\S+.*$")
_MD_QUOTE = re.compile(r"^ {0,3}>\s?")
_MD_RULE = re.compile(r"^ {0,3}(?:[-*_]\s*){3,}$")
_MD_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])")
_AUTOLINK = re.compile(r"<((?:https?|mailto|ftp):[^>\s]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--.*?-->", re.S)
_CODE = re.compile(r"(`+)(.+?)\1", re.S)
_HELD = re.compile(r"\x00(\d+)\x00")
_EMPH = re.compile(r"(?<![\w*])(\*\*|__|\*|_|~~)(?=\S)(.+?)(?<=\S)\1(?![\w*])")

_RST_ADORN = re.compile(r"^([=\-`:'\"~^_*+#<>.])\1{2,}\s*$")
_RST_DIRECTIVE = re.compile(r"^(\s*)\.\.\s+(?:[\w:-]+::.*|\[[^\]]+\].*|_[^:]+:.*|\|[^|]+\|.*)?$")
_RST_ROLE = re.compile(r":[\w:+.-]+:`([^`]*?)(?:\s*<[^>]*>)?`")
_RST_LINK = re.compile(r"`([^`<]+?)\s*<[^>]*>`__?")
_RST_REF = re.compile(r"`([^`]+)`_{1,2}|\b(\w+)_\b")
_RST_LITERAL = re.compile(r"``(.+?)``")
_RST_INTERP = re.compile(r"`([^`]+)`")
_NOT_TEXT = {"toctree", "raw", "include", "meta", "contents", "image", "highlight", "index",
             "sectnum", "role", "default-role", "only", "literalinclude"}
_RST_FOOTREF = re.compile(r"\s?\[(?:#\w*|\*|\d+)\]_")


def _inline_md(para: str) -> str:
    """Inline markup of a paragraph (its lines joined by newlines, so spans may cross them); the content of
    code spans is kept as written (``<command>`` inside backticks is not a tag)."""
    codes: list[str] = []

    def hold(m: re.Match) -> str:
        codes.append(m.group(2).strip())
        return f"\x00{len(codes) - 1}\x00"

    para = _CODE.sub(hold, para)
    para = _IMAGE.sub(r"\1", para)
    para = _LINK.sub(r"\1", para)
    para = _AUTOLINK.sub(r"\1", para)
    para = _HTML_TAG.sub("", para)
    for _ in range(2):
        para = _EMPH.sub(r"\2", para)
    return _HELD.sub(lambda m: codes[int(m.group(1))], para)


def strip_markdown(text: str) -> str:
    """Markdown (CommonMark/GFM) as plain text; code blocks keep their code without the fences."""
    text = _FRONT.sub("", text, count=1)
    out: list[str] = []
    code: set[int] = set()    # indexes in ``out`` of code-block lines (kept as they are)
    fence = None
    for line in text.splitlines():
        m = _MD_FENCE.match(line)
        if fence:
            if m and m.group(1) == fence:
                fence = None
            else:
                code.add(len(out))
                out.append(line)
            continue
        if m:
            fence = m.group(1)
            continue
        if _MD_REFDEF.match(line) or _MD_TABLE_SEP.match(line) and "-" in line and "|" in line:
            continue
        if _MD_RULE.match(line) or (_MD_SETEXT.match(line) and out and out[-1].strip()):
            continue
        line = _MD_QUOTE.sub("", line)
        h = _MD_HEADING.match(line)
        if h:
            line = h.group(1)
        elif line.strip().startswith("|") and line.strip().endswith("|"):
            line = " | ".join(c.strip() for c in line.strip()[1:-1].split("|"))
        out.append(line.rstrip())
    done: list[str] = []
    para: list[str] = []
    for i, line in enumerate(out + [""]):
        if i in code or not line.strip():
            if para:
                done.extend(_inline_md("\n".join(para)).split("\n"))
                para = []
            done.append(line)
        else:
            para.append(line)
    return _squeeze(done[:-1])


def strip_rst(text: str) -> str:
    """reStructuredText as plain text: section adornments, comments and directive lines (``.. note::``,
    ``.. image::``, targets, substitutions) removed; roles, links and literals to their text."""
    out: list[str] = []
    skip_indent: int | None = None
    for line in text.splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if not stripped or indent > skip_indent:
                # directive options (":alt: …") and comment bodies are not text; directive content is
                if stripped and not stripped.startswith(":") and not out_is_comment(out):
                    out.append(line[skip_indent:].rstrip() if len(line) > skip_indent else stripped)
                continue
            skip_indent = None
        d = _RST_DIRECTIVE.match(line)
        if d:
            skip_indent = len(d.group(1))
            name = stripped[2:].split("::")[0].strip().lower() if "::" in stripped else None
            out.append("\x00directive" if name and name not in _NOT_TEXT else "\x00comment")
            continue
        if _RST_ADORN.match(line):
            continue
        if stripped.endswith("::"):
            line = line.rstrip()[:-1] if stripped != "::" else ""
        line = _RST_FOOTREF.sub("", line)
        line = _RST_ROLE.sub(r"\1", line)
        line = _RST_LINK.sub(r"\1", line)
        line = _RST_LITERAL.sub(r"\1", line)
        line = _RST_REF.sub(lambda m: m.group(1) or m.group(2), line)
        line = _RST_INTERP.sub(r"\1", line)
        for _ in range(2):
            line = _EMPH.sub(r"\2", line)
        out.append(line.rstrip())
    return _squeeze([ln for ln in out if not ln.startswith("\x00")])


def out_is_comment(out: list[str]) -> bool:
    """True while inside a comment (``..`` followed by indented text), whose body is not text."""
    for ln in reversed(out):
        if ln.startswith("\x00"):
            return ln == "\x00comment"
    return False


def _squeeze(lines: list[str]) -> str:
    """Lines joined, runs of blank lines reduced to one, no blank lines at the ends."""
    out: list[str] = []
    for ln in lines:
        if ln.strip() or (out and out[-1].strip()):
            out.append(ln if ln.strip() else "")
    return "\n".join(out).strip("\n")


def strip_markup(text: str, kind: str) -> str:
    """``kind``: ``markdown`` or ``rst``."""
    return strip_markdown(text) if kind == "markdown" else strip_rst(text)
