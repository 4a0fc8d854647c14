"""DQN (book chapter 20, Mnih et al. 2015) with the modern switches: double, dueling, n-step, prioritised.

The agent owns its replay buffer (rlkit.core.replay.buffers, which stores each Atari frame once) and decides
when it learns: every `train_freq` env steps after `learning_starts`, `gradient_steps` updates of a batch of
`batch_size`; the target network follows every `target_update_every` env steps, copied (tau=1) or
Polyak-averaged (tau<1). One forward pass acts for all envs; observations stay uint8 until they reach the
network. Mixed precision (bf16 or fp16 autocast) keeps fp32 master weights. The math lives in small pure
functions below.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rlkit.agents.dqn_config import PRECISIONS, DQNConfig
from rlkit.agents.dqn_heads import QNetwork
from rlkit.agents.networks import is_pixel_space
from rlkit.core.errors import IncompatibleError, RlkitWarning, UserError, describe_space
from rlkit.core.replay.buffers import make_replay_buffer
from rlkit.core.schedules import linear_schedule
from rlkit.core.seeding import seeded
from rlkit.core.types import AgentContext, Transition

__all__ = ["PRECISIONS", "DQNAgent", "DQNConfig", "td_target", "double_next_value", "max_next_value"]


# ----- the math ---------------------------------------------------------------------------------------------
def td_target(reward: torch.Tensor, discount: torch.Tensor, next_value: torch.Tensor) -> torch.Tensor:
    """r + discount * V(s'); the buffer's discount is gamma**m, and 0 where the episode terminated."""
    return reward + discount * next_value


def max_next_value(next_q_target: torch.Tensor) -> torch.Tensor:
    """Classic DQN: max_a Q_target(s', a)."""
    return next_q_target.max(dim=1).values


def double_next_value(next_q_online: torch.Tensor, next_q_target: torch.Tensor) -> torch.Tensor:
    """Double DQN: Q_target(s', argmax_a Q_online(s', a))."""
    best = next_q_online.argmax(dim=1, keepdim=True)
    return next_q_target.gather(1, best).squeeze(1)


def td_loss(q: torch.Tensor, target: torch.Tensor, weights: torch.Tensor, kind: str) -> torch.Tensor:
    """Importance-weighted mean of the Huber (delta 1) or squared TD error."""
    if kind == "huber":
        per_sample = F.smooth_l1_loss(q, target, reduction="none")
    else:
        per_sample = F.mse_loss(q, target, reduction="none")
    return (weights * per_sample).mean()


@torch.no_grad()
def polyak_update(target: nn.Module, online: nn.Module, tau: float) -> None:
    """target <- tau * online + (1 - tau) * target (tau=1 copies)."""
    t_params, o_params = list(target.parameters()), list(online.parameters())
    if tau >= 1.0:
        torch._foreach_copy_(t_params, o_params)
    else:
        torch._foreach_lerp_(t_params, o_params, tau)


def bf16_supported(device: torch.device) -> bool:
    """Whether bf16 autocast runs natively: CUDA, or a CPU with AVX-512 BF16 or AMX (else it is emulated)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def effective_precision(precision: str, device: torch.device) -> str:
    """The precision to run: bf16 falls back to fp32, with a warning, where the hardware lacks it."""
    if precision == "bf16" and not bf16_supported(device):
        warnings.warn(
            f"agent.precision=bf16: this {device.type} has no native bf16 (it would run several times slower "
            "than fp32), so DQN runs in fp32",
            RlkitWarning,
            stacklevel=3,
        )
        return "fp32"
    return precision


class DQNAgent:
    """Epsilon-greedy DQN over num_envs envs; learns from its own replay buffer."""

    Config = DQNConfig  # the schema of the agent YAMLs whose _target_ is this class
    batched_greedy = True  # greedy act() is per row and draws nothing: evaluation batches episodes

    def __init__(self, cfg: DQNConfig, ctx: AgentContext):
        cfg.validate()
        if not isinstance(ctx.action_space, gym.spaces.Discrete):
            raise IncompatibleError(
                f"agent 'dqn' needs a Discrete action space, but env '{ctx.env_name}' has "
                f"{describe_space(ctx.action_space)}; "
                "use an env with discrete actions (CartPole-v1, an Atari game, ...)"
            )
        self.cfg, self.device = cfg, torch.device(ctx.device)
        self.precision = effective_precision(cfg.precision, self.device)
        self.n_actions, self._act_start = int(ctx.action_space.n), int(ctx.action_space.start)
        net = (ctx.observation_space, self.n_actions, cfg.network, cfg.hidden, cfg.dueling)
        with seeded(ctx.seed):  # the weights torch.manual_seed(seed) would give, global RNG untouched
            self.q, self.target = QNetwork(*net), QNetwork(*net)
        self.q.to(self.device)
        self.target.to(self.device).requires_grad_(False)
        self.target.load_state_dict(self.q.state_dict())
        self._params = list(self.q.parameters())
        if cfg.optimizer == "adam":  # fused: one kernel for all parameters, not a loop
            self.optimizer = torch.optim.Adam(self._params, lr=cfg.lr, eps=cfg.optimizer_eps, fused=True)
        else:
            self.optimizer = torch.optim.RMSprop(self._params, lr=cfg.lr, eps=cfg.optimizer_eps, foreach=True)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.precision == "fp16")
        pixels = is_pixel_space(ctx.observation_space)
        self.buffer = make_replay_buffer(
            cfg.buffer_size,
            ctx.observation_space,
            ctx.action_space,
            ctx.num_envs,
            frame_stack=ctx.observation_space.shape[0] if pixels else None,
            n_step=cfg.n_step,
            gamma=cfg.gamma,
            prioritized=cfg.prioritized,
            alpha=cfg.priority_alpha,
            beta=cfg.priority_beta,
            seed=ctx.seed,
        )
        self.rng = np.random.default_rng(ctx.seed)
        self.steps = self.updates = 0
        self._next_train = max(cfg.learning_starts, cfg.train_freq)
        self._next_target = cfg.target_update_every
        self._metrics: dict[str, Any] = {}
        # last: an error in building the networks or the buffer is the one line a user sees, not this
        if ctx.total_steps is not None and cfg.learning_starts >= ctx.total_steps:
            warnings.warn(
                f"agent.learning_starts={cfg.learning_starts} >= total_steps={ctx.total_steps}: DQN will "
                "never learn in this run (agent=dqn's defaults are for Atari; for CartPole use "
                "+experiment=dqn_cartpole, or lower agent.learning_starts)",
                RlkitWarning,
                stacklevel=2,
            )

    # ----- acting -------------------------------------------------------------------------------------------
    @property
    def epsilon(self) -> float:
        """Current exploration rate (linear decay over epsilon_decay_steps env steps)."""
        c = self.cfg
        return linear_schedule(c.epsilon_start, c.epsilon_final, c.epsilon_decay_steps, self.steps)

    def _autocast(self) -> contextlib.AbstractContextManager:
        dtype = PRECISIONS[self.precision]
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=dtype)

    def greedy(self, obs: np.ndarray) -> np.ndarray:
        """argmax_a Q(obs, a) for a batch, in one forward pass."""
        with torch.inference_mode(), self._autocast():
            q = self.q(torch.as_tensor(obs, device=self.device))
        return q.argmax(dim=1).cpu().numpy()

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """Epsilon-greedy actions for all envs (greedy when not exploring); no forward pass if all random."""
        n = len(obs)
        if not explore:  # no draw from the exploration RNG: evaluating must not change the training run
            actions = self.greedy(obs)
            return actions + self._act_start if self._act_start else actions
        random = self.rng.random(n) < self.epsilon
        if random.all():
            actions = self.rng.integers(0, self.n_actions, size=n)
        else:
            actions = self.greedy(obs)
            if random.any():
                actions = np.where(random, self.rng.integers(0, self.n_actions, size=n), actions)
        return actions + self._act_start if self._act_start else actions

    # ----- learning -----------------------------------------------------------------------------------------
    def observe(self, transition: Transition) -> None:
        """Stores the batch of transitions (actions shifted to start at 0)."""
        if self._act_start:
            transition = transition._replace(action=transition.action - self._act_start)
        self.buffer.add(transition)
        self.steps += len(transition.reward)

    def update(self) -> dict[str, Any]:
        """Runs the gradient steps and target updates that are due; returns epsilon (+ loss, q_mean)."""
        c = self.cfg
        while self.steps >= self._next_train:
            self._next_train += c.train_freq
            if len(self.buffer) >= c.batch_size:
                for _ in range(c.gradient_steps):
                    self._learn()
        while self.steps >= self._next_target:
            self._next_target += c.target_update_every
            polyak_update(self.target, self.q, c.tau)
        self._metrics["epsilon"] = self.epsilon
        return self._metrics

    def _learn(self) -> None:
        """One gradient step on a sampled batch (the DQN update)."""
        c, dev = self.cfg, self.device
        if c.prioritized and c.priority_beta_steps > 0:
            self.buffer.set_beta(linear_schedule(c.priority_beta, 1.0, c.priority_beta_steps, self.steps))
        s = self.buffer.sample(c.batch_size)
        obs, next_obs = torch.as_tensor(s.obs, device=dev), torch.as_tensor(s.next_obs, device=dev)
        action = torch.as_tensor(s.action, device=dev, dtype=torch.int64)
        reward, discount, weights = (
            torch.as_tensor(x, device=dev, dtype=torch.float32) for x in (s.reward, s.discount, s.weights)
        )
        with torch.no_grad(), self._autocast():
            next_q_target = self.target(next_obs).float()
            if c.double:
                next_value = double_next_value(self.q(next_obs).float(), next_q_target)
            else:
                next_value = max_next_value(next_q_target)
        target = td_target(reward, discount, next_value)
        with self._autocast():
            q_all = self.q(obs).float()
        q = q_all.gather(1, action[:, None]).squeeze(1)
        loss = td_loss(q, target, weights, c.loss)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if c.max_grad_norm is not None:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self._params, c.max_grad_norm, foreach=True)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if c.prioritized:
            self.buffer.update_priorities(s.indices, (q - target).abs().detach().cpu().numpy() + 1e-6)
        self.updates += 1
        self._metrics.update(loss=loss.detach(), q_mean=q.detach().mean())

    # ----- checkpoints --------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Networks, optimiser, counters and RNG states (and the replay buffer if save_replay)."""
        state = {
            "q": self.q.state_dict(),
            "target": self.target.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "steps": self.steps,
            "updates": self.updates,
            "next_train": self._next_train,
            "next_target": self._next_target,
            "rng": self.rng.bit_generator.state,
        }
        if self.cfg.save_replay:
            state["replay"] = self.buffer.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores a state_dict(); refuses networks of another shape with a UserError."""
        try:
            self.q.load_state_dict(state["q"])
            self.target.load_state_dict(state["target"])
        except RuntimeError as err:
            raise UserError(f"checkpoint does not fit this DQN network: {str(err).splitlines()[0]}") from err
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.steps, self.updates = int(state["steps"]), int(state["updates"])
        self._next_train, self._next_target = int(state["next_train"]), int(state["next_target"])
        self.rng.bit_generator.state = state["rng"]  # (older checkpoints' "torch_rng" is unused: no draws)
        if "replay" in state:
            self.buffer.load_state_dict(state["replay"])
        else:  # the buffer starts empty: refill it as a new run would before learning again
            refill = min(self.cfg.learning_starts, self.cfg.buffer_size)
            self._next_train = max(self._next_train, self.steps + refill)
