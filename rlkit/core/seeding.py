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
    `python_numpy=True` for Python's `random` and NumPy's global generator too; `with stream:` makes it the
    global one for the block. Seeded as torch.manual_seed(seed) (and random.seed, np.random.seed) would."""

    def __init__(self, seed: int, device: str | torch.device = "cpu", python_numpy: bool = False):
        self.cuda = _cuda_index(device)
        self.python_numpy = python_numpy
        self._outer: dict[str, Any] | None = None
        self._depth = 0
        gen = torch.Generator().manual_seed(seed)
        self._state: dict[str, Any] = {"torch": gen.get_state()}
        if self.cuda is not None:
            cuda_gen = torch.Generator(device=f"cuda:{self.cuda}").manual_seed(seed)
            self._state["cuda"] = cuda_gen.get_state()
        if python_numpy:
            py, np_rng = random.Random(seed), np.random.RandomState(seed)
            self._state["python"], self._state["numpy"] = py.getstate(), np_rng.get_state()

    def _get(self) -> dict[str, Any]:
        state = {"torch": torch.get_rng_state()}
        if self.cuda is not None:
            state["cuda"] = torch.cuda.get_rng_state(self.cuda)
        if self.python_numpy:
            state["python"], state["numpy"] = random.getstate(), np.random.get_state()
        return state

    @staticmethod
    def _set(state: dict[str, Any], cuda: int | None) -> None:
        torch.set_rng_state(state["torch"])
        if "cuda" in state:
            torch.cuda.set_rng_state(state["cuda"], cuda)
        if "python" in state:
            random.setstate(state["python"])
            np.random.set_state(state["numpy"])

    def __enter__(self) -> RandomStream:
        if self._depth == 0:
            self._outer = self._get()
            self._set(self._state, self.cuda)
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._state = self._get()
            self._set(self._outer, self.cuda)
            self._outer = None

    # ----- checkpoints: tensors and plain data only (torch's weights-only loader) -----
    def state_dict(self) -> dict[str, Any]:
        """The private state as tensors and plain numbers."""
        state = self._get() if self._depth else self._state
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
        new = dict(self._get() if self._depth else self._state)
        new["torch"] = state["torch"]
        if "cuda" in state and self.cuda is not None:
            new["cuda"] = state["cuda"]
        if "python" in state and self.python_numpy:
            version, internal, gauss = state["python"]
            name, keys, *rest = state["numpy"]
            new["python"] = (version, tuple(internal), gauss)
            new["numpy"] = (name, keys.numpy().astype(np.uint32), *rest)
        if self._depth:
            self._set(new, self.cuda)
        else:
            self._state = new
