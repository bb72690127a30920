"""Reports: the terminal summary, and the self-contained HTML data report of a run or of any dataset.

``profile`` collects mergeable statistics as data flows; ``analysis`` turns a manifest and a profile into
the report's numbers; ``page`` and ``svg`` draw them; ``analyze`` profiles a dataset without a run.
"""

from gristmill.report.run_report import report_for_run, write_run_report

__all__ = ["report_for_run", "write_run_report"]
