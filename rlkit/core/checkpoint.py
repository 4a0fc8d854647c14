"""Checkpoints that survive crashes: atomic writes, a checksum, weights-only loading, rotation, fallback.

File format: the 8 bytes `RLKITCK1`, the SHA-256 of the payload (32 bytes), then the payload written by
`torch.save`. A write goes to a temporary file, is fsynced, then renamed over the target, so a crash leaves
the old file or the new one, never half of one; a truncated or corrupted file fails its checksum. Loading
uses torch's weights-only unpickler: tensors, numbers, strings, lists, tuples and dicts only, never code.

In `checkpoints/`: `ckpt_<step>.pt` (the last `keep` of them), `latest.pt` (a hard link to the newest) and
`best.pt` (the best evaluation so far).

The runner's periodic checkpoints are written in the background: the state is serialized at once (so later
training cannot change it), then one writer thread does the writing, fsyncs and renames while training goes
on (fsync waits on the disk: about as long as 300 tabular steps). Writes stay in order, one at a time, and
every other use of the Checkpointer (a foreground save, loading) waits for the pending one first; its error,
if any, is raised then. A kill during a background write leaves the previous file, as in the foreground.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rlkit.core.errors import UserError
from rlkit.core.interrupts import sigint_deferred

MAGIC = b"RLKITCK1"
FORMAT = 2


class CheckpointError(UserError):
    """A checkpoint that cannot be written or safely read."""


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Writes `state` to `path` atomically; on failure (e.g. a full disk) the old file stays untouched."""
    _atomic_write(path, _framed(serialize(state)))


def serialize(state: dict[str, Any]) -> bytes:
    """The payload of a checkpoint of `state`: a copy, so later changes to the state do not reach it."""
    import torch  # heavy: imported when a checkpoint is written or read, not by `rlkit --help`

    buf = io.BytesIO()
    torch.save({"format": FORMAT, **state}, buf)
    return buf.getvalue()


