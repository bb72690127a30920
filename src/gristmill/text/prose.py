"""Which lines of a document are prose: code, option and definition lists, and tables are not.

Technical documentation mixes prose with code blocks, option lists and tables; signals written for web prose
(the share of words with a letter, lines ending in terminal punctuation, the Han share) count those lines
against the page. :func:`line_kinds` names the kind of every line of ``text.splitlines()`` from its shape
alone, in any language, so the ``prose_*`` quality signals can measure the prose:

- ``CODE``: a fenced block (```` ``` ```` or ``~~~``); a prompt (``>>>``, ``...``, ``$``, ``%``); a line
  ending in ``;`` ``{`` ``}``; a call or signature ending the line (``name(args)``, also before ``:``
  ``;`` ``{``); an assignment or operator after an identifier (``x = 1``, ``a -> b``, lines up to 120
  characters); a synopsis (at least 4 tokens, 30% of them options or brackets); a line of at most 12 tokens,
  half of them ASCII identifiers (``a_b``, ``::``, ``->``, camelCase, ``a.b``, ``f(x``, ``).``); and every line
  of a paragraph (lines between blank lines) where such lines are at least half.
- ``OPTION``: an option or definition list: a line starting with an option (``-a``, ``--all``,
  ``[-]parenb``, ``+x``, after an optional ``* ``), or a term at least as indented as the body text with a
  deeper-indented line right under it; and the lines indented under either (the description), as man pages
  and ``--help`` print them.
- ``TABLE``: cells separated by a tab, by two gaps of three or more spaces, or by ``|`` … ``|``.
- ``NO_LETTERS``: a line without a letter (numbers, rules, brackets) outside code.
- ``PROSE``: every other non-blank line (headings too); ``BLANK``: empty or white space.

The prose signals measure the ``MEASURED`` lines, prose and lines without letters: a list of numbers is not
technical text, and rules such as Gopher's share of words with a letter exist to catch it. The C core
(``gristmill._qsignals.line_kinds``) gives the same kinds as :func:`line_kinds_py`, the definition.

>>> page = "Sort a list:\\n\\n>>> sorted([3, 1])\\n[1, 3]\\n\\n  -r, --reverse\\n        sort in reverse\\n"
>>> [KIND_NAMES[k] for k in line_kinds(page)]
['prose', 'blank', 'code', 'code', 'blank', 'option', 'option']
"""

from __future__ import annotations

from gristmill.text.core import CORE
from gristmill.text.scripts import line_parts

BLANK, PROSE, CODE, OPTION, TABLE, NO_LETTERS = range(6)
KIND_NAMES = ("blank", "prose", "code", "option", "table", "no_letters")
MEASURED = (PROSE, NO_LETTERS)
OTHER_SCRIPT = 2  # line_languages: a line in a language of another script than Chinese (Latin, Cyrillic …)
ZH_MIN_HAN = 0.3  # line_languages: a line is Chinese (CJK) when this share of its language letters is CJK

_c_line_kinds = getattr(CORE, "line_kinds", None)
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_ASCII_DIGITS = frozenset("0123456789")
_OPERATORS = ("==", "!=", "<=", ">=", "->", "=>", ":=", "+=", "-=", "*=", "/=", "|=", "&=", "=")
_IDENT_CHARS = frozenset(".[]'\"")
_BRACKETS = frozenset("[]{}()|")


def line_kinds(text: str) -> bytes:
    """The kind of every line of ``text.splitlines()``, one byte each (``BLANK`` … ``NO_LETTERS``)."""
    if _c_line_kinds is not None:
        return _c_line_kinds(text)
    return line_kinds_py(text)


def line_languages(text: str) -> bytes:
    """The script part of every line of ``text.splitlines()`` as language ID weighs it
    (:func:`gristmill.text.scripts.line_parts`): 0 no language letters, 1 CJK, ``OTHER_SCRIPT``.
    Chinese rules measure the prose lines that are not ``OTHER_SCRIPT`` (the Chinese part of a page).

    >>> line_languages("安装软件包\\r\\nInstall the package.\\n2024")
    b'\\x01\\x02\\x00'
    """
    lines = text.splitlines()
    return line_parts("\n".join(lines), ZH_MIN_HAN)[5] if lines else b""


def _option(s: str) -> bool:
    """``s`` (stripped) starts with an option: ``-a``, ``--all``, ``[-]x``, ``+x``, after an optional ``* ``."""
    if len(s) > 1 and s[0] == "*" and s[1].isspace():
        s = s[1:].lstrip()
    if s.startswith("[-]"):
        rest = s[3:]
    elif s.startswith("--") and len(s) > 2 and _option_char(s[2]):
        return True
    elif s[:1] in ("-", "+"):
        rest = s[1:]
    else:
        return False
    return bool(rest) and _option_char(rest[0])


def _option_char(c: str) -> bool:
    return c.isalpha() or c.isnumeric() or c in "?@#"


def _table(s: str) -> bool:
    """Cells: an inner gap holding a tab, two inner gaps of 3+ white-space characters, or ``|`` … ``|``."""
    first, last = s.find("|"), s.rfind("|")
    if first != last and s[first + 1:last].strip():
        return True
    wide, i, n = 0, 0, len(s)
    while i < n:
        if s[i].isspace():
            j = i
            while j < n and s[j].isspace():
                j += 1
            if "\t" in s[i:j]:
                return True
            wide += j - i >= 3
            i = j
        else:
            i += 1
    return wide >= 2


def _call_at_end(s: str) -> bool:
    """``s`` ends (before one of ``:;{``) with ``name(args)``: args not only digits, ``name`` ending in
    ``[A-Za-z0-9_]``."""
    t = s[:-1].rstrip() if s[-1] in ":;{" else s
    if not t.endswith(")"):
        return False
    depth, i = 0, len(t) - 1
    while i >= 0:
        depth += (t[i] == ")") - (t[i] == "(")
        if depth == 0:
            break
        i -= 1
    if i <= 0 or not (t[i - 1] in _ASCII_ALNUM or t[i - 1] == "_"):
        return False
    return not all(c in _ASCII_DIGITS for c in t[i + 1:-1])


def _assignment(s: str) -> bool:
    """An operator (``=``, ``==``, ``->``, ``+=`` …) after an identifier that follows white space or starts the
    line, with something after it."""
    if "=" not in s and "->" not in s:
        return False
    n = len(s)
    for p in range(n):
        op = next((o for o in _OPERATORS if s.startswith(o, p)), None)
        if op is None:
            continue
        q = p + len(op)
        while q < n and s[q].isspace():
            q += 1
        if q == n:
            continue
        r = p
        while r > 0 and s[r - 1].isspace():
            r -= 1
        end = r
        while r > 0 and (s[r - 1].isalnum() or s[r - 1] == "_" or s[r - 1] in _IDENT_CHARS):
            r -= 1
        if r < end and (r == 0 or s[r - 1].isspace()) and (s[r].isalpha() or s[r] == "_"):
            return True
    return False


def _identifier(t: str) -> bool:
    """An ASCII token with ``a_b``, ``::``, ``->``, camelCase, ``a.b``, ``f(x`` (not ``f(1)``) or ``).`` (a token
    with Chinese in it is a clause that names a file or a function, not an identifier)."""
    if not t.isascii():
        return False
    if "::" in t or "->" in t or ")." in t:
        return True
    for k in range(1, len(t)):
        a, b = t[k - 1], t[k]
        if a in _ASCII_ALNUM and b == "_" and k + 1 < len(t) and t[k + 1] in _ASCII_ALNUM:
            return True
        if "a" <= a <= "z" and "A" <= b <= "Z":
            return True
        if a.isascii() and a.isalpha() and b == "." and k + 1 < len(t) and t[k + 1].isascii() and t[k + 1].isalpha():
            return True
        if (a in _ASCII_ALNUM or a == "_") and b == "(":
            j = k + 1
            while j < len(t) and t[j] in _ASCII_DIGITS:
                j += 1
            if j == len(t) or t[j] != ")":
                return True
    return False


def _synopsis_token(t: str) -> bool:
    return t.lstrip("[(").startswith("-") or all(c in _BRACKETS for c in t)


def _codeish(s: str) -> bool:
    """A stripped line that is code by its own shape."""
    if s[-1] in ";{}" or _call_at_end(s):
        return True
    for prompt in (">>>", "...", "$", "%"):
        if s.startswith(prompt) and (len(s) == len(prompt) or s[len(prompt)].isspace()):
            return True
    if len(s) <= 120 and _assignment(s):
        return True
    tokens = s.split()
    if len(tokens) >= 4 and sum(map(_synopsis_token, tokens)) * 10 >= 3 * len(tokens):
        return True
    return len(tokens) <= 12 and sum(map(_identifier, tokens)) * 2 >= len(tokens)


def line_kinds_py(text: str) -> bytes:
    """:func:`line_kinds` in Python (the definition the C core's is tested against)."""
    lines = text.splitlines()
    kinds = bytearray(len(lines))
    indents = [len(line) - len(line.lstrip()) if line.strip() else -1 for line in lines]
    body = _body_indent(lines, indents)
    fenced = False
    option_indent = -1  # indentation of the option or term whose description is running
    for i, line in enumerate(lines):
        s = line.strip()
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            kinds[i] = CODE
        elif fenced:
            kinds[i] = CODE if s else BLANK
        elif not s:
            kinds[i] = BLANK
        elif option_indent >= 0 and indents[i] > option_indent:
            kinds[i] = OPTION
        else:
            ind = option_indent = indents[i]
            if not any(c.isalpha() for c in s):
                kinds[i], option_indent = NO_LETTERS, -1
            elif _option(s) or (ind >= body and i + 1 < len(lines) and indents[i + 1] > ind):
                kinds[i] = OPTION
            elif _table(s):
                kinds[i], option_indent = TABLE, -1
            elif _codeish(s):
                kinds[i], option_indent = CODE, -1
            else:
                kinds[i], option_indent = PROSE, -1
    _code_paragraphs(kinds)
    return bytes(kinds)


def _body_indent(lines: list[str], indents: list[int]) -> int:
    """The indentation of the body text: the one with the most characters on lines with a letter (the
    smallest of a tie)."""
    mass: dict[int, int] = {}
    for line, d in zip(lines, indents, strict=True):
        if d >= 0 and any(c.isalpha() for c in line):
            mass[d] = mass.get(d, 0) + len(line) - d
    return min(mass, key=lambda d: (-mass[d], d)) if mass else 0


def _code_paragraphs(kinds: bytearray) -> None:
    """Every line of a paragraph (lines between blank lines) is code when at least half of its lines are."""
    i, n = 0, len(kinds)
    while i < n:
        if kinds[i] == BLANK:
            i += 1
            continue
        j = i
        while j < n and kinds[j] != BLANK:
            j += 1
        code = kinds[i:j].count(CODE)
        if code and code * 2 >= j - i:
            for k in range(i, j):
                if kinds[k] in (PROSE, NO_LETTERS):
                    kinds[k] = CODE
        i = j
