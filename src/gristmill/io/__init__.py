"""Readers and writers: JSONL (plain, .gz, .zst), Parquet and plain text, on any fsspec path."""
