"""Deduplication: exact (global, two-phase on disk); near-duplicate and substring methods follow."""