def _framed(payload: bytes) -> bytes:
    return MAGIC + hashlib.sha256(payload).digest() + payload


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as err:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise CheckpointError(
            f"could not write checkpoint {path}: {err.strerror or err}; the previous checkpoint is kept"
        ) from err


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def non_finite_tensors(state: Any, prefix: str = "agent") -> list[str]:
    """Names (dotted paths) of the floating-point tensors in `state` that hold a NaN or an infinity."""
    import torch  # heavy: imported when a checkpoint is written or read, not by `rlkit --help`

    if isinstance(state, torch.Tensor):
        bad = state.is_floating_point() and not bool(torch.isfinite(state).all())
        return [prefix] if bad else []
    if isinstance(state, dict):
        return [name for k, v in state.items() for name in non_finite_tensors(v, f"{prefix}.{k}")]
    if isinstance(state, list | tuple):
        return [name for i, v in enumerate(state) for name in non_finite_tensors(v, f"{prefix}.{i}")]
    return []


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Reads and verifies a checkpoint; refuses damaged files and files that carry pickled objects."""
    import torch  # heavy: imported when a checkpoint is written or read, not by `rlkit --help`

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    data = path.read_bytes()
    head = len(MAGIC) + 32
    if not data.startswith(MAGIC) or len(data) < head:
        raise CheckpointError(f"{path} is not an rlkit checkpoint (it does not start with {MAGIC.decode()})")
    if hashlib.sha256(data[head:]).digest() != data[len(MAGIC) : head]:
        raise CheckpointError(f"{path} is damaged: its checksum does not match (truncated or corrupted)")
    try:
        state = torch.load(io.BytesIO(data[head:]), map_location="cpu", weights_only=True)
    except Exception as err:  # the weights-only unpickler refuses anything but plain data
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"{path} carries pickled objects and is refused (rlkit loads plain data and tensors only): "
            f"{first}"
        ) from err
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} has an unknown checkpoint format (expected {FORMAT})")
    return state


class Checkpointer:
    """Rotating checkpoints of a run: numbered files, latest.pt, best.pt, fallback to the last good one."""

    def __init__(self, directory: Path, keep: int = 3):
        self.dir, self.keep = Path(directory), max(int(keep), 1)
        self._pool: ThreadPoolExecutor | None = None  # the writer thread, from the first background save
        self._pending: Future | None = None  # the background write in progress

    def wait(self, raise_error: bool = True) -> None:
        """Waits for the background write in progress; raises its error (once) unless raise_error is off."""
        pending, self._pending = self._pending, None
        error = pending.exception() if pending is not None else None
        if error is not None and raise_error:
            raise error

    def close(self) -> None:
        """Waits for the write in progress (its error is not raised) and ends the writer thread."""
        self.wait(raise_error=False)
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _in_background(self, write: Any, *args: Any) -> None:
        # One reused thread (no start-up wait per checkpoint); at interpreter exit, Python finishes its work.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rlkit-checkpoint")
        self._pending = self._pool.submit(write, *args)

    def numbered(self) -> list[Path]:
        """The numbered checkpoints, oldest first."""
        return sorted(self.dir.glob("ckpt_*.pt"))

    def save(self, state: dict[str, Any], step: int, background: bool = False) -> Path:
        """Writes ckpt_<step>.pt, points latest.pt at it, and drops all but the last `keep` numbered ones.
        Ctrl-C waits until all three are done: never a new numbered file with latest.pt on the old one.
        With `background`, the state is serialized now and written by the writer thread (see the top)."""
        path = self.dir / f"ckpt_{step:012d}.pt"
        if background:
            payload = serialize(state)
            self.wait()
            self._in_background(self._write_numbered, path, lambda: _atomic_write(path, _framed(payload)))
            return path
        self.wait()
        with sigint_deferred():
            self._write_numbered(path, lambda: save_checkpoint(path, state))
        return path

    def _write_numbered(self, path: Path, write: Any) -> None:
        write()
        self._link_latest(path)
        for old in self.numbered()[: -self.keep]:
            old.unlink(missing_ok=True)

    def save_best(self, state: dict[str, Any], background: bool = False) -> Path:
        """Writes best.pt (with `background`, as save does)."""
        path = self.dir / "best.pt"
        if background:
            payload = serialize(state)
            self.wait()
            self._in_background(lambda: _atomic_write(path, _framed(payload)))
            return path
        self.wait()
        save_checkpoint(path, state)
        return path

    def _link_latest(self, target: Path) -> None:
        tmp, latest = self.dir / ".latest.pt.tmp", self.dir / "latest.pt"
        tmp.unlink(missing_ok=True)
        try:
            if latest.is_dir() and not latest.is_symlink():  # damage: os.replace cannot put a file there
                aside = latest.with_name(f"latest.pt.broken-{os.getpid()}")
                latest.rename(aside)
                print(f"rlkit: warning: {latest} was a directory; moved it to {aside}", file=sys.stderr)
            try:
                os.link(target, tmp)  # no copy: same file, atomic rename below
            except OSError:
                tmp.write_bytes(target.read_bytes())
            os.replace(tmp, latest)
            _fsync_dir(self.dir)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise CheckpointError(
                f"could not point {latest} at {target.name}: {err.strerror or err}; {target} is complete"
            ) from err

    def load_latest(self) -> tuple[dict[str, Any], Path]:
        """The newest checkpoint that verifies; a damaged one is skipped with a warning on stderr. best.pt,
        a consistent state too, is the last resort (a run stopped before its first numbered checkpoint)."""
        self.wait()
        candidates = [self.dir / "latest.pt", *reversed(self.numbered()), self.dir / "best.pt"]
        problems = []
        for path in candidates:
            if not path.is_file():
                continue
            try:
                state = load_checkpoint(path)
            except CheckpointError as err:
                problems.append(str(err))
                print(f"rlkit: warning: {err}; trying an older checkpoint", file=sys.stderr)
                continue
            if path.name == "best.pt":
                print(f"rlkit: warning: no usable numbered checkpoint; using {path}", file=sys.stderr)
            return state, path
        detail = f" ({'; '.join(problems)})" if problems else ""
        raise CheckpointError(f"no usable checkpoint in {self.dir}{detail}")
