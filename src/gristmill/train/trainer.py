"""Train a proxy GPT for a token budget on packed shards, then score held-out text in bits per byte.

Bits per byte = (sum over tokens of -log2 p(token | context)) / (UTF-8 bytes of the text): it does not depend
on the tokenizer, so models with different tokenizers (or none) compare. Each text is scored from an EOS
context in non-overlapping windows of the model's length.

A trained model is a folder: ``model.pt`` (weights), ``config.json`` (model shape, preset, training summary)
and ``tokenizer.json`` — everything the ``perplexity`` step needs.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time

import numpy as np

from gristmill.errors import GristmillError


def _torch():
    try:
        import torch
    except ImportError:
        raise GristmillError("training needs PyTorch", hint="pip install 'gristmill[train]'  (torch==2.13.0)") from None
    return torch


def pick_device(want: str = "auto") -> str:
    torch = _torch()
    if want == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if want == "cuda" and not torch.cuda.is_available():
        return "cpu"
    return want


def auto_threads() -> int:
    """CPU threads for training: the cores not already busy (1-minute load average), at least 1.

    Oversubscribed cores make every step wait for descheduled threads: on 2 cores under a load of 10, cpu-tiny
    ran at ~450 tokens/s with 2 threads and ~1,000-1,300 with 1 (docs/training.md).
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:  # pragma: no cover
        busy = 0.0
    return max(1, min(cores, int(cores - busy + 0.5)))


def _lr(step: int, total: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    p = (step - warmup) / max(total - warmup, 1)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(p, 1.0))))


