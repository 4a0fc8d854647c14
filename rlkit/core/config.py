"""Typed config of a run (dataclasses): the run-level keys, the env's, and the sections the runner reads.

Plain dataclasses, no Hydra: the front end stores them in Hydra's ConfigStore (bad keys and types fail at
compose time) and hands the runner a RunConfig. Each agent's config is its own dataclass, `AgentClass.Config`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

MISSING: Any = "???"  # OmegaConf's marker of a value that must be given (omegaconf.MISSING)


class UIMode(Enum):
    """auto: rich when stdout is a terminal, else plain lines; rich; plain; none."""

    auto = "auto"
    rich = "rich"
    plain = "plain"
    none = "none"


@dataclass
class EnvConfig:
    """Any Gymnasium env by id.

    Attributes:
        name: short name used in run directory names and summaries.
        id: a registered Gymnasium id, e.g. rlkit/GridMaze-v0 or FrozenLake-v1.
        kwargs: constructor arguments passed to gymnasium.make.
        eval_kwargs: kwargs replaced for the evaluation env (e.g. a held-out split, raw rewards).
        max_episode_steps: episode cap (truncation); None keeps the id's registered cap.
        eval_episodes: episodes per evaluation for this env, replacing eval.episodes (e.g. 1 for a test set).
        default_total_steps: training length in env steps when neither total_steps nor
            total_episodes is set.
        default_total_episodes: the same in episodes.
    """

    name: str = MISSING
    id: str = MISSING
    kwargs: dict[str, Any] = field(default_factory=dict)
    eval_kwargs: dict[str, Any] = field(default_factory=dict)
    max_episode_steps: int | None = None
    eval_episodes: int | None = None
    default_total_steps: int | None = 50_000
    default_total_episodes: int | None = None


@dataclass
class EvalConfig:
    """Greedy evaluation on a separate env instance.

    Attributes:
        every: env steps between evaluations (0: only the final one).
        episodes: episodes per evaluation.
        max_episode_steps: step cap of an evaluation episode when the env has no time limit of its own (the
            env's own cap wins when it has one); a cut episode counts as truncated (eval/truncated).
    """

    every: int = 2_000
    episodes: int = 10
    max_episode_steps: int = 10_000


@dataclass
class CheckpointConfig:
    """Attributes:
    every: env steps between checkpoints (0: only the final one; Ctrl-C always writes one).
    keep: numbered checkpoints kept (plus latest.pt and best.pt).
    """

    every: int = 10_000
    keep: int = 3


@dataclass
class VideoConfig:
    """Greedy episodes recorded during training. Attributes:
    every: env steps between recordings (0: never); each goes to TensorBoard and <run dir>/videos/.
    fps: frames per second of the recording.
    scale: integer upscaling of each frame.
    """

    every: int = 0
    fps: int = 30
    scale: int = 1


@dataclass
class StopConfig:
    """Early stop. Attributes:
    return_mean: stop when the mean return of the last `window` episodes reaches this (None: never).
    window: episodes in that mean.
    """

    return_mean: float | None = None
    window: int = 100


@dataclass
class RunConfig:
    """What the runner reads: the seed, the budget, the logging cadence and the eval/checkpoint/stop/video
    sections. Training lengths count env steps summed over all envs.

    Attributes:
        seed: one seed fixes the agent, the envs and the evaluation envs.
        total_steps: env steps to train for (None: see total_episodes, then env.default_total_*).
        total_episodes: episodes to train for; with total_steps too, whichever comes first ends training.
        log_every: env steps between periodic metric lines (time/sps, epsilon, agent metrics).
        num_threads: torch's CPU threads, and the BLAS/OpenMP pools numpy, SciPy and scikit-learn have loaded,
            for the whole process (None: the libraries' defaults, one per core; 1 is much faster for small
            networks on a busy shared CPU). Set once by the front end, never by agents.
    """

    seed: int = 0
    total_steps: int | None = None
    total_episodes: int | None = None
    log_every: int = 1_000
    num_threads: int | None = None
    eval: EvalConfig = field(default_factory=EvalConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    stop: StopConfig = field(default_factory=StopConfig)
    video: VideoConfig = field(default_factory=VideoConfig)


@dataclass
class TrainConfig(RunConfig):
    """Top-level config of `rlkit train`: the run's keys (RunConfig) plus what the front end builds from.

    Attributes:
        agent: the agent's config (its class's `Config`, chosen by `agent=`).
        env: the env's config (chosen by `env=`).
        num_envs: envs stepped together; the agent acts for all of them in one call.
        device: auto (CUDA when present), cpu or cuda[:N]; tabular agents ignore it.
        ui: progress display: auto, rich, plain or none.
        resume: a run directory to continue (see the README).
    """

    agent: Any = MISSING
    env: EnvConfig = MISSING
    num_envs: int = 1
    device: str = "auto"
    ui: UIMode = UIMode.auto
    resume: str | None = None
