"""Writing to disk with one clear line on failure: a full disk, a read-only or missing folder, a bad name.

Every writer of a run (metrics, TensorBoard, summary, videos, plots, eval.json, bench files) goes through
these helpers, so an OSError becomes a `UserError` naming the file and the reason, never a traceback, and an
appended file never keeps half a record.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from rlkit.core.errors import UserError


def write_error(path: Path | str, err: OSError, advice: str = "") -> UserError:
    """The one-line error for a failed write of `path`."""
    return UserError(f"could not write {path}: {err.strerror or err}{'; ' + advice if advice else ''}")


@contextlib.contextmanager
def writing(path: Path | str, advice: str = "") -> Iterator[None]:
    """Turns an OSError raised inside the block into a UserError about `path`."""
    try:
        yield
    except OSError as err:
        raise write_error(path, err, advice) from None


def write_text(path: Path, text: str, advice: str = "") -> None:
    """Writes a text file (creating its folder), or a UserError naming it."""
    with writing(path, advice):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and not path.is_file():  # a device, a pipe: written as it is, never replaced
            path.write_text(text, encoding="utf-8")
            return
        tmp = path.with_name(f".{path.name}.tmp")
        try:  # a new file renamed over the old one: never a half-written file, never a write through a link
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def writable_dir(path: Path | str, key: str, keep: bool = True) -> Path:
    """Creates the folder `path` (and its parents) and checks a file can be written in it; with `keep`
    false, the folders it created are removed again (the check only).

    A failure (read-only, a file in the way, a name too long, ...) is a UserError naming its `key`.
    """
    if not str(path).strip():
        raise UserError(f"{key}= is empty: give a folder, e.g. {key}=runs/mine")
    path = Path(path).expanduser()
    created: list[Path] = []
    try:
        for folder in [*reversed(path.parents), path]:
            if folder.exists() and not folder.is_dir():
                raise UserError(f"{key}={path}: {folder} is a file, not a folder; choose another folder")
            if not folder.is_dir():
                folder.mkdir()
                created.append(folder)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as err:
        keep = False
        reason = err.strerror or err
        raise UserError(f"{key}={path}: cannot write there ({reason}); choose another folder") from None
    finally:
        for folder in reversed(created if not keep else []):
            with contextlib.suppress(OSError):
                folder.rmdir()
    return path


class AppendFile:
    """A file opened for appending whose records are written whole.

    Records are buffered here and written on `flush` (or once many are pending). A failed write (a full
    disk) cuts the file back to its last whole record and raises a UserError; after that the file takes no
    more writes, and `close` does not raise again.
    """

    MAX_PENDING = 4096

    def __init__(self, path: Path, advice: str = ""):
        self.path, self.advice = Path(path), advice
        with writing(self.path, advice):
            self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 (kept open for the run)
            self._size = self._file.seek(0, 2)
        self._pending: list[bytes] = []
        self.failed = False

    def write(self, record: bytes) -> None:
        """Queues one record."""
        self._pending.append(record)
        if len(self._pending) >= self.MAX_PENDING:
            self.flush()

    def flush(self) -> None:
        """Writes the queued records; on failure the file keeps only whole records."""
        data, self._pending = b"".join(self._pending), []
        if self.failed or not data:
            return
        try:
            view = memoryview(data)
            while view:
                view = view[self._file.write(view) :]
        except OSError as err:
            self.failed = True
            with contextlib.suppress(OSError):
                self._file.truncate(self._size)
            raise write_error(self.path, err, self.advice) from None
        self._size += len(data)

    def close(self) -> None:
        """Writes what is queued and closes the file."""
        try:
            self.flush()
        finally:
            self._file.close()
