"""Sample grids at each evaluation, for envs that draw what an agent generates (GAN tasks, rlkit.envs.gan).

An env whose unwrapped class sets ``samples_at_eval = True`` and has ``sample_grid(agent) -> (H, W, 3)``
gets, after every evaluation, the agent's fixed-noise samples written to ``<run dir>/samples/step_<N>.png``
and to TensorBoard (tag ``samples/grid``, Images tab). It is a logger of the run's MultiLogger: it acts on
the evaluation's ``eval/`` scalars, which the runner logs once per evaluation, at its step.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym

from rlkit.core.diskio import writing
from rlkit.envs.supervised import save_png


def draws_samples(env: Any) -> bool:
    """Whether the env (or the first env of a vector env) writes sample grids at evaluations."""
    envs = getattr(env, "envs", None)
    env = envs[0] if isinstance(envs, list | tuple) and envs else env
    unwrapped = getattr(env, "unwrapped", env)
    return bool(getattr(unwrapped, "samples_at_eval", False)) and callable(
        getattr(unwrapped, "sample_grid", None)
    )


class SampleGridLogger:
    """Writes the agent's sample grid when an evaluation is logged (see the module docstring)."""

    def __init__(self, agent: Any, make_env: Callable[[], gym.Env], run_dir: Path, tensorboard: Any = None):
        self.agent, self.make_env, self.dir, self.tensorboard = (
            agent,
            make_env,
            Path(run_dir) / "samples",
            tensorboard,
        )
        self._env: gym.Env | None = None

    def log(self, metrics: dict[str, float], step: int) -> None:
        """On an evaluation's scalars: samples/step_<step>.png and a TensorBoard image."""
        if not any(key.startswith("eval/") for key in metrics):
            return
        if self._env is None:
            self._env = self.make_env()
        frame = self._env.unwrapped.sample_grid(self.agent)
        path = self.dir / f"step_{step}.png"
        with writing(path):
            save_png(frame, path)
        if self.tensorboard is not None:
            self.tensorboard.log_video("samples/grid", frame[None], step, fps=1)

    def flush(self) -> None:
        """Nothing buffered."""

    def close(self) -> None:
        """Closes its env."""
        if self._env is not None:
            self._env.close()