def bits_per_byte(model, tokenizer, texts: list[str], *, max_bytes: int | None = None, batch_size: int = 16,
                  device: str = "cpu") -> dict:
    """Bits per UTF-8 byte of ``texts`` (up to ``max_bytes``) under ``model``; also per text when asked."""
    torch = _torch()
    from gristmill.tokenize.tokenizer import eos_id

    seq = model.config.seq_len
    eos = eos_id(tokenizer)
    windows, total_bytes, n_tokens = [], 0, 0
    cap = max(max_bytes // 8, 1) if max_bytes else None  # every text contributes, none dominates
    for t in texts:
        if cap and len(t.encode("utf-8")) > cap:
            t = t.encode("utf-8")[:cap].decode("utf-8", errors="ignore")
        b = len(t.encode("utf-8"))
        if max_bytes is not None and total_bytes and total_bytes + b > max_bytes:
            break
        total_bytes += b
        ids = [eos] + tokenizer.encode(t, add_special_tokens=False).ids
        n_tokens += len(ids) - 1
        for s in range(0, len(ids) - 1, seq):
            windows.append(ids[s:s + seq + 1])
    nll = 0.0
    model.eval()
    with torch.no_grad():
        full = [w for w in windows if len(w) == seq + 1]
        rest = [w for w in windows if len(w) != seq + 1]
        for i in range(0, len(full), batch_size):
            x = torch.tensor(full[i:i + batch_size], dtype=torch.long, device=device)
            _, loss = model(x[:, :-1], x[:, 1:], reduction="sum")
            nll += float(loss)
        for w in rest:
            x = torch.tensor([w], dtype=torch.long, device=device)
            _, loss = model(x[:, :-1], x[:, 1:], reduction="sum")
            nll += float(loss)
    return {"bpb": round(nll / math.log(2) / max(total_bytes, 1), 5), "bytes": total_bytes, "tokens": n_tokens}


def train(shards: str, *, preset: str = "cpu-tiny", tokens: int | None = None, seed: int = 0,
          out: str | None = None, eval_sets: dict[str, list[str]] | None = None, device: str | None = None,
          threads: int | None = None, log_every: int = 10, overrides: dict | None = None, quiet: bool = False,
          progress_every: float = 5.0, log_path: str | None = None, label: str = "train") -> dict:
    """Train on ``shards`` (a ``gristmill tokenize`` folder); returns the summary (and saves the model to ``out``).

    Every ``log_every`` steps the step, tokens/s, loss and ETA go to ``log_path`` as a JSON line (default
    ``out/train_log.jsonl``) and, unless ``quiet``, to stderr (a live line on a terminal, else a line every
    ``progress_every`` seconds).
    """
    torch = _torch()
    from gristmill.tokenize.loader import TokenShards
    from gristmill.tokenize.tokenizer import load_tokenizer
    from gristmill.train.model import GPT, GPTConfig
    from gristmill.train.presets import PRESETS
    from gristmill.train.progress import TrainProgress

    if preset not in PRESETS:
        raise GristmillError(f"unknown preset {preset!r}", hint=f"one of {', '.join(PRESETS)}")
    pr = PRESETS[preset]
    ov = dict(overrides or {})
    data = TokenShards(shards)
    tok = load_tokenizer(data.manifest["tokenizer"])
    dev = pick_device(device or pr.device)
    if threads or dev == "cpu":
        torch.set_num_threads(threads or auto_threads())
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    cfg = GPTConfig(vocab_size=data.manifest["vocab_size"], **{**pr.model, **ov.pop("model", {})})
    batch = int(ov.pop("batch_size", pr.batch_size))
    lr = float(ov.pop("lr", pr.lr))
    budget = int(tokens or pr.tokens)
    steps = max(budget // (batch * cfg.seq_len), 1)
    model = GPT(cfg).to(dev)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    other = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.95))
    warmup = max(int(steps * pr.warmup_frac), 1)
    curve = []
    model.train()
    log_path = log_path or (os.path.join(out, "train_log.jsonl") if out else None)
    prog = TrainProgress(steps, batch * cfg.seq_len, label=label, quiet=quiet, interval=progress_every,
                         log_path=log_path)
    t0 = time.perf_counter()
    try:
        for step in range(steps):
            step_lr = _lr(step, steps, lr, warmup)
            for g in opt.param_groups:
                g["lr"] = step_lr
            xy = torch.from_numpy(data.batch(rng, batch, cfg.seq_len)).to(dev)
            _, loss = model(xy[:, :-1], xy[:, 1:])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if step % log_every == 0 or step == steps - 1:
                curve.append((step, round(loss.item(), 4)))
                prog.update(step, curve[-1][1], step_lr)
    finally:
        prog.close()
    train_s = time.perf_counter() - t0
    result = {
        "preset": preset, "model": cfg.to_dict(), "params": model.num_params(), "device": dev, "threads": torch.get_num_threads(), "seed": seed,
        "steps": steps, "batch_size": batch, "lr": lr, "tokens_trained": steps * batch * cfg.seq_len,
        "train_seconds": round(train_s, 2), "tokens_per_second": round(steps * batch * cfg.seq_len / train_s, 1),
        "loss_first": curve[0][1], "loss_last": curve[-1][1], "loss_curve": curve,
        "data": {"shards": os.path.abspath(shards), "tokens": data.num_tokens, "documents": len(data),
                 "tokenizer_fingerprint": data.manifest["tokenizer_fingerprint"]},
        "eval": {},
    }
    for name, texts in (eval_sets or {}).items():
        result["eval"][name] = bits_per_byte(model, tok, texts, max_bytes=pr.eval_max_bytes, device=dev)
    if out:
        os.makedirs(out, exist_ok=True)
        torch.save(model.state_dict(), os.path.join(out, "model.pt"))
        shutil.copyfile(data.manifest["tokenizer"], os.path.join(out, "tokenizer.json"))
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump(result, f, indent=2)
    return result


def load_model(path: str, device: str = "cpu"):
    """(model, tokenizer) from a folder written by :func:`train`."""
    torch = _torch()
    from gristmill.tokenize.tokenizer import load_tokenizer
    from gristmill.train.model import GPT, GPTConfig

    cpath = os.path.join(path, "config.json")
    if not os.path.exists(cpath):
        raise GristmillError(f"{path} is not a trained model folder (config.json missing)",
                             hint="gristmill train SHARDS -o MODEL_DIR")
    with open(cpath) as f:
        cfg = GPTConfig(**json.load(f)["model"])
    model = GPT(cfg)
    model.load_state_dict(torch.load(os.path.join(path, "model.pt"), map_location=device, weights_only=True))
    model.to(device).eval()
    return model, load_tokenizer(os.path.join(path, "tokenizer.json"))
