"""Agents' own random streams, so that building or training an agent never changes the process's global RNGs.

Ops that take a generator get the agent's own `torch.Generator` / `np.random.Generator`. Code that can only
draw from the global generators (dropout, Stable-Baselines3) runs inside `with stream:` of a `RandomStream`,
which swaps the agent's private state into those generators for the block and the caller's back afterwards.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch


def _cuda_index(device: str | torch.device) -> int | None:
    """The CUDA device index whose generator a device draws from (None for CPU and other devices)."""
    device = torch.device(device)
    if device.type != "cuda":
        return None
    return device.index if device.index is not None else torch.cuda.current_device()


@contextlib.contextmanager
def seeded(seed: int, device: str | torch.device = "cpu") -> Iterator[None]:
    """Runs the block (e.g. weight initialisation) on torch's generators seeded with `seed`, as
    `torch.manual_seed(seed)` would, and restores their previous states afterwards."""
    with RandomStream(seed, device):
        yield


class RandomStream:
    """A private random state for torch's CPU generator (and the CUDA generator of `device`), and with
    `python_numpy=True` for Python's `random` and NumPy's global generator too; `with stream:` (or
    `with stream.active(...)`) makes it the global one for the block. Seeded as torch.manual_seed(seed) (and
    random.seed, np.random.seed) would. Not re-entrant: one block at a time."""

    def __init__(self, seed: int, device: str | torch.device = "cpu", python_numpy: bool = False):
        self.cuda = _cuda_index(device)
        self._active = False
        self._block: contextlib.AbstractContextManager | None = None  # the `with stream:` block
        gen = torch.Generator().manual_seed(seed)
        self._state: dict[str, Any] = {"torch": gen.get_state()}
        if self.cuda is not None:
            cuda_gen = torch.Generator(device=f"cuda:{self.cuda}").manual_seed(seed)
            self._state["cuda"] = cuda_gen.get_state()
        if python_numpy:
            py, np_rng = random.Random(seed), np.random.RandomState(seed)
            self._state["python"], self._state["numpy"] = py.getstate(), np_rng.get_state()

    def _get(self, keys: list[str]) -> dict[str, Any]:
        getters = {
            "torch": torch.get_rng_state,
            "cuda": lambda: torch.cuda.get_rng_state(self.cuda),
            "python": random.getstate,
            "numpy": np.random.get_state,
        }
        return {key: getters[key]() for key in keys}

    def _set(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            if key == "torch":
                torch.set_rng_state(value)
            elif key == "cuda":
                torch.cuda.set_rng_state(value, self.cuda)
            elif key == "python":
                random.setstate(value)
            else:
                np.random.set_state(value)

    @contextlib.contextmanager
    def active(self, python_numpy: bool = True) -> Iterator[None]:
        """The block draws from this stream; python_numpy=False swaps torch's generators only (NumPy's state
        takes ~0.1 ms to swap: worth skipping in a per-step call that draws from torch alone)."""
        if self._active:
            raise RuntimeError("RandomStream is already active")
        keys = [k for k in self._state if python_numpy or k in ("torch", "cuda")]
        outer = self._get(keys)
        self._set({k: self._state[k] for k in keys})
        self._active = True
        try:
            yield
        finally:
            self._active = False
            self._state.update(self._get(keys))
            self._set(outer)

    def __enter__(self) -> RandomStream:
        block = self.active()
        block.__enter__()
        self._block = block
        return self

    def __exit__(self, *exc: object) -> None:
        block, self._block = self._block, None
        block.__exit__(*exc)

    # ----- checkpoints: tensors and plain data only (torch's weights-only loader) -----
    def state_dict(self) -> dict[str, Any]:
        """The private state as tensors and plain numbers."""
        if self._active:
            raise RuntimeError("RandomStream.state_dict() inside its own block")
        state = self._state
        out: dict[str, Any] = {"torch": state["torch"].clone()}
        if "cuda" in state:
            out["cuda"] = state["cuda"].clone()
        if "python" in state:
            version, internal, gauss = state["python"]
            name, keys, *rest = state["numpy"]
            out["python"] = [version, list(internal), gauss]
            out["numpy"] = [name, torch.from_numpy(keys.astype(np.int64)), *rest]
        return out

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores state_dict()'s output (keys it lacks keep their current value)."""
        if self._active:
            raise RuntimeError("RandomStream.load_state_dict() inside its own block")
        new = self._state
        new["torch"] = state["torch"]
        if "cuda" in state and "cuda" in new:
            new["cuda"] = state["cuda"]
        if "python" in state and "python" in new:
            version, internal, gauss = state["python"]
            name, keys, *rest = state["numpy"]
            new["python"] = (version, tuple(internal), gauss)
            new["numpy"] = (name, keys.numpy().astype(np.uint32), *rest)
