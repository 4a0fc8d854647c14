"""Agents' own random streams, so that building or training an agent never changes the process's global RNGs.

Ops that take a generator get the agent's own `torch.Generator` / `np.random.Generator`. Code that can only
draw from the global generators (dropout, Stable-Baselines3) runs inside `with stream:` of a `RandomStream`,
which swaps the agent's private state into those generators for the block and the caller's back afterwards.
A per-step block swaps only the generators it draws from (`stream.active(...)`): torch's state costs ~1 us to
swap, Python's ~20 us and NumPy's legacy state ~0.1 ms through get_state/set_state, or ~2 us when the block
draws no normals and only the MT19937 key and position are copied (`numpy_normals=False`).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
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


_MT_KEY_BYTES = 624 * 4  # numpy's mt19937_state struct: uint32_t key[624]; int pos
_MT_BYTES = _MT_KEY_BYTES + ctypes.sizeof(ctypes.c_int)


def _global_mt_address() -> int:
    """The address of the MT19937 state behind NumPy's legacy global generator (np.random.rand & co)."""
    return np.random.mtrand._rand._bit_generator.ctypes.state_address


@functools.cache
def _mt_layout_ok() -> bool:
    """Whether this NumPy's MT19937 state struct is laid out as _MT_BYTES assumes (else the slow swap)."""
    bit_gen = np.random.MT19937(12345)
    bit_gen.random_raw(7)  # a position other than 624
    raw = ctypes.string_at(bit_gen.ctypes.state_address, _MT_BYTES)
    state = bit_gen.state["state"]
    key, pos = np.frombuffer(raw, np.uint32, 624), ctypes.c_int.from_buffer_copy(raw, _MT_KEY_BYTES).value
    return np.array_equal(key, state["key"]) and pos == state["pos"]


@contextlib.contextmanager
def seeded(seed: int, device: str | torch.device = "cpu") -> Iterator[None]:
    """Runs the block (e.g. weight initialisation) on torch's generators seeded with `seed`, as
    `torch.manual_seed(seed)` would, and restores their previous states afterwards."""
    with RandomStream(seed, device):
        yield


class RandomStream:
    """A private random state for torch's CPU generator (and the CUDA generator of `device`), and with
    `python_numpy=True` for Python's `random` and NumPy's global generator too; `with stream:` makes it the
    global one for the block (`with stream.active(...)`: only the generators the block draws from). Seeded
    as torch.manual_seed(seed) (and random.seed, np.random.seed) would. Not re-entrant: one block at a
    time."""

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
    def active(self, python: bool = True, numpy: bool = True, numpy_normals: bool = True) -> Iterator[None]:
        """The block draws from this stream. Torch's generators are always swapped; python=False / numpy=False
        leave Python's / NumPy's global generator alone (for a block that does not draw from it).
        numpy_normals=False promises the block draws no normals from NumPy's legacy generator (normal, randn,
        standard_normal and the distributions built on them), whose cached second gaussian is then left
        alone: only the MT19937 key and position are copied, ~2 us instead of ~0.1 ms, same draws."""
        if self._active:
            raise RuntimeError("RandomStream is already active")
        use_numpy = numpy and "numpy" in self._state
        copy_mt = use_numpy and not numpy_normals and _mt_layout_ok()
        swap = {"torch": True, "cuda": True, "python": python, "numpy": use_numpy and not copy_mt}
        keys = [k for k in self._state if swap[k]]
        outer = self._get(keys)
        self._set({k: self._state[k] for k in keys})
        outer_mt = self._swap_in_mt() if copy_mt else b""
        self._active = True
        try:
            yield
        finally:
            self._active = False
            if copy_mt:
                self._swap_out_mt(outer_mt)
            self._state.update(self._get(keys))
            self._set(outer)

    def _swap_in_mt(self) -> bytes:
        """Copies the stream's MT19937 key and position into NumPy's global generator; returns its own."""
        address = _global_mt_address()
        outer = ctypes.string_at(address, _MT_BYTES)
        _, key, pos, *_ = self._state["numpy"]
        ctypes.memmove(address, np.asarray(key, dtype=np.uint32).tobytes(), _MT_KEY_BYTES)
        ctypes.c_int.from_address(address + _MT_KEY_BYTES).value = pos
        return outer

    def _swap_out_mt(self, outer: bytes) -> None:
        """Copies the global MT19937 key and position back into the stream, and the caller's back in."""
        address = _global_mt_address()
        raw = ctypes.string_at(address, _MT_BYTES)
        name, _, _, has_gauss, gauss = self._state["numpy"]
        key, pos = np.frombuffer(raw, np.uint32, 624), ctypes.c_int.from_buffer_copy(raw, _MT_KEY_BYTES).value
        self._state["numpy"] = (name, key, pos, has_gauss, gauss)
        ctypes.memmove(address, outer, _MT_BYTES)

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
