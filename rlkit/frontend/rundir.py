"""A training run's directory, settled before Hydra writes anything there: where it is, and who owns it.

`rlkit train` resolves `hydra.run.dir` exactly as Hydra would (quoted values, `${oc.env:...}`, `${now:...}`),
takes an exclusive OS lock on `<run dir>/.lock` (fcntl.flock, released when the process ends, however it
ends), and only then checks the directory and hands Hydra the resolved path. A second process that wants
the same directory gets one line naming the PID that holds it, and nothing of the first run is touched.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rlkit.core.errors import RlkitWarning, UserError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; runs are not protected against each other there
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"


def resolve_run_dir(overrides: list[str]) -> Path:
    """The absolute directory Hydra would create for `rlkit train <overrides>` (already rewritten)."""
    from hydra import compose, initialize_config_module
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from rlkit.frontend.schemas import register_run_schemas

    register_run_schemas()  # the agent's schema was stored by compose_config, which rlkit train runs first

    try:
        with initialize_config_module(config_module="rlkit.configs", version_base="1.3"):
            cfg = compose("train", overrides=[*overrides, "hydra.job.name=train"], return_hydra_config=True)
            run_dir = str(cfg.hydra.run.dir)
    except (HydraException, OmegaConfBaseException) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise UserError(f"hydra.run.dir cannot be resolved: {reason}") from err
    return Path(run_dir).expanduser().absolute()


def hydra_value(text: str) -> str:
    """`text` as a Hydra override value that Hydra reads back unchanged (quoted when it has to be)."""
    if re.fullmatch(r"[\w./:@+~-]+", text):
        return text
    text = re.sub(r"(\\+)(?='|$)", lambda m: m.group(1) * 2, text)  # backslashes before a quote or the end
    return "'" + text.replace("'", "\\'").replace("${", "\\${") + "'"


@contextmanager
def locked_run_dir(run_dir: Path) -> Iterator[None]:
    """Holds an exclusive lock on `run_dir` (created if needed); a UserError names the holder's PID."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(run_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise UserError(f"cannot write to run directory {run_dir}: {err.strerror or err}") from None
    try:
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise UserError(
                f"run directory {run_dir} is in use by another rlkit process (PID {holder}); "
                "wait for it to end, stop it, or choose another directory"
            ) from None
        except OSError as err:  # a file system without locks (some network mounts)
            message = f"could not lock {run_dir} ({err.strerror or err}): it is not protected"
            warnings.warn(message, RlkitWarning, stacklevel=3)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock; the process ending releases it too
