"""Readers and writers: JSONL (plain, .gz, .zst), Parquet and plain text, on any fsspec path."""

SHARD_SIZE = 128 * 10**6  # the default input.shard_size (here: the executor reads it before any heavy import)
