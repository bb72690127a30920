"""Training throughput of a preset: gristmill's trainer vs a plain PyTorch loop of the same model, in one run.

    python bench/train_speed.py [--preset cpu-tiny] [--rounds 4] [--steps 20] [--device auto]

Both train the same GPT class (the preset's shape, batch and sequence length) with AdamW on the same packed
tokens (real English + Chinese texts of ../shared/data, an 8k byte-level BPE). The plain loop is what one
writes by hand: random windows from a tensor in memory, forward, backward, step, no gristmill machinery.
gristmill's trainer adds its memmap loader, warm-up + cosine schedule, gradient clipping, the loss log and
progress. The two alternate (and which goes first alternates) for ``--rounds`` rounds of ``--steps`` steps
each, so load on a shared machine hits both alike, at the same number of threads; prints tokens/s of each
round, and the median and overall ratio gristmill / plain (target ≥ 0.9). Each side's tokens/s counts its
training steps only (not building the model or saving it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import shared_text_corpus  # noqa: E402


def build_shards(tmp: Path, docs: int) -> str:
    from gristmill.tokenize.pack import pack
    from gristmill.tokenize.tokenizer import train_tokenizer

    shared_text_corpus(tmp / "c.jsonl", docs)
    with open(tmp / "c.jsonl", encoding="utf-8") as f:
        texts = [json.loads(x)["text"] for x in f]
    train_tokenizer(texts[::4], vocab_size=8000).save(str(tmp / "tok.json"))
    pack([str(tmp / "c.jsonl")], str(tmp / "tok.json"), str(tmp / "shards"))
    return str(tmp / "shards")


def plain_loop(shards: str, preset: str, steps: int, device: str, seed: int) -> float:
    """The baseline: the same GPT, batch and sequence, AdamW, a bare loop. Returns tokens/s."""
    import torch

    from gristmill.tokenize.loader import TokenShards
    from gristmill.train.model import GPT, GPTConfig
    from gristmill.train.presets import PRESETS

    pr = PRESETS[preset]
    ts = TokenShards(shards)
    data = torch.from_numpy(np.concatenate([np.asarray(t, dtype=np.int64) for t in ts.tokens]))
    cfg = GPTConfig(vocab_size=ts.manifest["vocab_size"], **pr.model)
    torch.manual_seed(seed)
    model = GPT(cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=pr.lr)
    g = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for _ in range(steps):
        ix = torch.randint(0, len(data) - cfg.seq_len - 1, (pr.batch_size,), generator=g)
        xy = torch.stack([data[i:i + cfg.seq_len + 1] for i in ix.tolist()]).to(device)
        _, loss = model(xy[:, :-1], xy[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    loss.item()
    if device == "cuda":
        torch.cuda.synchronize()
    return steps * pr.batch_size * cfg.seq_len / (time.perf_counter() - t0)


def gristmill_loop(shards: str, preset: str, steps: int, device: str, seed: int, out: str,
                   threads: int) -> float:
    from gristmill.train.presets import PRESETS
    from gristmill.train.trainer import train

    pr = PRESETS[preset]
    r = train(shards, preset=preset, tokens=steps * pr.batch_size * pr.model["seq_len"], seed=seed,
              device=device, threads=threads, quiet=True, log_path=os.path.join(out, "train_log.jsonl"))
    return r["tokens_per_second"]


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="cpu-tiny")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--docs", type=int, default=3000, help="documents of the shared corpus to pack")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=None, help="both sides (default: the trainer's choice)")
    a = ap.parse_args()
    from gristmill.train.trainer import auto_threads

    threads = a.threads or auto_threads()
    torch.set_num_threads(threads)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if a.device == "auto" else a.device
    t_all = time.perf_counter()
    tmp = Path(tempfile.mkdtemp())
    shards = build_shards(tmp, a.docs)
    where = torch.cuda.get_device_name() if device == "cuda" else f"{cpu_name()}, {os.cpu_count()} cores"
    print(f"torch {torch.__version__}, {device} ({where}), {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    plain_loop(shards, a.preset, 2, device, 0)  # warm-up: first-call allocations, kernels
    gm, pl = [], []
    for r in range(a.rounds):
        for side in ((0, 1) if r % 2 == 0 else (1, 0)):  # alternate which goes first
            if side == 0:
                pl.append(plain_loop(shards, a.preset, a.steps, device, r))
            else:
                gm.append(gristmill_loop(shards, a.preset, a.steps, device, r, str(tmp), threads))
        print(f"round {r + 1}: gristmill {gm[-1]:,.0f} tokens/s, plain {pl[-1]:,.0f} tokens/s, "
              f"ratio {gm[-1] / pl[-1]:.3f}", flush=True)
    ratios = [g / p for g, p in zip(gm, pl, strict=True)]
    total = len(gm) / sum(1 / g for g in gm) / (len(pl) / sum(1 / p for p in pl))
    print(f"{a.preset} on {device}: gristmill {statistics.median(gm):,.0f} tokens/s, plain PyTorch loop "
          f"{statistics.median(pl):,.0f} tokens/s (medians of {a.rounds} rounds × {a.steps} steps); ratio "
          f"median {statistics.median(ratios):.3f}, overall {total:.3f} (target ≥ 0.9); "
          f"load average {os.getloadavg()[0]:.1f}; {time.perf_counter() - t_all:.0f} s in all")


if __name__ == "__main__":
    main()
