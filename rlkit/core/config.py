"""Typed config schemas (dataclasses) in Hydra's ConfigStore: bad keys and types fail at compose time.

The YAML files in configs/ list a schema first in their defaults, e.g. configs/agent/sarsa.yaml starts with
`defaults: [tabular_schema, _self_]`; each agent's schema lives beside its code and is registered here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


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
    """

    every: int = 2_000
    episodes: int = 10


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
class TrainConfig:
    """Top-level config of `rlkit train`. Training lengths count env steps summed over all envs.

    Attributes:
        seed: one seed fixes the agent, the envs and the evaluation envs.
        total_steps: env steps to train for (None: see total_episodes, then env.default_total_*).
        total_episodes: episodes to train for; with total_steps too, whichever comes first ends training.
        num_envs: envs stepped together; the agent acts for all of them in one call.
        device: auto (CUDA when present), cpu or cuda[:N]; tabular agents ignore it.
        ui: progress display: auto, rich, plain or none.
        log_every: env steps between periodic metric lines (time/sps, epsilon, agent metrics).
        num_threads: torch's CPU threads for the whole process (None: torch's default, one per core; 1 is
            much faster for small networks on a busy shared CPU). Set once by the front end, never by agents.
    """

    agent: Any = MISSING
    env: EnvConfig = MISSING
    seed: int = 0
    total_steps: int | None = None
    total_episodes: int | None = None
    num_envs: int = 1
    device: str = "auto"
    ui: UIMode = UIMode.auto
    log_every: int = 1_000
    num_threads: int | None = None
    eval: EvalConfig = field(default_factory=EvalConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    stop: StopConfig = field(default_factory=StopConfig)
    video: VideoConfig = field(default_factory=VideoConfig)
    resume: str | None = None  # a run directory to continue (see the README)


def register_schemas(agent_schemas: dict[str, type]) -> None:
    """Stores the top-level, env and agent schemas in Hydra's ConfigStore (idempotent)."""
    cs = ConfigStore.instance()
    cs.store(name="train_schema", node=TrainConfig)
    cs.store(group="env", name="env_schema", node=EnvConfig)
    for name, schema in agent_schemas.items():
        cs.store(group="agent", name=f"{name}_schema", node=schema)
