"""The import structure of src/gristmill: layers point down, and no module or unit imports itself in a circle.

The layer table below is the one docs/architecture.md states. Every ``import``/``from ... import`` of a gristmill
module counts, at module level and inside functions (a lazy import is still a dependency); imports under
``if TYPE_CHECKING:`` do not (they never run). ``from a.b import c`` points at ``a.b.c`` when that is a module,
else at ``a.b``. Running a package's ``__init__`` on the way to a submodule is not counted as an edge.

Run it as a script for the full picture: ``python tests/test_architecture.py`` prints every cycle and every
upward import.
"""

from __future__ import annotations

import ast
import functools
import sys
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "gristmill"

# Lowest first. A module belongs to the unit with the longest matching prefix (``gristmill`` alone matches only
# the package's own __init__). A module may import its own layer and the layers below; units of one layer may
# import each other as long as they form no cycle.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("gristmill.errors", "gristmill.record", "gristmill.yamlguard", "gristmill.expr",
              "gristmill.conditions", "gristmill.version", "gristmill.sampling", "gristmill._qsignals")),
    # kernels: text analysis and input/output. Three modules sit apart from their package: the fine-tuning
    # record model (sft.sample, sft.formats, sft.validate: the JSONL reader checks fine-tuning records with it)
    # and dedup.shingles (n-gram shingles: the eval-set contamination check uses them too)
    ("kernels", ("gristmill.text", "gristmill.io", "gristmill.sft.sample", "gristmill.sft.formats",
                 "gristmill.sft.validate", "gristmill.dedup.shingles")),
    ("params", ("gristmill.params", "gristmill.presets")),
    # models: classifiers, tokenizers, proxy-model training, code files; sft.models loads local language models
    ("models", ("gristmill.classify", "gristmill.tokenize", "gristmill.train", "gristmill.code",
                "gristmill.sft.models")),
    ("contract", ("gristmill.contract",)),  # the step contract (steps.base re-exports it)
    ("features", ("gristmill.dedup", "gristmill.protect", "gristmill.decontam", "gristmill.select",
                  "gristmill.sft")),
    ("steps", ("gristmill.steps",)),
    ("recipe", ("gristmill.recipe", "gristmill.recipe_columns", "gristmill.recipe_check", "gristmill.recipe_docs")),
    ("report", ("gristmill.report",)),
    ("exec", ("gristmill.exec",)),
    # tools that run recipes: the Python API, the demo, ablations, annotation, sidecars, decontamination reports
    ("api", ("gristmill", "gristmill.demo", "gristmill.ablate", "gristmill.annotate", "gristmill.select.sidecar",
             "gristmill.select.calibrate", "gristmill.decontam.report")),
    ("cli", ("gristmill.cli", "gristmill.__main__")),
]


def modules(root: Path = SRC) -> dict[str, Path]:
    """Module name -> file, for the package's .py files and its compiled extensions."""
    out = {}
    for p in sorted(root.rglob("*")):
        if "__pycache__" in p.parts or not (p.suffix == ".py" or p.suffix == ".so"):
            continue
        parts = [*p.relative_to(root.parent).parts[:-1], p.name.split(".")[0]]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = p
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test):
            for m in n.body:
                skip.update(id(k) for k in ast.walk(m))
    return skip


