"""Verification of ``minhash_dedup`` candidate pairs from the map phase's state on disk.

A pair is a near-duplicate when the exact Jaccard of its token shingle sets (``verify: exact``) or the
share of equal signature values (``verify: signature``) reaches the threshold, or, when both documents
have character shingles (mostly CJK), the same measure over those does. State files per shard:
``sh_offsets.npy`` + ``shingles.npy`` / ``sigs.npy`` for tokens, the same names prefixed ``c`` for
characters (absent when no document of the shard has any).
"""

from __future__ import annotations

import os

import numpy as np

from gristmill.dedup.shingles import jaccard


class _NpyReader:
    """Read element ranges of a flat .npy file with pread (no memory map held in the process)."""

    def __init__(self, path: str) -> None:
        self.f = open(path, "rb")  # noqa: SIM115
        version = np.lib.format.read_magic(self.f)
        fmt = np.lib.format
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        _, _, dtype = read_header(self.f)
        self.dtype, self.start = np.dtype(dtype), self.f.tell()

    def read(self, a: int, b: int) -> np.ndarray:
        n = int(b) - int(a)
        data = os.pread(self.f.fileno(), n * self.dtype.itemsize, self.start + int(a) * self.dtype.itemsize)
        return np.frombuffer(data, self.dtype)

    def close(self) -> None:
        self.f.close()


_KINDS = ("", "c")
SET_CACHE_BYTES = 16 << 20  # shingle sets kept while their pairs are checked (the cache empties past this)  # state file prefixes: token shingles, character shingles


class Verifier:
    """Checks a candidate pair against the threshold: exact Jaccard of shingle sets, or signature agreement,
    of the token shingles and (when both documents have them) of the character shingles: either suffices."""

    def __init__(self, state_paths, base, verify: str, threshold: float, num_perm: int) -> None:
        self.paths, self.base, self.verify = state_paths, base, verify
        self.threshold, self.k = threshold, num_perm
        self.cache: dict[int, dict] = {}
        self.sets: dict[tuple[str, int, int], np.ndarray | None] = {}
        self.set_bytes = 0

    def _state(self, s: int) -> dict:
        if s not in self.cache:
            st = {}
            for kind in _KINDS:
                path = lambda name, k=kind: os.path.join(self.paths[s], k + name + ".npy")  # noqa: E731
                if not os.path.exists(path("sh_offsets")):
                    continue  # no document of the shard has this kind of shingles
                st[kind] = {"off": _NpyReader(path("sh_offsets")),  # pread: no pages mapped, whatever the size
                            "sh": _NpyReader(path("shingles")) if self.verify == "exact" else None,
                            "sig": _NpyReader(path("sigs")) if self.verify == "signature" else None}
            self.cache[s] = st
        return self.cache[s]

    def _set(self, kind: str, s: int, r: int) -> np.ndarray | None:
        """A document's distinct shingles of one kind (None: none), kept while its pairs are checked."""
        key = (kind, s, r)
        if key not in self.sets:
            st = self._state(s).get(kind)
            if len(self.sets) > 20_000 or self.set_bytes > SET_CACHE_BYTES:
                self.sets.clear()
                self.set_bytes = 0
            a, b = st["off"].read(r, r + 2) if st is not None else (0, 0)
            if a == b:
                self.sets[key] = None
            else:
                self.sets[key] = np.unique(st["sh"].read(a, b))
                self.set_bytes += self.sets[key].nbytes
        return self.sets[key]

    def _sig(self, kind: str, s: int, r: int) -> np.ndarray | None:
        st = self._state(s).get(kind)
        if st is None or np.diff(st["off"].read(r, r + 2))[0] == 0:
            return None
        return st["sig"].read(r * self.k, r * self.k + self.k)

    def __call__(self, u: int, v: int) -> bool:
        if self.verify == "none":
            return True
        su = int(np.searchsorted(self.base, u, side="right") - 1)
        sv = int(np.searchsorted(self.base, v, side="right") - 1)
        ru, rv = u - self.base[su], v - self.base[sv]
        for kind in _KINDS:
            if self.verify == "signature":
                a, b = self._sig(kind, su, ru), self._sig(kind, sv, rv)
                if a is not None and b is not None and float(np.mean(a == b)) >= self.threshold:
                    return True
                continue
            a, b = self._set(kind, su, ru), self._set(kind, sv, rv)
            if a is not None and b is not None and jaccard(a, b) >= self.threshold:
                return True
        return False

    def close(self) -> None:
        for st in self.cache.values():
            for c in st.values():
                for r in (c["off"], c["sh"], c["sig"]):
                    if r is not None:
                        r.close()


def verify_chunk(job) -> np.ndarray:
    state_paths, base, verify, threshold, num_perm, pairs = job
    check = Verifier(state_paths, base, verify, threshold, num_perm)
    try:
        return np.array([check(u, v) for u, v in pairs.tolist()], dtype=bool)
    finally:
        check.close()
