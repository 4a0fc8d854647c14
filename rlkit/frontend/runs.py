"""Loading a trained run: its config, its checkpoint and its agent with the checkpoint's weights.

A run is rebuilt exactly as training built it: the config is composed again from the run's saved overrides
(.hydra/overrides.yaml, so each agent and env gets its typed schema back) and the resolved values Hydra saved
(.hydra/config.yaml) are merged on top; the agent comes from rlkit.frontend.app.build_agent and the
checkpoint's agent state. `rlkit play` and `rlkit eval` use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from rlkit.core.checkpoint import Checkpointer, load_checkpoint
from rlkit.core.errors import UserError
from rlkit.core.types import Agent
from rlkit.envs.factory import make_env
from rlkit.frontend.app import build_agent
from rlkit.frontend.compose import compose_config
from rlkit.frontend.rundir import saved_overrides, upgrade_override, upgrade_saved_config

CHECKPOINTS = ("latest", "best")


@dataclass
class LoadedRun:
    """A run directory's config and its agent with the checkpoint's weights."""

    run_dir: Path
    cfg: DictConfig
    agent: Agent
    checkpoint: Path
    step: int | None  # env steps trained when the checkpoint was written


def load_run_config(run_dir: Path) -> DictConfig:
    """The run's resolved config, typed by the same schemas training used."""
    if not run_dir.exists():
        raise UserError(f"run directory {run_dir} does not exist")
    if not run_dir.is_dir():
        raise UserError(f"run={run_dir} is a file; give the run's directory")
    saved_path = run_dir / ".hydra" / "config.yaml"
    if not saved_path.is_file():
        raise UserError(f"{run_dir} is not an rlkit run directory: it has no .hydra/config.yaml")
    overrides = saved_overrides(run_dir) if (run_dir / ".hydra" / "overrides.yaml").is_file() else []
    try:
        # a resume= there was written by older resumes, which rewrote .hydra/: it is not config
        saved = [upgrade_override(o) for o in overrides]
        cfg = compose_config([o for o in saved if not o.startswith("resume=")])
        OmegaConf.set_struct(cfg, True)
        return OmegaConf.merge(cfg, upgrade_saved_config(OmegaConf.load(saved_path)))
    except UserError as err:
        raise UserError(f"the config of run {run_dir} no longer composes: {err}") from err
    except Exception as err:  # a saved value that does not fit today's schema
        reason = one_line(str(err)) or type(err).__name__
        raise UserError(f"the config of run {run_dir} does not fit rlkit's schema: {reason}") from err


def checkpoint_path(run_dir: Path, which: str = "latest") -> Path:
    """checkpoints/<latest|best|ckpt_N>.pt of a run (or a .pt file named directly), which must exist."""
    if which.endswith(".pt"):
        path = Path(which)
    elif which in CHECKPOINTS or (run_dir / "checkpoints" / f"{which}.pt").is_file():  # or a ckpt_<step> name
        path = run_dir / "checkpoints" / f"{which}.pt"
    else:
        raise UserError(
            f"checkpoint={which} is invalid: valid values are latest, best, a checkpoint's name in "
            f"{run_dir / 'checkpoints'} (e.g. ckpt_000000010000) or a .pt file"
        )
    if not path.is_file():
        found = sorted(p.stem for p in (run_dir / "checkpoints").glob("*.pt"))
        held = f"it holds: {', '.join(found)}" if found else "it holds no checkpoint (did training start?)"
        raise UserError(f"no checkpoint '{which}' in run {run_dir} ({path} does not exist); {held}")
    return path


def load_run_checkpoint(run_dir: Path, which: str = "latest") -> tuple[dict[str, Any], Path]:
    """(state, path) of a run's checkpoint; `latest` falls back to the newest good one, as resume does."""
    ckpt_dir = run_dir / "checkpoints"
    if which == "latest" and any(ckpt_dir.glob("*.pt")):
        return Checkpointer(ckpt_dir).load_latest()
    path = checkpoint_path(run_dir, which)
    return load_checkpoint(path), path


def load_run(run_dir: Path, checkpoint: str = "latest") -> LoadedRun:
    """The run's config and agent, with the agent state of its `checkpoint` (latest, best or a .pt path)."""
    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    state, path = load_run_checkpoint(run_dir, checkpoint)
    env = make_env(cfg.env, evaluation=True)
    try:
        agent = build_agent(cfg, env.observation_space, env.action_space)
    finally:
        env.close()
    try:
        agent.load_state_dict(state["agent"])
    except Exception as err:  # shape mismatch, missing keys, wrong types: all one message
        text = one_line(str(err))
        cause = err.__cause__
        if cause is not None and str(cause).strip():  # an agent's short message over torch's full list
            first = str(cause).strip().splitlines()[0].strip()
            text = text[: -len(first)] + one_line(str(cause)) if text.endswith(first) else text
        reason = f"missing key {text}" if isinstance(err, KeyError) else text or type(err).__name__
        raise UserError(f"checkpoint {path} does not fit its config: {reason}") from err
    step = state.get("runner", {}).get("step")
    return LoadedRun(run_dir, cfg, agent, path, int(step) if step is not None else None)


def one_line(text: str, limit: int = 400) -> str:
    """A multi-line message (torch's load_state_dict lists every mismatch) as one line of at most `limit`."""
    line = " ".join(part.strip() for part in text.splitlines() if part.strip())
    return line if len(line) <= limit else line[: limit - 3] + "..."
