"""Stable-Baselines3 (and sb3-contrib) algorithms as rlkit agents, driven by rlkit's one runner.

SB3's `learn()` owns its own loop, so it is never called. The adapters keep what SB3 is good at (its model,
its policies, its replay and rollout buffers and, above all, its `train()` gradient code) and re-implement
only collection, in the runner's terms: `act` is SB3's exploration policy, `observe` writes SB3's buffer,
`update` calls `model.train()` when SB3's own loop would have (train_freq for off-policy, a full rollout for
on-policy), keeping SB3's counters (num_timesteps, progress remaining, `_on_step`) as `learn()` would.
With the same seed the weights equal those of SB3's own `learn()` to the bit (tests/agents/test_sb3.py).
The model is built against a stub VecEnv that only carries the spaces: SB3 never sees or steps rlkit's envs.
Checkpoints hold tensors and numbers only (never SB3's zip/pickle); the replay / rollout buffer is not saved.
"""

from __future__ import annotations

from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.utils import get_device

from rlkit.agents.sb3_base import SB3AgentBase, SB3Config
from rlkit.agents.sb3_model import build_model
from rlkit.agents.sb3_offpolicy import SB3OffPolicyAgent
from rlkit.agents.sb3_onpolicy import SB3OnPolicyAgent
from rlkit.core.seeding import RandomStream
from rlkit.core.types import AgentContext

__all__ = ["SB3Agent", "SB3AgentBase", "SB3Config", "sb3_agent"]


class SB3Agent:
    """`SB3Agent(cfg, ctx)` is the adapter for cfg.algo: on-policy (PPO, A2C, TRPO, ...) or off-policy (DQN,
    SAC, TD3, QRDQN, ...). The model is built, and SB3 seeds its global generators, inside the agent's own
    RandomStream, so the process's generators are left as they were."""

    Config = SB3Config

    def __new__(cls, cfg: SB3Config, ctx: AgentContext) -> SB3AgentBase:  # type: ignore[misc]
        rng = RandomStream(ctx.seed, get_device(cfg.device or ctx.device), python_numpy=True)
        with rng:
            model, zoo_run = build_model(cfg, ctx)
        adapter = SB3OnPolicyAgent if isinstance(model, OnPolicyAlgorithm) else SB3OffPolicyAgent
        return adapter(model, cfg, ctx, zoo_run, rng)


sb3_agent = SB3Agent  # the name callers used when this was a factory function
