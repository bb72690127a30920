"""Training throughput: gristmill's trainer vs a plain PyTorch loop over the same model, side by side.

    python bench/train.py [--presets cpu-tiny cpu-small] [--steps 40]

Both train the same GPT (same preset shape, batch and sequence length) for the same number of steps on the
same packed tokens (the real English + Chinese texts of ../shared/data, tokenised with a 8k byte-level BPE).
The plain loop is what one would write by hand: random windows from a tensor in memory, AdamW, backward,
step. gristmill's adds the memmap loader, warm-up + cosine schedule, gradient clipping and loss logging.
Each is run twice, alternating; the better run counts. Prints tokens/s and the ratio gristmill / plain.
GPU presets run where CUDA is present (same script, --presets gpu-small).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import shared_text_corpus  # noqa: E402


def build_shards(tmp: Path) -> str:
    from gristmill.tokenize.pack import pack
    from gristmill.tokenize.tokenizer import train_tokenizer

    shared_text_corpus(tmp / "c.jsonl")
    with open(tmp / "c.jsonl", encoding="utf-8") as f:
        rows = [json.loads(x) for x in f]
    train_tokenizer([r["text"] for r in rows[::3]], vocab_size=8000).save(str(tmp / "tok.json"))
    pack([str(tmp / "c.jsonl")], str(tmp / "tok.json"), str(tmp / "shards"))
    return str(tmp / "shards")


def plain_loop(shards: str, preset: str, steps: int, device: str) -> float:
    """The baseline: the same model and batch, trained by a bare loop. Returns tokens/s."""
    import torch

    from gristmill.tokenize.loader import TokenShards
    from gristmill.train.model import GPT, GPTConfig
    from gristmill.train.presets import PRESETS

    pr = PRESETS[preset]
    ts = TokenShards(shards)
    data = torch.from_numpy(np.concatenate([np.asarray(t, dtype=np.int64) for t in ts.tokens]))
    cfg = GPTConfig(vocab_size=ts.manifest["vocab_size"], **pr.model)
    torch.manual_seed(0)
    model = GPT(cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=pr.lr)
    g = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for _ in range(steps):
        ix = torch.randint(0, len(data) - cfg.seq_len - 1, (pr.batch_size,), generator=g)
        xy = torch.stack([data[i:i + cfg.seq_len + 1] for i in ix.tolist()]).to(device)
        _, loss = model(xy[:, :-1], xy[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return steps * pr.batch_size * cfg.seq_len / (time.perf_counter() - t0)


def gristmill_loop(shards: str, preset: str, steps: int, device: str) -> float:
    from gristmill.train.presets import PRESETS
    from gristmill.train.trainer import train

    pr = PRESETS[preset]
    r = train(shards, preset=preset, tokens=steps * pr.batch_size * pr.model["seq_len"], seed=0, device=device)
    return r["tokens_per_second"]


def main() -> None:
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", nargs="*", default=["cpu-tiny", "cpu-small"])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--device", default="auto")
    a = ap.parse_args()
    device = ("cuda" if torch.cuda.is_available() else "cpu") if a.device == "auto" else a.device
    tmp = Path(tempfile.mkdtemp())
    shards = build_shards(tmp)
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}")
    for preset in a.presets:
        gm, pl = [], []
        for _ in range(2):
            pl.append(plain_loop(shards, preset, a.steps, device))
            gm.append(gristmill_loop(shards, preset, a.steps, device))
        print(f"{preset}: gristmill {max(gm):,.0f} tokens/s, plain PyTorch loop {max(pl):,.0f} tokens/s, "
              f"ratio {max(gm) / max(pl):.3f} ({a.steps} steps, best of 2)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
