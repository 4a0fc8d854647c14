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

from hydra import compose, initialize_config_module
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from rlkit.core.errors import RlkitWarning, UserError
from rlkit.frontend.schemas import register_run_schemas

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; runs are not protected against each other there
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"


def resolve_run_dir(overrides: list[str]) -> Path:
    """The absolute directory Hydra would create for `rlkit train <overrides>` (already rewritten)."""
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


RESUME_MAY_CHANGE = ("ui=", "hydra.")


def resume_overrides(args: list[str]) -> list[str]:
    """`resume=DIR [ui=...]` becomes the run's original overrides, its directory, and `resume=DIR`.

    A resumed run keeps its original config; only the display (ui=) may change.
    """
    resume = [a for a in args if a.startswith("resume=")]
    if not resume:
        return args
    run_dir = Path(resume[-1].partition("=")[2].strip().strip("'\"")).expanduser().resolve()
    saved = run_dir / ".hydra" / "overrides.yaml"
    if not run_dir.is_dir():
        raise UserError(f"resume={run_dir}: no such run directory")
    if not saved.is_file():
        raise UserError(f"resume={run_dir}: not a run directory of `rlkit train` (no .hydra/overrides.yaml)")
    if not any((run_dir / "checkpoints").glob("*.pt")):
        raise UserError(
            f"resume={run_dir}: the run holds no checkpoint to continue from (it stopped before its first); "
            "delete it and train again, or train into another directory"
        )
    others = [a for a in args if not a.startswith(("resume=", *RESUME_MAY_CHANGE))]
    if others:
        raise UserError(
            f"resume continues a run with its original config; these overrides are not allowed with it: "
            f"{' '.join(others)} (only ui=... may change)"
        )
    extra = [a for a in args if a.startswith(RESUME_MAY_CHANGE)]
    replaced = ("resume=", "hydra.run.dir=", *(a.partition("=")[0] + "=" for a in extra))
    original = [upgrade_override(a) for a in saved_overrides(run_dir)]
    original = [a for a in original if not a.startswith(replaced)]
    value = hydra_value(str(run_dir))
    return [*original, *extra, f"hydra.run.dir={value}", f"resume={value}"]


MOVED_KEYS = {"agent.num_threads": "num_threads"}  # old key -> the key that replaced it


def upgrade_override(arg: str) -> str:
    """An override saved by an older rlkit (a run's .hydra/overrides.yaml) with today's key names."""
    key, sep, value = arg.partition("=")
    bare = key.lstrip("+~")
    return f"{MOVED_KEYS[bare]}={value}" if sep and bare in MOVED_KEYS else arg


def upgrade_saved_config(saved: DictConfig) -> DictConfig:
    """A run's saved .hydra/config.yaml from an older rlkit with today's key names (moved values kept)."""
    for old, new in MOVED_KEYS.items():
        parent, _, leaf = old.rpartition(".")
        node = OmegaConf.select(saved, parent)
        if isinstance(node, DictConfig) and leaf in node:
            value = node.pop(leaf)
            if OmegaConf.select(saved, new) is None:
                OmegaConf.update(saved, new, value, force_add=True)
    return saved


def holds_run(run_dir: Path) -> bool:
    """Whether `run_dir` holds a run (its metrics or a checkpoint): one to resume, or one in progress."""
    return (run_dir / "metrics.jsonl").exists() or any((run_dir / "checkpoints").glob("*.pt"))


def check_new_run_dir(run_dir: Path, key: str = "hydra.run.dir", advice: str = "") -> None:
    """A new run must not write into another run's directory (its metrics and checkpoints would mix)."""
    resumable = any((run_dir / "checkpoints").glob("*.pt"))
    if holds_run(run_dir):
        if not advice and resumable:
            advice = f"continue it with resume={run_dir}, or choose another directory"
        elif not advice:  # stopped before its first checkpoint: resume would have nothing to start from
            advice = "it saved no checkpoint to resume from: delete it, or choose another directory"
        raise UserError(f"{key}={run_dir} already holds a run (metrics.jsonl, checkpoints/); {advice}")
    ours = (LOCK_NAME, ".hydra")  # written for this run by the lock and by Hydra just before it trains
    held = sorted(p.name for p in run_dir.iterdir() if p.name not in ours) if run_dir.is_dir() else []
    if held:  # e.g. hydra.run.dir=. or / or another run's checkpoints/: a run's files would mix with these
        shown = ", ".join(held[:5]) + (", ..." if len(held) > 5 else "")
        raise UserError(
            f"{key}={run_dir} is not empty (it holds {shown}); a new run needs a new or empty directory"
        )


def saved_overrides(run_dir: Path) -> list[str]:
    """The overrides a run was made with: .hydra/overrides.yaml, plus the `hydra.searchpath` Hydra kept in
    .hydra/hydra.yaml (a config folder of the user's own: its agents and envs must be found again)."""
    hydra_dir = Path(run_dir) / ".hydra"
    out = [str(a) for a in (OmegaConf.load(hydra_dir / "overrides.yaml") or [])]
    if (hydra_dir / "hydra.yaml").is_file():
        hydra_overrides = OmegaConf.select(OmegaConf.load(hydra_dir / "hydra.yaml"), "hydra.overrides.hydra")
        out += [str(a) for a in hydra_overrides or [] if str(a).lstrip("+").startswith("hydra.searchpath=")]
    return out
