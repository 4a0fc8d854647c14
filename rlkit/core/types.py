"""The few core types every part of rlkit speaks: a batch of transitions, the Agent and Logger protocols."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np


class Transition(NamedTuple):
    """One env step for each of `num_envs` envs, in Gymnasium's vocabulary (leading axis = env index).

    `next_obs` is the true next observation: where an episode ended it is the final observation,
    not the first observation of the next episode. `done` is only ever derived.
    """

    obs: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    info: list[dict[str, Any]] = []  # noqa: RUF012 (never mutated)

    @property
    def done(self) -> np.ndarray:
        """Episodes that ended this step, by termination or truncation."""
        return self.terminated | self.truncated


@dataclass
class AgentContext:
    """What an agent is built from besides its own config: the env's spaces and the run's facts."""

    observation_space: Any
    action_space: Any
    num_envs: int = 1
    seed: int = 0
    device: str = "cpu"
    agent_name: str = ""
    env_name: str = ""
    env_id: str = ""
    total_steps: int | None = None  # the run's budget in env steps, when it is set in steps


@runtime_checkable
class Agent(Protocol):
    """What the runner needs from an agent. The agent owns its memory and decides when it learns."""

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """Actions for a batch of observations (one per env)."""
        ...

    def observe(self, transition: Transition) -> None:
        """Takes the batch of transitions the last actions produced."""
        ...

    def update(self) -> dict[str, float]:
        """Learns if it is time to; returns metrics (possibly empty) to log under train/: floats, or values
        the runner reads with float() only when it logs (a tensor, a rlkit.core.lazy.LazyMetric)."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: tensors, numbers, strings, lists and dicts only."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores what state_dict() returned."""
        ...


class Logger(Protocol):
    """A metrics sink. TensorBoard, JSONL and the console fan out from one call."""

    def log(self, metrics: dict[str, float], step: int) -> None:
        """Records scalar metrics at an env step."""
        ...

    def close(self) -> None:
        """Flushes and releases files."""
        ...
