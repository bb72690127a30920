"""The built-in chat-template renderer: Jinja2's immutable sandbox set up the way ``transformers`` sets it up for
``apply_chat_template``, with bounds on time and size.

transformers' semantics: ``trim_blocks`` and ``lstrip_blocks`` on; ``break``/``continue``; ``{% generation %}``
blocks, whose character ranges are returned (the assistant mask); ``tojson`` with ``ensure_ascii=False`` and its
``indent``, ``separators`` and ``sort_keys`` options; ``raise_exception(msg)``; ``strftime_now(fmt)``; ``dict``; a
``namespace`` that refuses underscore names.

Bounds (:class:`Limits`, shared by every render of one record inside :func:`budget`): ``time_limit`` seconds,
checked on every loop iteration, call, operator and output block; ``max_chars`` for the output and for every
string or list a template builds (``*``, ``+``, ``**``, string methods, namespace assignments). A template that
runs past them raises :class:`RenderLimit`; one that fails (``raise_exception``, a type error …)
:class:`TemplateRejected`.

>>> t = compile_template("{% for m in messages %}{{ m.role }}: {{ m.content | tojson }}\\n{% endfor %}")
>>> t.render({"messages": [{"role": "user", "content": "你好"}]})
('user: "你好"\\n', [])
>>> t = compile_template("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
...                      Limits(time_limit=0.2))
>>> t.render({})
Traceback (most recent call last):
...
gristmill.sft.jinja_env.RenderLimit: template rendering took longer than 0.2 s (time limit)
"""

from __future__ import annotations

import contextvars
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment


@dataclass(frozen=True)
class Limits:
    time_limit: float = 10.0     # seconds per record (all the renders of one record together)
    max_chars: int = 4_000_000   # longest rendered text, and longest string or list a template may build


class TemplateRejected(ValueError):
    """The template refused the record (its ``raise_exception``, or an error while rendering)."""


class RenderLimit(TemplateRejected):
    """Rendering went past a limit of :class:`Limits`."""


@dataclass
class _Budget:
    limits: Limits
    deadline: float

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise RenderLimit(f"template rendering took longer than {self.limits.time_limit:g} s (time limit)")

    def size(self, n: int, what: str = "a value") -> None:
        if n > self.limits.max_chars:
            raise RenderLimit(f"template built {what} of {n:,} characters or items, over the limit of "
                              f"{self.limits.max_chars:,} (max_chars)")


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("gristmill_template_budget", default=None)
_TRACK: contextvars.ContextVar[list | None] = contextvars.ContextVar("gristmill_generation_track", default=None)


@contextmanager
def budget(limits: Limits):
    """Share one time budget among the renders inside (a record's text and its loss-span prefixes)."""
    if _BUDGET.get() is not None:
        yield
        return
    token = _BUDGET.set(_Budget(limits, time.monotonic() + limits.time_limit))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def _sized(v) -> int | None:
    return len(v) if isinstance(v, str | list | tuple | dict) else None


def _growth(obj, args) -> int | None:
    """Length of the result of a string method that can grow its input, computed before calling it."""
    s, name = getattr(obj, "__self__", None), getattr(obj, "__name__", "")
    if not isinstance(s, str):
        return None
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        n = s.count(args[0]) if args[0] else len(s) + 1
        if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
            n = min(n, args[2])
        return len(s) + n * (len(args[1]) - len(args[0]))
    if name in ("center", "ljust", "rjust", "zfill") and args and isinstance(args[0], int):
        return max(len(s), args[0])
    if name == "expandtabs":
        return len(s) + s.count("\t") * (args[0] if args and isinstance(args[0], int) else 8)
    if name == "join" and args and isinstance(args[0], list | tuple):
        return sum(len(x) if isinstance(x, str) else 0 for x in args[0]) + len(s) * len(args[0])
    return None


class _Env(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+"})

    def call_binop(self, context, operator, left, right):
        b = _BUDGET.get()
        if b is not None:
            b.tick()
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if _sized(seq) is not None and isinstance(n, int):
                        b.size(len(seq) * n, "a repeated string or list")
            elif operator == "+" and _sized(left) is not None and _sized(right) is not None:
                b.size(len(left) + len(right), "a string or list")
            elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
                b.size(right * max(left.bit_length(), 1) // 3, "a number with digits")
        return super().call_binop(context, operator, left, right)

    def call(self, context, obj, /, *args, **kwargs):
        b = _BUDGET.get()
        if b is not None:
            b.tick()
            grown = _growth(obj, args)
            if grown is not None:
                b.size(grown, "a string")
        out = super().call(context, obj, *args, **kwargs)
        if b is not None and (n := _sized(out)) is not None:
            b.size(n)
        return out


class _Generation(jinja2.ext.Extension):
    """``{% generation %}…{% endgeneration %}``: records where its output lands, as transformers does."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_mark"), [], [], body).set_lineno(lineno)

    def _mark(self, caller) -> str:
        rv = caller()
        track = _TRACK.get()
        if track is not None:  # [characters yielded so far, spans]
            track[1].append((track[0], track[0] + len(rv)))
        return rv


def _loop_guard(iterable):
    b = _BUDGET.get()
    for k, x in enumerate(iterable):
        if b is not None and not k & 255:
            b.tick()
        yield x


def _tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def _strftime_now(fmt):
    return datetime.now().strftime(fmt)


class _TemplateDict:
    def __call__(self, *args, **kwargs):
        return dict(*args, **kwargs)

    def fromkeys(self, *args, **kwargs):
        return dict.fromkeys(*args, **kwargs)


class _Namespace(jinja2.utils.Namespace):
    def __init__(*args, **kwargs):  # Jinja's signature trick, so that namespace(self=...) works
        self, args = args[0], args[1:]
        attrs = dict(*args, **kwargs)
        for name, value in attrs.items():
            _Namespace._check(name, value)
        jinja2.utils.Namespace.__init__(self, attrs)

    def __setitem__(self, name, value):
        _Namespace._check(name, value)
        jinja2.utils.Namespace.__setitem__(self, name, value)

    @staticmethod
    def _check(name, value):
        if isinstance(name, str) and name.startswith("_"):
            raise jinja2.exceptions.SecurityError(
                f"Chat templates cannot store underscore-prefixed attributes on a namespace, but got {name!r}. "
                "Please rename the attribute.")
        b = _BUDGET.get()
        if b is not None and (n := _sized(value)) is not None:
            b.size(n)


def _environment() -> _Env:
    env = _Env(trim_blocks=True, lstrip_blocks=True, extensions=[_Generation, jinja2.ext.loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals.update(raise_exception=_raise_exception, strftime_now=_strftime_now, dict=_TemplateDict(),
                       namespace=_Namespace, gristmill_loop_guard=_loop_guard)
    return env


class CompiledTemplate:
    """A chat template compiled once; :meth:`render` gives the text and the ``{% generation %}`` spans."""

    def __init__(self, source: str, limits: Limits = Limits()) -> None:
        self.limits = limits
        env = _environment()
        ast = env.parse(source)
        for loop in ast.find_all(jinja2.nodes.For):  # every loop ticks the time budget
            guard = jinja2.nodes.Name("gristmill_loop_guard", "load")
            loop.iter = jinja2.nodes.Call(guard, [loop.iter], [], None, None)
            loop.iter.set_lineno(loop.lineno).set_environment(env)
        self.template = env.from_string(ast)

    def render(self, variables: dict) -> tuple[str, list[tuple[int, int]]]:
        with budget(self.limits):
            b = _BUDGET.get()
            track = [0, []]
            token = _TRACK.set(track)
            parts = []
            try:
                for block in self.template.generate(**variables):
                    parts.append(block)
                    track[0] += len(block)
                    b.tick()
                    b.size(track[0], "an output")
            except TemplateRejected:
                raise
            except MemoryError:
                raise RenderLimit("template rendering ran out of memory") from None
            except RecursionError:
                raise TemplateRejected("template recursion too deep") from None
            except Exception as e:  # noqa: BLE001 - whatever the template raises rejects this record only
                raise TemplateRejected(_message(e)) from None
            finally:
                _TRACK.reset(token)
            return "".join(parts), track[1]


def _message(e: Exception) -> str:
    msg = str(e) or type(e).__name__
    return msg if isinstance(e, jinja2.exceptions.TemplateError) else f"{type(e).__name__}: {msg}"


def compile_template(source: str, limits: Limits = Limits()) -> CompiledTemplate:
    """Compile a chat template; a syntax error raises :class:`jinja2.TemplateSyntaxError` with its line."""
    return CompiledTemplate(source, limits)