def imports_of(name: str, source: str, known: set[str], is_package: bool) -> list[tuple[str, int, str]]:
    """(imported module, line, "module" or "function") for each gristmill import in ``source``."""
    tree = ast.parse(source)
    skip = _type_checking_nodes(tree)
    inner = {id(k) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
             for k in ast.walk(f) if k is not f}
    out = []
    for n in ast.walk(tree):
        if not isinstance(n, ast.Import | ast.ImportFrom) or id(n) in skip:
            continue
        targets = []
        if isinstance(n, ast.Import):
            targets = [a.name for a in n.names]
        else:
            base = n.module or ""
            if n.level:
                pkg = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join(pkg[: len(pkg) - n.level + 1] + ([n.module] if n.module else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in n.names]
        seen = set()
        for t in targets:
            if t != "gristmill" and not t.startswith("gristmill."):
                continue
            while t not in known and "." in t:
                t = t.rsplit(".", 1)[0]
            if t != name and t not in seen:
                seen.add(t)
                out.append((t, n.lineno, "function" if id(n) in inner else "module"))
    return out


@functools.cache
def _graph(root: Path) -> dict[str, list[tuple[str, int, str]]]:
    mods = modules(root)
    sources = {m: (p.read_text(encoding="utf-8") if p.suffix == ".py" else "") for m, p in mods.items()}
    return {m: imports_of(m, s, set(mods), mods[m].name == "__init__.py") for m, s in sources.items()}


def graph(root: Path = SRC, extra: dict[str, str] | None = None) -> dict[str, list[tuple[str, int, str]]]:
    """Module -> its gristmill imports; ``extra`` adds modules (name -> source text), for the self-tests."""
    g = dict(_graph(root))
    known = set(g) | set(extra or {})
    g.update({m: imports_of(m, s, known, False) for m, s in (extra or {}).items()})
    return g


def unit_of(module: str) -> str | None:
    best = None
    for _, prefixes in LAYERS:
        for p in prefixes:
            matches = module == p or (p != "gristmill" and module.startswith(p + "."))
            if matches and (best is None or len(p) > len(best)):
                best = p
    return best


LAYER_OF = {p: i for i, (_, prefixes) in enumerate(LAYERS) for p in prefixes}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack, on, out, counter = [], set(), [], 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def _cycle_text(comp: list[str], g: dict[str, list[tuple[str, int, str]]], of=lambda m: m) -> str:
    members = set(comp)
    links = sorted({f"{a} -> {b} (line {line}, {kind}-level)" for a, imps in g.items() if of(a) in members
                    for b, line, kind in imps if of(b) in members and of(a) != of(b)})
    return "cycle among " + ", ".join(comp) + ":\n      " + "\n      ".join(links)


def problems(g: dict[str, list[tuple[str, int, str]]]) -> dict[str, list[str]]:
    """{"unplaced", "module cycles", "unit cycles", "upward"}: one clear line (or block) per problem."""
    out: dict[str, list[str]] = {"unplaced": [], "module cycles": [], "unit cycles": [], "upward": []}
    unit = {m: unit_of(m) for m in g}
    out["unplaced"] = [f"{m}: no layer in tests/test_architecture.py LAYERS (and docs/architecture.md) holds it"
                       for m, u in sorted(unit.items()) if u is None]
    medges = {m: {b for b, _, _ in imps} for m, imps in g.items()}
    out["module cycles"] = [_cycle_text(c, g) for c in cycles(medges)]
    uedges: dict[str, set[str]] = defaultdict(set)
    for m, imps in g.items():
        for b, line, kind in imps:
            ua, ub = unit[m], unit.get(b)
            if ua is None or ub is None or ua == ub:
                continue
            uedges[ua].add(ub)
            if LAYER_OF[ub] > LAYER_OF[ua]:
                out["upward"].append(f"{m} (layer {LAYERS[LAYER_OF[ua]][0]}) imports {b} (layer "
                                     f"{LAYERS[LAYER_OF[ub]][0]}) at line {line}, {kind}-level")
    out["unit cycles"] = [_cycle_text(c, g, lambda m: unit.get(m)) for c in cycles(uedges)]
    return out


@pytest.fixture(scope="module")
def found() -> dict[str, list[str]]:
    return problems(graph())


def test_every_module_has_a_layer(found):
    assert not found["unplaced"], "place these modules in a layer:\n  " + "\n  ".join(found["unplaced"])


def test_no_import_cycles(found):
    bad = found["module cycles"] + found["unit cycles"]
    assert not bad, "import cycles:\n  " + "\n  ".join(bad)


def test_imports_point_down(found):
    assert not found["upward"], "imports that point up the layers:\n  " + "\n  ".join(found["upward"])


def test_the_docs_state_the_same_layers():
    doc = (SRC.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    diagram = doc.split("```\n", 1)[1].split("```", 1)[0]
    shown = [line.split()[0] for line in diagram.splitlines() if line[:1].isalpha()]
    assert shown == [name for name, _ in reversed(LAYERS)], "docs/architecture.md's diagram differs from LAYERS"


def test_the_graph_sees_real_imports():
    g = graph()
    assert ("gristmill.io.formats", "module") in {(b, k) for b, _, k in g["gristmill.io.paths"]}
    assert ("gristmill.text.signal_tables", "function") in {(b, k) for b, _, k in g["gristmill.text.native"]}
    assert ("gristmill._qsignals", "module") in {(b, k) for b, _, k in g["gristmill.text.core"]}  # the C core
    assert len(g) > 150 and sum(map(len, g.values())) > 500


def test_a_synthetic_upward_import_and_cycle_are_caught():
    """The checks can fail: a text kernel that reaches into a step (inside a function) is reported with its
    module, target and line, and so is the cycle it closes."""
    bad = graph(extra={"gristmill.text.leak": (
        '"""x"""\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from gristmill.cli import app\n\n'
        "def f():\n    from gristmill.steps.quality import FAMILIES\n    return FAMILIES\n"),
        "gristmill.text.loop_a": "from gristmill.text import loop_b\n",
        "gristmill.text.loop_b": "from . import loop_a\n"})
    p = problems(bad)
    assert any(line.startswith("gristmill.text.leak (layer kernels) imports gristmill.steps.quality (layer steps)"
                               " at line 7, function-level") for line in p["upward"]), p["upward"]
    assert not any("gristmill.cli" in line for line in p["upward"])  # TYPE_CHECKING imports do not count
    assert any("gristmill.text.loop_a, gristmill.text.loop_b" in c for c in p["module cycles"])
    assert any("gristmill.steps" in c and "gristmill.text" in c for c in p["unit cycles"])
    orphan = problems(graph(extra={"gristmill.nowhere": "import os\n"}))
    assert any(line.startswith("gristmill.nowhere:") for line in orphan["unplaced"])


if __name__ == "__main__":
    g = graph(Path(sys.argv[1]) if len(sys.argv) > 1 else SRC)
    n_edges = sum(len(v) for v in g.values())
    n_fn = sum(k == "function" for v in g.values() for _, _, k in v)
    print(f"{len(g)} modules, {n_edges} gristmill imports ({n_fn} inside functions)")
    for kind, lines in problems(g).items():
        print(f"{kind}: {len(lines)}")
        for line in lines:
            print("  " + line)
