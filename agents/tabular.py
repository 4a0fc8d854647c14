"""Tabular Q-learning, SARSA and Expected SARSA (the book's chapters 18-19), batched over num_envs.

One class, three TD targets (pure functions below). Acting is epsilon-greedy with random tie-breaking,
which covers the book's rule "act randomly while the Q row is all zeros" and also breaks partial ties fairly.
Where the book bootstraps from a terminal state's Q row (which stays 0 there anyway), we mask it with
`terminated`: the same numbers on the book's maze, and correct on envs where terminal rows could be non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from rlkit.core.errors import IncompatibleError, UserError, check_ranges, describe_space
from rlkit.core.schedules import linear_schedule
from rlkit.core.types import AgentContext, Transition

RULES = ("q_learning", "sarsa", "expected_sarsa")
UNIFORM_BLOCK = (
    4096  # uniforms drawn at once: numpy's scalar rng.random() costs ~1 us a call, a list read ~50 ns
)


@dataclass
class TabularConfig:
    """Hyperparameters of the tabular agents (the book's values are the defaults).

    Attributes:
        name: which TD rule: q_learning, sarsa or expected_sarsa.
        alpha: learning rate in (0, 1].
        gamma: discount in [0, 1].
        epsilon: exploration rate at the start, in [0, 1].
        epsilon_final: exploration rate after `epsilon_decay_steps` env steps (None: constant `epsilon`).
        epsilon_decay_steps: env steps of the linear decay from `epsilon` to `epsilon_final`.
        init_q: initial value of every Q entry (optimistic values explore more).
    """

    name: str = "q_learning"
    alpha: float = 0.1
    gamma: float = 0.9
    epsilon: float = 0.1
    epsilon_final: float | None = None
    epsilon_decay_steps: int = 0
    init_q: float = 0.0

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        checks = [
            ("name", self.name in RULES, f"one of {', '.join(RULES)}"),
            ("alpha", 0.0 < self.alpha <= 1.0, "in (0, 1]"),
            ("gamma", 0.0 <= self.gamma <= 1.0, "in [0, 1]"),
            ("epsilon", 0.0 <= self.epsilon <= 1.0, "in [0, 1]"),
            ("epsilon_final", self.epsilon_final is None or 0.0 <= self.epsilon_final <= 1.0, "in [0, 1]"),
            ("epsilon_decay_steps", self.epsilon_decay_steps >= 0, ">= 0"),
        ]
        check_ranges("agent.", checks, lambda key: repr(getattr(self, key)))


def epsilon_greedy_probs(q_row: list[float], epsilon: float) -> list[float]:
    """The epsilon-greedy policy's action probabilities; greedy mass is shared among tied maxima."""
    best = max(q_row)
    n_best = q_row.count(best)
    return [epsilon / len(q_row) + (1.0 - epsilon) * (v == best) / n_best for v in q_row]


def td_target(reward: float, terminated: bool, gamma: float, next_value: float) -> float:
    """r + gamma * V(s'), with no bootstrap from a terminal state (truncation still bootstraps)."""
    return reward if terminated else reward + gamma * next_value


class TabularAgent:
    """A Q-table learned by one of three TD rules; acts epsilon-greedily for all envs at once."""

    Config = TabularConfig  # the schema of the agent YAMLs whose _target_ is this class

    def __init__(self, cfg: TabularConfig, ctx: AgentContext):
        cfg.validate()
        self.cfg = cfg
        self.n_states = _discrete_n(ctx, ctx.observation_space, "observation")
        self.n_actions = _discrete_n(ctx, ctx.action_space, "action")
        self._obs_start = int(ctx.observation_space.start)
        self._act_start = int(ctx.action_space.start)
        self.q = np.full((self.n_states, self.n_actions), cfg.init_q, dtype=np.float64)
        self.rng = np.random.default_rng(ctx.seed)
        self._uniforms: list[float] = []  # a block of rng.random() draws, used in order: the same stream
        self._used = 0  # how many of the block are used
        self._block_state = self.rng.bit_generator.state  # the RNG state the block was drawn from
        self.steps = 0
        self._batch: Transition | None = None
        self._next_action: list[int] | None = None  # SARSA's a', chosen before the update, played next
        self._next_valid: list[bool] | None = None
        # one env's action arrays, made once (0.04 against 0.35 us a step); read-only, as they are shared
        self._one_env_actions = [np.array((a + self._act_start,), np.int64) for a in range(self.n_actions)]
        for array in self._one_env_actions:
            array.flags.writeable = False

    @property
    def epsilon(self) -> float:
        """Current exploration rate (decays linearly when epsilon_final is set)."""
        c = self.cfg
        if c.epsilon_final is None:
            return c.epsilon
        return linear_schedule(c.epsilon, c.epsilon_final, c.epsilon_decay_steps, self.steps)

    def _uniform(self) -> float:
        """The next number of the stream rng.random() would give, read from a pre-drawn block."""
        if self._used == len(self._uniforms):
            self._block_state = self.rng.bit_generator.state
            self._uniforms, self._used = self.rng.random(UNIFORM_BLOCK).tolist(), 0
        self._used += 1
        return self._uniforms[self._used - 1]

    def _choose(self, state: int, epsilon: float) -> int:
        """Epsilon-greedy action in one state; ties among the best actions are broken at random."""
        # A uniform scaled to an index: a tenth of the cost of rng.integers / rng.choice per call.
        if epsilon > 0.0 and self._uniform() < epsilon:
            return int(self._uniform() * self.n_actions)
        row = self.q[state].tolist()
        best = max(row)
        if row.count(best) == 1:
            return row.index(best)
        ties = [a for a, v in enumerate(row) if v == best]
        return ties[int(self._uniform() * len(ties))]

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """Epsilon-greedy actions when exploring, greedy (random among ties) otherwise (for one env, a
        read-only array shared between calls)."""
        epsilon = self.epsilon if explore else 0.0
        states = np.asarray(obs).tolist()
        if len(states) == 1 and (not explore or self._next_action is None):  # one env: no lists (same draws)
            return self._one_env_actions[self._choose(states[0] - self._obs_start, epsilon)]
        choose, start = self._choose, self._obs_start
        actions = [choose(s - start, epsilon) for s in states]
        if explore and self._next_action is not None:  # SARSA plays the a' its last update used
            actions = [a2 if ok else a for a, a2, ok in zip(actions, self._next_action, self._next_valid)]
            self._next_action = self._next_valid = None
        actions = np.asarray(actions, dtype=np.int64)
        return actions + self._act_start if self._act_start else actions

    def observe(self, transition: Transition) -> None:
        """Keeps the batch for the next update; the steps count drives the epsilon schedule."""
        self._batch = transition
        self.steps += len(transition.reward)

    def update(self) -> dict[str, float]:
        """One TD update per env from the last observed batch, env by env (the table is small)."""
        b = self._batch
        if b is None:
            return {}
        self._batch = None
        q, rule, epsilon, s0, a0 = self.q, self.cfg.name, self.epsilon, self._obs_start, self._act_start
        next_actions, abs_td = [], 0.0
        ob, ac, rw, nx, te = b.obs, b.action, b.reward, b.next_obs, b.terminated
        if len(rw) == 1:  # one env: its five numbers, without five lists and a zip
            batch: Any = ((ob.item(), ac.item(), rw.item(), nx.item(), te.item()),)
        else:
            batch = zip(ob.tolist(), ac.tolist(), rw.tolist(), nx.tolist(), te.tolist())
        for s, a, r, s2, terminated in batch:
            s, a, s2 = s - s0, a - a0, s2 - s0
            if rule == "q_learning":
                next_value = max(q[s2].tolist())
            elif rule == "sarsa":
                a2 = self._choose(s2, epsilon)
                next_actions.append(a2)
                next_value = float(q[s2, a2])
            else:
                row = q[s2].tolist()
                next_value = sum(p * v for p, v in zip(epsilon_greedy_probs(row, epsilon), row))
            q_sa = q.item(s, a)  # a Python float: the same IEEE arithmetic as numpy's, without its scalars
            td_error = td_target(r, terminated, self.cfg.gamma, next_value) - q_sa
            q[s, a] = q_sa + self.cfg.alpha * td_error
            abs_td += abs(td_error)
        if rule == "sarsa":
            self._next_action, self._next_valid = next_actions, (~b.done).tolist()
        return {"epsilon": epsilon, "abs_td_error": abs_td / len(b.reward)}

    def greedy_actions(self) -> np.ndarray:
        """The greedy action of every state (first index on ties), e.g. to draw a policy map."""
        return self.q.argmax(axis=1)

    def state_dict(self) -> dict[str, Any]:
        """Q-table, step count, RNG state and SARSA's pending action."""
        pending = self._next_action is not None
        return {
            "q": torch.from_numpy(self.q.copy()),
            "steps": self.steps,
            "rng": self._block_state,  # with rng_used: the RNG state and how far into its block we are
            "rng_used": self._used,
            "next_action": list(self._next_action) if pending else None,
            "next_valid": list(self._next_valid) if pending else None,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores a state_dict(); refuses a Q-table of another shape."""
        q = state["q"].numpy()
        if q.shape != self.q.shape:
            raise UserError(f"checkpoint Q-table has shape {q.shape}, this env needs {self.q.shape}")
        self.q = q.astype(np.float64, copy=True)
        self.steps = int(state["steps"])
        self.rng.bit_generator.state = state["rng"]
        self._block_state, self._uniforms, self._used = state["rng"], [], 0
        if state.get("rng_used", 0):  # redraw the block the checkpoint was reading, at the same place
            self._uniforms = self.rng.random(UNIFORM_BLOCK).tolist()
            self._used = int(state["rng_used"])
        self._next_action, self._next_valid = state.get("next_action"), state.get("next_valid")


def _discrete_n(ctx: AgentContext, space: gym.Space, what: str) -> int:
    if not isinstance(space, gym.spaces.Discrete):
        raise IncompatibleError(
            f"agent '{ctx.agent_name}' is tabular and needs Discrete observation and action spaces, but env "
            f"'{ctx.env_name}' has observation space {describe_space(ctx.observation_space)} and action "
            f"space {describe_space(ctx.action_space)} (its {what} space is not Discrete). Use a tabular "
            "agent on envs such as maze, FrozenLake-v1, CliffWalking-v1 or Taxi-v4, or a deep agent for this "
            "env."
        )
    return int(space.n)
