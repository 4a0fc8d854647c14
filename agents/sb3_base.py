"""The SB3 adapters' shared part: SB3Config (the algorithm, Zoo hyperparameters, overrides) and SB3AgentBase
(acting, metrics, checkpoints of an SB3 model); rlkit.agents.sb3_onpolicy and sb3_offpolicy add collecting."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from rlkit.agents.sb3_model import needs_transpose
from rlkit.core.errors import UserError
from rlkit.core.seeding import RandomStream
from rlkit.core.types import AgentContext

FALLBACK_SCHEDULE_STEPS = 100_000


@dataclass
class SB3Config:
    """Any Stable-Baselines3 / sb3-contrib algorithm under the rlkit runner.

    Attributes:
        name: the agent name (sb3, sb3_ppo, sb3_a2c, sb3_dqn).
        algo: the algorithm's class name, e.g. PPO, A2C, DQN, SAC, TD3, QRDQN, TQC, TRPO.
        policy: auto (CnnPolicy for images, MultiInputPolicy for dicts, else MlpPolicy) or an SB3 policy name.
        hyperparams: the algorithm's constructor arguments, overriding the Zoo's (lin_<x>: linear decay).
        zoo: start from RL Baselines3 Zoo's published hyperparameters where the Zoo has them for this env.
        device: null (the run's device), cpu, cuda or auto.
        schedule_steps: env steps SB3's schedules span (learning rate, clip range, DQN exploration); the YAML
            sets it to the run's total_steps; null then means the Zoo's n_timesteps, else 100,000.
        env_id: the env's Gymnasium id (set by the YAML from env.id), to look up the Zoo's table.
    """

    name: str = "sb3"
    algo: str = "PPO"
    policy: str = "auto"
    hyperparams: dict[str, Any] = field(default_factory=dict)
    zoo: bool = True
    device: str | None = None
    schedule_steps: int | None = None
    env_id: str = ""


class SB3AgentBase:
    """What both adapters share: the model, schedule progress, metrics, RNG and checkpoint plumbing.

    SB3 draws from Python's, NumPy's and torch's global generators: the agent's own RandomStream `rng`
    (the one the model was built in) stands in for them while it acts and trains (act, update)."""

    def __init__(
        self, model: Any, cfg: SB3Config, ctx: AgentContext, zoo_run: dict[str, Any], rng: RandomStream
    ):
        self.model, self.cfg, self.num_envs, self.rng = model, cfg, ctx.num_envs, rng
        self._epsilon_greedy = hasattr(model, "exploration_rate")  # DQN, QRDQN: np.random.rand() per act
        total = getattr(ctx, "total_steps", None) or cfg.schedule_steps or zoo_run.get("n_timesteps")
        self.schedule_steps = int(total or FALLBACK_SCHEDULE_STEPS)
        model._total_timesteps = self.schedule_steps
        self.transpose = needs_transpose(ctx.observation_space)
        self.model.policy.set_training_mode(False)

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """SB3's exploration action for each env (from the agent's stream); greedy when not exploring."""
        if not explore:
            return self.act_greedy(obs)
        # SB3 acts from torch's generator, and NumPy's for epsilon-greedy (np.random.rand) or action noise
        # (np.random.normal, stable_baselines3/common/noise.py); never from Python's
        noise = getattr(self.model, "action_noise", None) is not None
        with self.rng.active(python=False, numpy=self._epsilon_greedy or noise, numpy_normals=noise):
            return self._explore(obs)

    def update(self) -> dict[str, float]:
        """SB3's train() when its own loop would run it (drawing from the agent's stream); its metrics."""
        if not self._update_due():
            return {}
        # SB3's and sb3-contrib's train() draw from torch's generator and NumPy's for batches (randint,
        # permutation, choice in their buffers): no normals from NumPy, nothing from Python's
        with self.rng.active(python=False, numpy_normals=False):
            return self._update()

    def _explore(self, obs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _update_due(self) -> bool:
        """Whether update() has anything to do this step (it draws nothing otherwise)."""
        raise NotImplementedError

    def _update(self) -> dict[str, float]:
        raise NotImplementedError

    # ----- helpers for the adapters -----
    def _obs(self, obs: np.ndarray) -> np.ndarray:
        """Observations in the layout SB3's policy expects (channels first for images)."""
        return np.transpose(obs, (0, 3, 1, 2)) if self.transpose else obs

    def _advance(self, n: int) -> None:
        """SB3's step counter and the progress its schedules read, as learn() would keep them."""
        m = self.model
        m.num_timesteps += n
        m._update_current_progress_remaining(m.num_timesteps, self.schedule_steps)
        m._current_progress_remaining = max(m._current_progress_remaining, 0.0)

    def _train_metrics(self) -> dict[str, float]:
        """The numbers SB3's train() recorded, without the 'train/' prefix (the runner adds it)."""
        values = self.model.logger.name_to_value
        out = {
            k.split("/", 1)[-1]: float(v)
            for k, v in values.items()
            if k.startswith("train/") and isinstance(v, int | float | np.number)
        }
        self.model.logger.name_to_value.clear()
        self.model.logger.name_to_count.clear()
        self.model.logger.name_to_excluded.clear()
        return out

    def act_greedy(self, obs: np.ndarray) -> np.ndarray:
        """SB3's deterministic action (model.predict(deterministic=True))."""
        action, _ = self.model.predict(self._obs(obs), deterministic=True)
        return np.asarray(action)

    # ----- checkpoints -----
    def state_dict(self) -> dict[str, Any]:
        """Policy and optimizer state, SB3's counters and the RNGs: tensors and numbers only."""
        m = self.model
        modules, tensors = m._get_torch_save_params()
        return {
            "algo": self.cfg.algo,
            "modules": {name: _resolve(m, name).state_dict() for name in modules},
            "tensors": {name: _resolve(m, name).detach().clone() for name in tensors},
            "counters": {
                "num_timesteps": int(m.num_timesteps),
                "n_updates": int(m._n_updates),
                "episode_num": int(m._episode_num),
                "n_calls": int(getattr(m, "_n_calls", 0)),
                "exploration_rate": float(getattr(m, "exploration_rate", 0.0)),
                **self._extra_counters(),
            },
            "rng": {**self.rng.state_dict(), "space": dict(m.action_space.np_random.bit_generator.state)},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores state_dict()'s output (the buffer starts empty)."""
        m = self.model
        if state.get("algo") != self.cfg.algo:
            raise UserError(f"the checkpoint holds a {state.get('algo')} model, not {self.cfg.algo}")
        for name, sd in state["modules"].items():
            _resolve(m, name).load_state_dict(sd)
        for name, tensor in state["tensors"].items():
            with torch.no_grad():
                _resolve(m, name).copy_(tensor)
        c = state["counters"]
        m.num_timesteps, m._n_updates, m._episode_num = c["num_timesteps"], c["n_updates"], c["episode_num"]
        if hasattr(m, "_n_calls"):
            m._n_calls = c["n_calls"]
        if hasattr(m, "exploration_rate"):
            m.exploration_rate = c["exploration_rate"]
        m._update_current_progress_remaining(m.num_timesteps, self.schedule_steps)
        self._load_extra_counters(c)
        self.rng.load_state_dict(state["rng"])
        m.action_space.np_random.bit_generator.state = state["rng"]["space"]

    def _extra_counters(self) -> dict[str, Any]:
        return {}

    def _load_extra_counters(self, counters: dict[str, Any]) -> None:
        pass


def _resolve(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj
