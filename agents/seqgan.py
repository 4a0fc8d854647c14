"""SeqGAN (Yu et al., AAAI 2017) as an rlkit agent: a generator trained by policy gradient on a
discriminator's verdicts, on a sequence GAN task (rlkit.envs.seqgan_oracle).

Each env step shows a minibatch of real sequences; the agent answers with as many generated ones (sampled
from its generator: the env scores them) and then learns, in the phases of the paper's Algorithm 1, counted
in epochs (episodes) of the env:

1. `pretrain_epochs`: MLE (teacher forcing) on each real minibatch, Adam(lr), gradient norm clipped to 5.
2. `d_pretrain_epochs`: the discriminator alone, real minibatch against the generated one.
3. adversarial, to the end of the run, in rounds of d_steps * k env steps: at a round's first step
   `g_steps` policy-gradient steps, each on a fresh batch whose per-token reward Q (batch, T) is the mean
   verdict D over `rollouts` Monte-Carlo completions by the delayed roll-out policy (seqgan_nets.
   rollout_rewards), after which the roll-out policy moves to rollout_update * itself + (1 -
   rollout_update) * the generator; then one discriminator step per env step, each of the d_steps
   negative batches used for k steps. The paper's d-step generates an epoch's worth of negatives and trains
   k epochs on them; here a negative batch is one minibatch (same ratio of D to G updates per round, far
   fewer D steps: its code's 5 x 3 epochs per generator step do not fit a CPU budget).

`adversarial: false` is the MLE baseline with the same budget: MLE steps on every env step of the run.

Reuse of rlkit's policy-gradient code (agents/reinforce.py): `policy_gradient_loss` is the loss (-mean of
Q * log G(y_t|Y_<t)), `sample_categorical` the sampler. `discounted_returns` does not apply: SeqGAN's
per-token reward is already the Monte-Carlo estimate of the episode's only reward (D at the end), not a sum
of rewards along the way, and the paper uses no baseline. Modern practice kept from the paper's code:
Adam and gradient clipping for both phases of the generator; a one-logit BCE discriminator (the code's two
softmax classes are the same model) with L2 on its output layer and dropout 0.25 (keep_prob 0.75).

Metrics (train/): mle_loss (nats/token), then d_loss, d_real, d_fake (mean D on real and generated), and
pg_loss, reward_mean (mean Q) once adversarial. Greedy acting (evaluation, `rlkit play`) samples from a
generator seeded anew at every evaluation, so evaluations are comparable (`fixed_samples(n)`: the first n).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from rlkit.agents.gan_nets import d_loss, d_update
from rlkit.agents.reinforce import policy_gradient_loss
from rlkit.agents.seqgan_nets import Discriminator, Generator, filter_bank, rollout_rewards
from rlkit.core.errors import IncompatibleError, check_ranges, describe_space
from rlkit.core.seeding import seeded
from rlkit.core.types import AgentContext, Transition

FIXED_SEED_OFFSET = 7_919  # greedy samples are drawn from a generator seeded with the run's seed plus this


@dataclass
class SeqGanConfig:
    """Hyperparameters of SeqGAN (defaults: the paper's synthetic experiment and its code).

    Attributes:
        name: agent name (the `agent=` token).
        adversarial: false for the MLE baseline (MLE on every step, same budget).
        emb_dim, hidden: the generator's embedding and LSTM sizes (32, 32).
        lr: Adam's learning rate for the generator, MLE and policy gradient (0.01).
        grad_clip: the generator's gradient norm clip (5).
        pretrain_epochs: epochs of MLE pre-training (the code's 120).
        d_pretrain_epochs: epochs of discriminator pre-training (the code's 50 x 3 epochs on an epoch of
            negatives; 10 minibatch epochs here).
        g_steps, d_steps, k: Algorithm 1's generator steps, negative batches per round and steps per batch.
        rollouts: Monte-Carlo completions per prefix (16).
        rollout_update: the roll-out policy keeps this share of itself at each update (0.8).
        d_emb_dim: the discriminator's embedding size (64).
        filter_scale: the paper's filter counts times this (sizes 1..10, 15, 20 that fit the length).
        d_dropout: dropout before the discriminator's output (0.25: keep_prob 0.75).
        d_l2: L2 weight on the output layer (0.2), d_lr: its Adam rate (1e-4).
    """

    name: str = "seqgan"
    adversarial: bool = True
    emb_dim: int = 32
    hidden: int = 32
    lr: float = 0.01
    grad_clip: float = 5.0
    pretrain_epochs: int = 120
    d_pretrain_epochs: int = 10
    g_steps: int = 1
    d_steps: int = 5
    k: int = 3
    rollouts: int = 16
    rollout_update: float = 0.8
    d_emb_dim: int = 64
    filter_scale: float = 1.0
    d_dropout: float = 0.25
    d_l2: float = 0.2
    d_lr: float = 1e-4

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        checks = [
            *((key, getattr(self, key) >= 1, ">= 1") for key in ("emb_dim", "hidden", "d_emb_dim")),
            *((key, getattr(self, key) >= 1, ">= 1") for key in ("g_steps", "d_steps", "k", "rollouts")),
            ("pretrain_epochs", self.pretrain_epochs >= 0, ">= 0"),
            ("d_pretrain_epochs", self.d_pretrain_epochs >= 0, ">= 0"),
            ("lr", self.lr > 0, "> 0"),
            ("d_lr", self.d_lr > 0, "> 0"),
            ("grad_clip", self.grad_clip > 0, "> 0"),
            ("rollout_update", 0 <= self.rollout_update <= 1, "in [0, 1]"),
            ("filter_scale", self.filter_scale > 0, "> 0"),
            ("d_dropout", 0 <= self.d_dropout < 1, "in [0, 1)"),
            ("d_l2", self.d_l2 >= 0, ">= 0"),
        ]
        check_ranges("agent.", checks, lambda key: repr(getattr(self, key)))


def sequence_task(ctx: AgentContext) -> tuple[int, int]:
    """(vocabulary, length) of a sequence GAN task env; IncompatibleError for any other env."""
    obs, act = ctx.observation_space, ctx.action_space
    fits = (
        isinstance(obs, spaces.Box)
        and isinstance(act, spaces.Box)
        and obs.shape == act.shape
        and len(obs.shape) == 2
        and np.issubdtype(act.dtype, np.integer)
    )
    if not fits:
        raise IncompatibleError(
            f"agent '{ctx.agent_name}' is SeqGAN and needs a sequence GAN task env (observation: a minibatch "
            f"of token sequences; action: generated ones of the same shape), but env '{ctx.env_name}' has "
            f"observation space {describe_space(obs)} and action space {describe_space(act)}. "
            "Use env=seqgan_oracle."
        )
    return int(act.high.max()) + 1, int(act.shape[1])


class SeqGanAgent:
    """A sequence generator trained by MLE, then by policy gradient against a CNN discriminator."""

    Config = SeqGanConfig

    def __init__(self, cfg: SeqGanConfig, ctx: AgentContext):
        cfg.validate()
        self.cfg, self.device, self.seed = cfg, torch.device(ctx.device), ctx.seed
        self.vocab, self.length = sequence_task(ctx)
        filters = filter_bank(self.length, cfg.filter_scale)
        with seeded(ctx.seed, self.device):  # both nets always, so the MLE baseline starts identical
            self.generator = Generator(self.vocab, cfg.emb_dim, cfg.hidden).to(self.device)
            self.disc = Discriminator(self.vocab, self.length, cfg.d_emb_dim, filters, cfg.d_dropout)
        self.disc.to(self.device)
        self.rollout = copy.deepcopy(self.generator).requires_grad_(False)
        self.mle_opt = torch.optim.Adam(self.generator.parameters(), lr=cfg.lr)
        self.pg_opt = torch.optim.Adam(self.generator.parameters(), lr=cfg.lr)
        self.d_opt = torch.optim.Adam(self.disc.parameters(), lr=cfg.d_lr)
        self.rng = torch.Generator().manual_seed(ctx.seed)  # samples, roll-outs (CPU uniforms)
        self.d_rng = torch.Generator().manual_seed(ctx.seed + 1)  # the discriminator's dropout
        self.fixed_rng = torch.Generator()
        self._restart_fixed = True
        self.epochs = self.adv_steps = 0
        self._negatives: torch.Tensor | None = None
        self._batch: Transition | None = None
        self._last: dict[str, float] = {}

    # ----- acting ------------------------------------------------------------------------------------------
    def fixed_samples(self, n: int) -> np.ndarray:
        """The first n greedy-mode samples (what an evaluation starts with): (n, length) int64."""
        rng = torch.Generator().manual_seed(self.seed + FIXED_SEED_OFFSET)
        return self.generator.sample(n, self.length, rng).cpu().numpy()

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """Generated sequences shaped like `obs` (num_envs, batch, length): fresh samples while training,
        the fixed-seed sequence of samples (restarted at each evaluation) when greedy."""
        n = obs.shape[0] * obs.shape[1]
        if explore:
            self._restart_fixed = True
            seqs = self.generator.sample(n, self.length, self.rng)
        else:
            if self._restart_fixed:
                self.fixed_rng.manual_seed(self.seed + FIXED_SEED_OFFSET)
                self._restart_fixed = False
            seqs = self.generator.sample(n, self.length, self.fixed_rng)
        return seqs.cpu().numpy().reshape(obs.shape)

    # ----- learning ----------------------------------------------------------------------------------------
    def observe(self, transition: Transition) -> None:
        """Keeps the step's real (obs) and generated (action) minibatches."""
        self._batch = transition

    def _rows(self, batches: np.ndarray, tr: Transition) -> torch.Tensor:
        """The real (unpadded) rows of the step's minibatches, (rows, length) int64."""
        rows = [b[i["mask"]] if isinstance(i, dict) and "mask" in i else b for b, i in zip(batches, tr.info)]
        return torch.as_tensor(np.concatenate(rows).astype(np.int64), device=self.device)

    def phase(self) -> str:
        """mle, d_pretrain or adversarial: where the run is in Algorithm 1 (by finished epochs)."""
        cfg = self.cfg
        if not cfg.adversarial or self.epochs < cfg.pretrain_epochs:
            return "mle"
        return "d_pretrain" if self.epochs < cfg.pretrain_epochs + cfg.d_pretrain_epochs else "adversarial"

    def update(self) -> dict[str, float]:
        """One step of the current phase on the last minibatches (see the module docstring)."""
        tr, self._batch = self._batch, None
        if tr is None:
            return {}
        phase = self.phase()  # the phase of the epoch this step belongs to
        self.epochs += int(np.sum(tr.terminated))
        real, fake = self._rows(tr.obs, tr), self._rows(tr.action, tr)
        if len(real) == 0:
            return {}
        if phase != "mle":
            self._last.pop("mle_loss", None)  # the pre-training loss is no longer current
        if phase == "mle":
            self._last = {"mle_loss": self._mle_step(real)}
        elif phase == "d_pretrain":
            self._last.update(self._d_step(real, fake))
        else:
            cfg = self.cfg
            pos = self.adv_steps % (cfg.d_steps * cfg.k)
            if self.adv_steps == 0:  # the roll-out policy starts as the pre-trained generator
                self.rollout.load_state_dict(self.generator.state_dict())
            if pos == 0:
                for _ in range(cfg.g_steps):
                    self._last.update(self._pg_step(len(real)))
            if pos % cfg.k == 0 or self._negatives is None:
                self._negatives = fake
            self._last.update(self._d_step(real, self._negatives))
            self.adv_steps += 1
        return dict(self._last)

    def _g_step(self, opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.generator.parameters(), self.cfg.grad_clip)
        opt.step()

    def _mle_step(self, real: torch.Tensor) -> float:
        loss = -self.generator.log_probs(real).mean()
        self._g_step(self.mle_opt, loss)
        return loss.item()

    def _pg_step(self, n: int) -> dict[str, float]:
        """One policy-gradient step on n fresh samples, then the delayed roll-out policy update."""
        cfg = self.cfg
        seqs = self.generator.sample(n, self.length, self.rng)
        rewards = rollout_rewards(self.rollout, self.disc, seqs, cfg.rollouts, self.rng)
        loss = policy_gradient_loss(self.generator.log_probs(seqs).flatten(), rewards.flatten())
        self._g_step(self.pg_opt, loss)
        with torch.no_grad():
            for beta, theta in zip(self.rollout.parameters(), self.generator.parameters()):
                beta.mul_(cfg.rollout_update).add_(theta, alpha=1 - cfg.rollout_update)
        return {"pg_loss": loss.item(), "reward_mean": rewards.mean().item()}

    def _d_step(self, real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
        """One discriminator step: BCE of real (1) against generated (0), plus L2 on the output layer."""
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):  # dropout from the agent's own stream
            torch.manual_seed(int(torch.randint(2**62, (1,), generator=self.d_rng)))
            d_real, d_fake = self.disc(real), self.disc(fake)
        out = self.disc.out
        l2 = self.cfg.d_l2 * 0.5 * (out.weight.square().sum() + out.bias.square().sum())
        return d_update(self.d_opt, d_loss("vanilla", d_real, d_fake) + l2, d_real, d_fake)

    # ----- checkpoints -------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """All three networks, all three optimisers, the random streams, the counters and the negatives."""
        return {
            "generator": self.generator.state_dict(),
            "rollout": self.rollout.state_dict(),
            "disc": self.disc.state_dict(),
            "mle_opt": self.mle_opt.state_dict(),
            "pg_opt": self.pg_opt.state_dict(),
            "d_opt": self.d_opt.state_dict(),
            "rng": self.rng.get_state(),
            "d_rng": self.d_rng.get_state(),
            "epochs": self.epochs,
            "adv_steps": self.adv_steps,
            "negatives": self._negatives.cpu()
            if self._negatives is not None
            else torch.zeros(0, dtype=torch.long),
            "last": dict(self._last),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores a state_dict() (greedy samples restart their fixed sequence at the next greedy call)."""
        for key in ("generator", "rollout", "disc", "mle_opt", "pg_opt", "d_opt"):
            getattr(self, key).load_state_dict(state[key])
        self.rng.set_state(state["rng"])
        self.d_rng.set_state(state["d_rng"])
        self.epochs, self.adv_steps = int(state["epochs"]), int(state["adv_steps"])
        neg = state["negatives"]
        self._negatives = neg.to(self.device) if neg.numel() else None
        self._last = {k: float(v) for k, v in state.get("last", {}).items()}
        self._restart_fixed = True
