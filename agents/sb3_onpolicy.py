"""On-policy SB3 algorithms (PPO, A2C, TRPO, MaskablePPO without masks) fed from rlkit's runner.

This is SB3's `OnPolicyAlgorithm.collect_rollouts` + `learn` rewritten as act / observe / update:
- act: one policy forward for all envs gives actions, values and log-probs (kept for observe);
- observe: `rollout_buffer.add`; on truncation (not termination) the reward gets gamma * V(true final obs)
  added, exactly SB3's timeout bootstrap (GitHub issue #633);
- update: once n_steps per env are in, returns and advantages (GAE) from V(last next obs), `model.train()`,
  and a fresh buffer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.utils import obs_as_tensor

from rlkit.agents.sb3_base import SB3AgentBase, SB3Config
from rlkit.core.seeding import RandomStream
from rlkit.core.types import AgentContext, Transition


def bootstrap_truncated(
    reward: np.ndarray, terminated: np.ndarray, truncated: np.ndarray, gamma: float, final_values: np.ndarray
) -> np.ndarray:
    """r + gamma * V(final obs) where an episode was cut by a time limit (truncated, not terminated)."""
    cut = truncated & ~terminated
    return np.where(cut, reward + gamma * final_values, reward).astype(np.float32)


class SB3OnPolicyAgent(SB3AgentBase):
    """An SB3 on-policy model collecting rollouts through rlkit's act / observe / update."""

    def __init__(
        self, model: Any, cfg: SB3Config, ctx: AgentContext, zoo_run: dict[str, Any], rng: RandomStream
    ):
        super().__init__(model, cfg, ctx, zoo_run, rng)
        self._episode_starts = np.ones(ctx.num_envs, dtype=bool)
        self._step: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = (
            None  # actions, values, log-probs
        )
        self._last_next_obs: np.ndarray | None = None
        self._last_done: np.ndarray | None = None
        self._n_steps = 0  # vector steps in the current rollout
        model.rollout_buffer.reset()

    def _explore(self, obs: np.ndarray) -> np.ndarray:
        """Sampled actions (values and log-probs kept for the buffer)."""
        m = self.model
        if m.use_sde and (
            self._n_steps == 0 or (m.sde_sample_freq > 0 and self._n_steps % m.sde_sample_freq == 0)
        ):
            m.policy.reset_noise(self.num_envs)
        with torch.no_grad():
            actions, values, log_probs = m.policy(obs_as_tensor(self._obs(obs), m.device))
        self._step = (actions, values, log_probs)
        actions = actions.cpu().numpy()
        if isinstance(m.action_space, spaces.Box):
            if m.policy.squash_output:
                return m.policy.unscale_action(actions)
            return np.clip(actions, m.action_space.low, m.action_space.high)
        return actions

    def _values(self, obs: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            return self.model.policy.predict_values(obs_as_tensor(self._obs(obs), self.model.device))

    def observe(self, transition: Transition) -> None:
        """Adds the step to SB3's rollout buffer, bootstrapping truncated episodes from their final obs."""
        m, t = self.model, transition
        actions, values, log_probs = self._step
        reward = np.asarray(t.reward, dtype=np.float32)
        cut = t.truncated & ~t.terminated
        if cut.any():  # one env at a time, as SB3 does, so the numbers match SB3's learn() to the bit
            final_values = np.zeros(self.num_envs, dtype=np.float32)
            for i in np.flatnonzero(cut):
                final_values[i] = self._values(t.next_obs[i : i + 1]).item()
            reward = bootstrap_truncated(reward, t.terminated, t.truncated, m.gamma, final_values)
        buffer_actions = actions.cpu().numpy()
        if isinstance(m.action_space, spaces.Discrete):
            buffer_actions = buffer_actions.reshape(-1, 1)
        m.rollout_buffer.add(
            self._obs(t.obs), buffer_actions, reward, self._episode_starts, values, log_probs
        )
        self._episode_starts = t.terminated | t.truncated
        self._last_next_obs, self._last_done = t.next_obs, self._episode_starts
        self._advance(self.num_envs)
        self._n_steps += 1
        m._episode_num += int(self._episode_starts.sum())

    def _update_due(self) -> bool:
        return self.model.rollout_buffer.full

    def _update(self) -> dict[str, float]:
        """With a full rollout: GAE returns, SB3's train(), a fresh buffer; returns SB3's train metrics."""
        m = self.model
        if not m.rollout_buffer.full:
            return {}
        # V of the next obs; where an episode just ended SB3 masks it out (the true final obs stands in).
        last_values = self._values(self._last_next_obs)
        m.rollout_buffer.compute_returns_and_advantage(last_values=last_values, dones=self._last_done)
        m.train()
        m.policy.set_training_mode(False)
        m.rollout_buffer.reset()
        self._n_steps = 0
        return self._train_metrics()

    def _extra_counters(self) -> dict[str, Any]:
        return {"episode_starts": torch.from_numpy(self._episode_starts.copy())}

    def _load_extra_counters(self, counters: dict[str, Any]) -> None:
        # The partial rollout was not saved: collection restarts with an empty buffer.
        if "episode_starts" in counters:
            self._episode_starts = counters["episode_starts"].numpy().astype(bool)
        self.model.rollout_buffer.reset()
        self._n_steps = 0
