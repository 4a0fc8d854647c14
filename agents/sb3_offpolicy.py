"""Off-policy SB3 algorithms (DQN, QR-DQN, SAC, TD3, DDPG, TQC, CrossQ) fed from rlkit's runner.

This is SB3's `OffPolicyAlgorithm.collect_rollouts` + `learn` rewritten as act / observe / update:
- act: `_sample_action` (uniform random before learning_starts, epsilon-greedy for the DQN family,
  the stochastic policy plus action noise for SAC / TD3), remembering the buffer-scaled action;
- observe: `replay_buffer.add` with the true final observation (rlkit's vector env already hands it over)
  and `TimeLimit.truncated` set on truncation, so SB3's `handle_timeout_termination` bootstraps there;
  then SB3's counters: num_timesteps, progress remaining, `_on_step` (target net, exploration schedule);
- update: every `train_freq` steps (or episodes), once past learning_starts, `model.train(gradient_steps)`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.type_aliases import TrainFrequencyUnit

from rlkit.agents.sb3_base import SB3AgentBase, SB3Config
from rlkit.core.errors import UserError
from rlkit.core.seeding import RandomStream
from rlkit.core.types import AgentContext, Transition


def timeout_infos(terminated: np.ndarray, truncated: np.ndarray) -> list[dict[str, bool]]:
    """SB3's per-env infos for its replay buffer: TimeLimit.truncated = truncated and not terminated."""
    return [{"TimeLimit.truncated": bool(tr and not te)} for te, tr in zip(terminated, truncated)]


class SB3OffPolicyAgent(SB3AgentBase):
    """An SB3 off-policy model collecting through rlkit's act / observe / update."""

    def __init__(
        self, model: Any, cfg: SB3Config, ctx: AgentContext, zoo_run: dict[str, Any], rng: RandomStream
    ):
        super().__init__(model, cfg, ctx, zoo_run, rng)
        freq = model.train_freq
        if freq.unit == TrainFrequencyUnit.EPISODE and ctx.num_envs > 1:
            raise UserError("agent.hyperparams.train_freq counted in episodes needs num_envs=1 (SB3's rule)")
        self._steps_since_train = 0  # vector steps (SB3's num_collected_steps)
        self._episodes_since_train = 0
        self._buffer_action: np.ndarray | None = None
        self._sde_steps = 0
        if model.action_noise is not None and ctx.num_envs > 1:
            from stable_baselines3.common.noise import VectorizedActionNoise

            model.action_noise = VectorizedActionNoise(model.action_noise, ctx.num_envs)

    def _explore(self, obs: np.ndarray) -> np.ndarray:
        """SB3's exploration action for each env."""
        m = self.model
        if m.use_sde and (
            self._sde_steps == 0 or (m.sde_sample_freq > 0 and self._sde_steps % m.sde_sample_freq == 0)
        ):
            m.actor.reset_noise(self.num_envs)
        self._sde_steps += 1
        m._last_obs = self._obs(obs)
        action, self._buffer_action = m._sample_action(m.learning_starts, m.action_noise, self.num_envs)
        return action

    def observe(self, transition: Transition) -> None:
        """Writes the batch into SB3's replay buffer and advances SB3's counters as collect_rollouts does."""
        m, t = self.model, transition
        done = t.terminated | t.truncated
        m.replay_buffer.add(
            self._obs(t.obs),
            self._obs(t.next_obs),
            self._buffer_action,
            np.asarray(t.reward, dtype=np.float32),
            done,
            timeout_infos(t.terminated, t.truncated),
        )
        self._advance(self.num_envs)
        m._on_step()
        self._steps_since_train += 1
        ended = int(done.sum())
        if ended:
            self._episodes_since_train += ended
            m._episode_num += ended
            if m.action_noise is not None:
                for i in np.flatnonzero(done):
                    m.action_noise.reset(**({"indices": [int(i)]} if self.num_envs > 1 else {}))

    def _update_due(self) -> bool:
        return self._collected_enough()

    def _collected_enough(self) -> bool:
        freq = self.model.train_freq
        if freq.unit == TrainFrequencyUnit.STEP:
            return self._steps_since_train >= freq.frequency
        return self._episodes_since_train >= freq.frequency

    def _update(self) -> dict[str, float]:
        """SB3's train() once train_freq is collected and learning_starts is passed; its metrics."""
        m = self.model
        if not self._collected_enough():
            return {}
        collected = self._steps_since_train * self.num_envs
        self._steps_since_train = self._episodes_since_train = self._sde_steps = 0
        if not (m.num_timesteps > 0 and m.num_timesteps > m.learning_starts):
            return {}
        gradient_steps = m.gradient_steps if m.gradient_steps >= 0 else collected
        if gradient_steps <= 0:
            return {}
        m.train(batch_size=m.batch_size, gradient_steps=gradient_steps)
        m.policy.set_training_mode(False)
        metrics = self._train_metrics()
        if hasattr(m, "exploration_rate"):
            metrics["epsilon"] = float(m.exploration_rate)
        return metrics

    def _extra_counters(self) -> dict[str, Any]:
        return {
            "steps_since_train": self._steps_since_train,
            "episodes_since_train": self._episodes_since_train,
        }

    def _load_extra_counters(self, counters: dict[str, Any]) -> None:
        self._steps_since_train = int(counters.get("steps_since_train", 0))
        self._episodes_since_train = int(counters.get("episodes_since_train", 0))
