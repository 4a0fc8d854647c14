"""REINFORCE (the book's chapter 21): Monte Carlo policy gradient over batches of whole episodes.

The agent keeps each env's running episode until it ends, then queues it; once `batch_episodes` episodes
have finished it takes one gradient step on all of them (loss summed over every step of the batch, backward
in chunks so pixel batches fit in memory). With num_envs > 1 an episode can start before an update and end
after it, so its first steps were sampled by the previous policy; like other batched REINFORCE code we
accept that.

Returns are Monte Carlo over the episode as played. With the learned baseline (`baseline: true`) the
advantage is G_t - V(s_t), and an episode cut by a time limit gets V(final obs) as the value of its unplayed
tail (`bootstrap_truncated`); without a baseline nothing is bootstrapped. Normalisation divides by std + eps
(the book's code floor-divides, `//=`, a bug), per episode as in the book or over the batch.
Discrete actions use a categorical policy (greedy: argmax), Box actions a diagonal Gaussian with a learned,
state-independent log std (greedy: the mean; samples are clipped to the bounds for the env only).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from rlkit.agents.networks import ScaledInput, build_torso, is_pixel_space, mlp
from rlkit.agents.reinforce_config import ReinforceConfig
from rlkit.core.errors import IncompatibleError, UserError, describe_space
from rlkit.core.seeding import seeded
from rlkit.core.types import AgentContext, Transition

CHUNK_STEPS = 4096  # steps per forward/backward pass of an update (gradients accumulate across chunks)


# ----- the maths ------------------------------------------------------------------------------------------
def discounted_returns(rewards: np.ndarray, gamma: float, bootstrap: float = 0.0) -> np.ndarray:
    """G_t = r_t + gamma * G_{t+1}, with G_T = `bootstrap` (the value of what follows the last step)."""
    out = np.empty(len(rewards), dtype=np.float64)
    running = float(bootstrap)
    for t in range(len(rewards) - 1, -1, -1):
        running = float(rewards[t]) + gamma * running
        out[t] = running
    return out


def normalize_returns(x: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """(x - mean) / (std + eps): true division (the book's `//=` floor-divides)."""
    return (x - x.mean()) / (x.std() + eps)


def sample_categorical(logits: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Inverse-CDF sampling, one uniform `u` per row: the first action whose cumulative probability is > u."""
    cdf = torch.softmax(logits, -1).cumsum(-1)  # binary search: O(log n) per row (SeqGAN's 5,000 tokens)
    index = torch.searchsorted(cdf, u[:, None].to(cdf.dtype), right=True).squeeze(-1)
    return index.clamp_max(logits.shape[-1] - 1)  # clamp: cdf[-1] may round below 1


def policy_gradient_loss(log_probs: torch.Tensor, advantages: torch.Tensor, total: int | None = None):
    """-sum(A_t * log pi(a_t|s_t)) / total; total defaults to the number of steps (then it is the mean)."""
    return -(advantages * log_probs).sum() / (len(log_probs) if total is None else total)


# ----- networks -------------------------------------------------------------------------------------------
class Policy(nn.Module):
    """Torso + head: logits for Discrete actions, the mean (and a learned log std) for Box actions."""

    def __init__(self, body: nn.Module, action_dim: int, gaussian: bool, log_std_init: float):
        super().__init__()
        self.body, self.gaussian = body, gaussian
        self.log_std = nn.Parameter(torch.full((action_dim,), log_std_init)) if gaussian else None

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.body(obs)

    def log_prob_entropy(self, obs: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """log pi(a|s) and the policy's entropy, one value per row."""
        out = self.body(obs)
        if self.gaussian:
            dist = torch.distributions.Normal(out, self.log_std.exp())
            return dist.log_prob(actions).sum(-1), dist.entropy().sum(-1)
        log_p = torch.log_softmax(out, dim=-1)
        return log_p.gather(1, actions.long()[:, None]).squeeze(1), -(log_p.exp() * log_p).sum(-1)


def build_net(obs_space: gym.Space, out_dim: int, cfg: ReinforceConfig, agent: str) -> nn.Module:
    """An MLP for vectors (bias optional, as in the book), a shared torso + linear head otherwise."""
    kind = cfg.network
    if isinstance(obs_space, gym.spaces.Box) and (
        kind == "mlp" or (kind == "auto" and not is_pixel_space(obs_space))
    ):
        body = mlp(int(np.prod(obs_space.shape)), out_dim, cfg.hidden, bias=cfg.bias)
        return ScaledInput(nn.Sequential(nn.Flatten(), body), scale=is_pixel_space(obs_space))
    torso, size = build_torso(obs_space, kind, cfg.hidden, agent=agent)  # IncompatibleError if it can't
    return nn.Sequential(torso, nn.Linear(size, out_dim, bias=cfg.bias))


class Episode(NamedTuple):
    """One finished episode as played: observations, actions, rewards, how it ended."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    truncated: bool
    final_obs: np.ndarray


# ----- the agent ------------------------------------------------------------------------------------------
class ReinforceAgent:
    """A stochastic policy learned from batches of whole episodes, with an optional learned baseline."""

    Config = ReinforceConfig  # the schema of the agent YAMLs whose _target_ is this class
    batched_greedy = True  # greedy act() is per row and draws nothing: evaluation batches episodes

    def __init__(self, cfg: ReinforceConfig, ctx: AgentContext):
        cfg.validate()
        self.cfg, self.device = cfg, torch.device(ctx.device)
        space, obs_ok = ctx.action_space, isinstance(ctx.observation_space, gym.spaces.Box)
        if obs_ok and isinstance(space, gym.spaces.Discrete):
            self.gaussian, action_dim, self._start = False, int(space.n), int(space.start)
        elif obs_ok and isinstance(space, gym.spaces.Box) and np.issubdtype(space.dtype, np.floating):
            self.gaussian, action_dim = True, int(np.prod(space.shape))
            self._low, self._high = space.low.reshape(-1), space.high.reshape(-1)
        else:
            raise IncompatibleError(
                f"agent '{ctx.agent_name}' needs Box observations (vectors or images) and Discrete or float "
                f"Box actions, but env '{ctx.env_name}' has observation space "
                f"{describe_space(ctx.observation_space)} and action space {describe_space(space)}; "
                "try env=CartPole-v1 (or Pendulum-v1), or a tabular agent for this env"
            )
        self.action_space = space
        with seeded(ctx.seed):  # reproducible weights without touching global RNG state
            body = build_net(ctx.observation_space, action_dim, cfg, ctx.agent_name or "reinforce")
            self.policy = Policy(body, action_dim, self.gaussian, cfg.log_std_init).to(self.device)
            value = build_net(ctx.observation_space, 1, cfg, "reinforce") if cfg.baseline else None
            self.value = value.to(self.device) if value is not None else None
        params = [*self.policy.parameters(), *(self.value.parameters() if self.value is not None else [])]
        self.optimizer = torch.optim.Adam(params, lr=cfg.lr)
        self.gen = torch.Generator(device=self.device)
        self.gen.manual_seed(ctx.seed)
        self.steps = self.updates = 0
        self._partial: list[list[list[Any]]] = [[[], [], []] for _ in range(ctx.num_envs)]
        self._finished: list[Episode] = []
        self._raw_action: np.ndarray | None = None  # the unclipped Gaussian sample behind the last action

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """Samples from the policy when exploring; greedy (argmax, or the Gaussian's mean) otherwise."""
        x = torch.as_tensor(np.asarray(obs), device=self.device)
        with torch.inference_mode():
            out = self.policy(x)
            if not self.gaussian:
                if explore:  # 3x cheaper than torch.multinomial for a handful of actions
                    a = sample_categorical(out, torch.rand(len(out), generator=self.gen, device=self.device))
                else:
                    a = out.argmax(-1)
                return a.cpu().numpy().astype(np.int64) + self._start
            if explore:
                noise = torch.randn(out.shape, generator=self.gen, device=self.device)
                out = out + self.policy.log_std.exp() * noise
            raw = out.cpu().numpy()
        if explore:
            self._raw_action = raw
        clipped = np.clip(raw, self._low, self._high).astype(self.action_space.dtype)
        return clipped.reshape(len(raw), *self.action_space.shape)

    def observe(self, transition: Transition) -> None:
        """Appends each env's step to its running episode; queues the episodes that ended."""
        t = transition
        n = len(t.reward)
        self.steps += n
        if not self.gaussian:
            actions = np.asarray(t.action) - self._start
        elif self._raw_action is not None and len(self._raw_action) == n:
            actions, self._raw_action = self._raw_action, None
        else:
            actions = np.asarray(t.action, np.float32).reshape(n, -1)
        done = t.done
        for i in range(n):
            ep = self._partial[i]
            ep[0].append(t.obs[i])
            ep[1].append(actions[i])
            ep[2].append(t.reward[i])
            if done[i]:
                truncated = bool(t.truncated[i] and not t.terminated[i])
                self._finished.append(
                    Episode(np.stack(ep[0]), np.stack(ep[1]), np.asarray(ep[2], np.float64), truncated,
                            np.array(t.next_obs[i]))
                )  # fmt: skip
                self._partial[i] = [[], [], []]

    def update(self) -> dict[str, float]:
        """One gradient step once `batch_episodes` episodes have finished; {} otherwise."""
        b = self.cfg.batch_episodes
        if len(self._finished) < b:
            return {}
        batch, self._finished = self._finished[:b], self._finished[b:]
        return self._learn(batch)

    def _values(self, obs: np.ndarray) -> np.ndarray:
        """V(s) for a stack of observations, without gradients."""
        with torch.no_grad():
            chunks = [
                self.value(torch.as_tensor(obs[s : s + CHUNK_STEPS], device=self.device)).squeeze(-1)
                for s in range(0, len(obs), CHUNK_STEPS)
            ]
        return torch.cat(chunks).double().cpu().numpy()

    def _targets(self, batch: list[Episode]) -> tuple[np.ndarray, np.ndarray]:
        """(returns, advantages) of every step of the batch, normalised as configured."""
        c = self.cfg
        bootstrap = self.value is not None and c.bootstrap_truncated
        cut = [k for k, ep in enumerate(batch) if ep.truncated and bootstrap]
        tails = dict(zip(cut, self._values(np.stack([batch[k].final_obs for k in cut])))) if cut else {}
        returns = [discounted_returns(ep.rewards, c.gamma, tails.get(k, 0.0)) for k, ep in enumerate(batch)]
        advantages = returns
        if self.value is not None:
            values = self._values(np.concatenate([ep.obs for ep in batch]))
            advantages = np.split(np.concatenate(returns) - values, np.cumsum([len(g) for g in returns])[:-1])
        if c.normalize_returns == "episode":
            advantages = [normalize_returns(a) for a in advantages]
        adv = np.concatenate(advantages)
        if c.normalize_returns == "batch":
            adv = normalize_returns(adv)
        return np.concatenate(returns), adv

    def _learn(self, batch: list[Episode]) -> dict[str, float]:
        c, dev = self.cfg, self.device
        returns, adv = self._targets(batch)
        obs, actions = np.concatenate([ep.obs for ep in batch]), np.concatenate([ep.actions for ep in batch])
        n = len(obs)
        sums = {"loss": 0.0, "entropy": 0.0, "value_loss": 0.0}
        self.optimizer.zero_grad(set_to_none=True)
        for s in range(0, n, CHUNK_STEPS):
            x = torch.as_tensor(obs[s : s + CHUNK_STEPS], device=dev)
            a = torch.as_tensor(actions[s : s + CHUNK_STEPS], device=dev)
            log_p, entropy = self.policy.log_prob_entropy(x, a)
            pg = policy_gradient_loss(log_p, torch.as_tensor(adv[s : s + CHUNK_STEPS], device=dev).float(), n)
            loss = pg - c.entropy_coef * entropy.sum() / n
            if self.value is not None:
                target = torch.as_tensor(returns[s : s + CHUNK_STEPS], device=dev).float()
                value_loss = ((self.value(x).squeeze(-1) - target) ** 2).sum() / n
                loss = loss + c.value_coef * value_loss
                sums["value_loss"] += float(value_loss.detach())
            loss.backward()
            sums["loss"] += float(pg.detach())
            sums["entropy"] += float(entropy.detach().sum()) / n
        if c.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(self.optimizer.param_groups[0]["params"], c.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        metrics = {**sums, "return_mean": float(np.mean([ep.rewards.sum() for ep in batch]))}
        metrics |= {"length_mean": n / len(batch), "updates": float(self.updates)}
        if self.value is None:
            del metrics["value_loss"]
        if self.gaussian:
            metrics["std"] = float(self.policy.log_std.detach().exp().mean())
        return metrics

    def state_dict(self) -> dict[str, Any]:
        """Networks, optimiser, counters and the sampling RNG (episodes in progress are not kept)."""
        return {
            "policy": self.policy.state_dict(),
            "value": self.value.state_dict() if self.value is not None else None,
            "optimizer": self.optimizer.state_dict(),
            "steps": self.steps,
            "updates": self.updates,
            "generator": self.gen.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores a state_dict(); refuses networks of another shape with a UserError."""
        if (state.get("value") is None) != (self.value is None):
            raise UserError("checkpoint and config disagree on agent.baseline")
        try:
            self.policy.load_state_dict(state["policy"])
            if self.value is not None:
                self.value.load_state_dict(state["value"])
        except RuntimeError as err:
            raise UserError(
                f"checkpoint networks do not fit this env/config: {str(err).splitlines()[0]}"
            ) from err
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps, self.updates = int(state["steps"]), int(state["updates"])
        self.gen.set_state(state["generator"])
        self._partial = [[[], [], []] for _ in self._partial]
        self._finished = []
