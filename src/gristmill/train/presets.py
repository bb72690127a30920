"""Model and training presets, sized for a CPU (minutes) or a GPU (larger scale).

>>> PRESETS["cpu-tiny"].model["d_model"], PRESETS["gpu-small"].device
(128, 'cuda')
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Preset:
    model: dict
    batch_size: int
    lr: float
    tokens: int                   # default token budget
    device: str = "auto"
    warmup_frac: float = 0.05
    eval_max_bytes: int = 60_000  # per eval set: enough for a stable bpb, small enough to be quick
    notes: str = ""
    extra: dict = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    "cpu-tiny": Preset({"n_layer": 2, "n_head": 4, "d_model": 128, "seq_len": 128}, batch_size=16, lr=3e-3,
                       tokens=1_000_000, device="cpu", notes="~0.6M non-embedding parameters; a minute or two on 2 cores"),
    "cpu-small": Preset({"n_layer": 4, "n_head": 4, "d_model": 256, "seq_len": 256}, batch_size=16, lr=2e-3,
                        tokens=4_000_000, device="cpu", eval_max_bytes=120_000,
                        notes="~3M non-embedding parameters; ~1,500-1,900 tokens/s on 2 cores: 40-45 minutes "
                              "for the default 4M tokens"),
    "gpu-small": Preset({"n_layer": 8, "n_head": 8, "d_model": 512, "seq_len": 512}, batch_size=32, lr=1e-3,
                        tokens=200_000_000, device="cuda", eval_max_bytes=1_000_000,
                        notes="~25M non-embedding parameters"),
    "gpu-base": Preset({"n_layer": 12, "n_head": 12, "d_model": 768, "seq_len": 1024}, batch_size=32, lr=6e-4,
                       tokens=2_000_000_000, device="cuda", eval_max_bytes=4_000_000,
                       notes="GPT-2 small shape, ~85M non-embedding parameters"),
}
