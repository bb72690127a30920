"""Readers and writers: JSONL (plain, .gz, .zst), Parquet and plain text, on any fsspec path."""

# input.shard_size "auto" (the default; the executor reads these before any heavy import): the inputs' total
# size over SHARD_TARGET shards, at least SHARD_MIN and at most SHARD_SIZE bytes per shard
SHARD_SIZE = 128 * 10**6
SHARD_MIN = 16 * 10**6
SHARD_TARGET = 256
# and the plan's last part, when it is a byte range of at least SHARD_TAIL_MIN, is cut into pieces of these
# shares: the smallest tasks run last in every stage, so a stage's tail is short whatever its content costs
SHARD_TAIL = (4, 2, 1, 1)
SHARD_TAIL_MIN = 8 * 10**6


def auto_shard_size(total: int) -> int:
    """The shard size ``input.shard_size: auto`` takes for inputs of ``total`` bytes: enough shards that 64
    workers get 4 each (a stage's tail is at most one short task), none smaller than 16 MB (a task's fixed
    cost, about 10 ms of CPU and its files synced, stays near 1%) nor larger than 128 MB. It depends on the
    inputs only, never on the worker count: the same recipe writes the same files on 1 or 64 workers.

    >>> auto_shard_size(150 * 10**6), auto_shard_size(10 * 10**9), auto_shard_size(10**12)
    (16000000, 39062500, 128000000)
    """
    return max(SHARD_MIN, min(SHARD_SIZE, -(-total // SHARD_TARGET)))
