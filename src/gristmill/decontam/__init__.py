"""Benchmark decontamination: an n-gram index of benchmark items and matching against documents."""
