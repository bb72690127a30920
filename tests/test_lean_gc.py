"""A run collects cyclic garbage less often (exec.local.lean_gc) and leaves the collector as it found it."""

from __future__ import annotations

import gc

from gristmill import run
from gristmill.exec.local import GC_GEN0, lean_gc
from tests.conftest import ROOT


def test_a_run_restores_the_collector_settings(tmp_path, monkeypatch):
    import gristmill.exec.local as local

    before = gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()
    during = []

    def task(*a, **kw):
        during.append((gc.get_threshold()[0], gc.get_freeze_count()))
        return run_task(*a, **kw)

    run_task = local.run_task
    monkeypatch.setattr(local, "run_task", task)
    m = run(inputs=[str(ROOT / "src/gristmill/resources/sample/zh_mixed.jsonl.gz")], output=str(tmp_path / "o"),
            workers=1, quiet=True)
    assert m["reconciled"] and m["counts"]["input"] > 0
    assert during and all(gen0 == GC_GEN0 and frozen > 0 for gen0, frozen in during)
    assert (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()) == before


def test_lean_gc_restores_on_error():
    before = gc.get_threshold(), gc.get_freeze_count()
    try:
        with lean_gc():
            assert gc.get_threshold()[0] >= GC_GEN0 and gc.get_freeze_count() > 0
            raise KeyError("x")
    except KeyError:
        pass
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
