"""A GAN as an rlkit agent: it learns to generate what a GAN task env (rlkit.envs.gan) shows it.

The env's observation is a minibatch of real samples; the agent's action is a minibatch of generated ones,
shaped like it (images in [-1, 1], or 2-D points); the env scores them. Each env step is one discriminator
(critic) step on that real batch against that generated batch (the action), and every `critic_steps`-th
step also one generator step: WGAN-GP's 5 critic iterations per generator iteration, each on a new real batch.

`loss`: vanilla (non-saturating generator loss), lsgan or wgan_gp (agents/gan_nets.py); `arch`: mlp (CS231n's)
or dcgan (images only, sized to the image). Defaults are CS231n's (noise 96, Adam 1e-3, betas (0.5, 0.999));
wgan_gp defaults to Gulrajani et al.'s Adam(1e-4, betas (0, 0.9)), 5 critic steps and penalty 10.
Metrics (train/): d_loss, g_loss (watched by the NaN guard), d_real and d_fake (mean D(x), D(G(z)):
probabilities for vanilla, raw scores otherwise) and, for wgan_gp, gradient_penalty.

Greedy acting (explore=False: evaluation, `rlkit eval`, `rlkit play`) draws its noise from a fixed
sequence that restarts at every evaluation (the first greedy call after training, or after a load), so
evaluations at different steps are comparable sample for sample; `fixed_samples(n)` returns the first n,
`interpolation(n, steps)` walks from them to the next n (`rlkit play`'s GIF).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from rlkit.agents.gan_nets import ARCHS, LOSSES, build_nets, d_loss, g_loss, gradient_penalty
from rlkit.core.errors import IncompatibleError, UserError, check_ranges, describe_space
from rlkit.core.seeding import seeded
from rlkit.core.types import AgentContext, Transition

FIXED_NOISE_OFFSET = 7_919  # the fixed (greedy) noise sequence's seed is the run's seed plus this


@dataclass
class GanConfig:
    """Hyperparameters of the GAN agent (None: the loss's own default).

    Attributes:
        name: agent name (the `agent=` token).
        loss: vanilla, lsgan or wgan_gp.
        arch: mlp (CS231n's MLPs) or dcgan (image envs only).
        noise_dim: size of the generator's uniform noise in [-1, 1] (CS231n's 96).
        lr: Adam's learning rate (None: 1e-4 for wgan_gp, else 1e-3).
        beta1, beta2: Adam's betas (None: 0 and 0.9 for wgan_gp, else 0.5 and 0.999).
        critic_steps: discriminator steps per generator step (None: 5 for wgan_gp, else 1).
        gp_weight: WGAN-GP's gradient penalty weight (10).
        g_hidden, d_hidden: the MLPs' hidden widths (CS231n's 1024 and 256; the 2-D mixture papers use
            128-unit networks: benchmarks/gan.py runs the 2-D tasks with 128 and 128).
    """

    name: str = "gan"
    loss: str = "vanilla"
    arch: str = "mlp"
    noise_dim: int = 96
    lr: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    critic_steps: int | None = None
    gp_weight: float = 10.0
    g_hidden: int = 1024
    d_hidden: int = 256

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        checks = [
            ("loss", self.loss in LOSSES, f"one of {', '.join(LOSSES)}"),
            ("arch", self.arch in ARCHS, f"one of {', '.join(ARCHS)}"),
            ("noise_dim", self.noise_dim >= 1, ">= 1"),
            ("lr", self.lr is None or self.lr > 0, "> 0 or null"),
            ("beta1", self.beta1 is None or 0 <= self.beta1 < 1, "in [0, 1) or null"),
            ("beta2", self.beta2 is None or 0 <= self.beta2 < 1, "in [0, 1) or null"),
            ("critic_steps", self.critic_steps is None or self.critic_steps >= 1, ">= 1 or null"),
            ("gp_weight", self.gp_weight >= 0, ">= 0"),
            ("g_hidden", self.g_hidden >= 1, ">= 1"),
            ("d_hidden", self.d_hidden >= 1, ">= 1"),
        ]
        check_ranges("agent.", checks, lambda key: repr(getattr(self, key)))

    def resolved(self) -> tuple[float, tuple[float, float], int]:
        """(lr, betas, critic_steps) with the loss's defaults filled in."""
        wgan = self.loss == "wgan_gp"
        lr = self.lr if self.lr is not None else (1e-4 if wgan else 1e-3)
        beta1 = self.beta1 if self.beta1 is not None else (0.0 if wgan else 0.5)
        beta2 = self.beta2 if self.beta2 is not None else (0.9 if wgan else 0.999)
        steps = self.critic_steps if self.critic_steps is not None else (5 if wgan else 1)
        return lr, (beta1, beta2), steps


def sample_shape(ctx: AgentContext) -> tuple[tuple[int, ...], bool]:
    """(one sample's shape, bounded in [-1, 1]) of a GAN task env; IncompatibleError for another env."""
    obs, act = ctx.observation_space, ctx.action_space
    fits = isinstance(obs, spaces.Box) and isinstance(act, spaces.Box) and obs.shape == act.shape
    if not fits or len(obs.shape) < 2 or obs.dtype != np.float32:
        raise IncompatibleError(
            f"agent '{ctx.agent_name}' is a GAN and needs a GAN task env (observation: a float32 minibatch of"
            f" real samples; action: generated samples of the same shape), but env '{ctx.env_name}' has "
            f"observation space {describe_space(obs)} and action space {describe_space(act)}. Use "
            "env=digits_gan, mnist_gan, image_folder_gan, gaussian_ring or gaussian_grid."
        )
    bounded = bool(np.all(act.low >= -1) and np.all(act.high <= 1))
    return tuple(obs.shape[1:]), bounded


class GanAgent:
    """A generator and a discriminator trained in alternation on the real minibatches an env shows."""

    Config = GanConfig

    def __init__(self, cfg: GanConfig, ctx: AgentContext):
        cfg.validate()
        self.cfg, self.device, self.seed = cfg, torch.device(ctx.device), ctx.seed
        self.shape, image = sample_shape(ctx)
        if cfg.arch == "dcgan" and (len(self.shape) != 3 or self.shape[1] % 4 or self.shape[2] % 4):
            raise UserError(
                f"agent.arch=dcgan needs images (C, H, W) with H and W divisible by 4, but env "
                f"'{ctx.env_name}' has samples of shape {self.shape}: use agent.arch=mlp"
            )
        self.lr, self.betas, self.critic_steps = cfg.resolved()
        with seeded(ctx.seed, self.device):
            self.generator, self.discriminator = build_nets(
                cfg.arch, cfg.noise_dim, self.shape, image, cfg.g_hidden, cfg.d_hidden
            )
        self.generator.to(self.device)
        self.discriminator.to(self.device)
        self.g_opt = torch.optim.Adam(self.generator.parameters(), lr=self.lr, betas=self.betas)
        self.d_opt = torch.optim.Adam(self.discriminator.parameters(), lr=self.lr, betas=self.betas)
        self.rng = torch.Generator().manual_seed(ctx.seed)  # training noise and WGAN-GP's eps, on the CPU
        self.fixed_rng = torch.Generator()
        self._restart_fixed = True  # the next greedy call starts the fixed noise sequence
        self.updates = 0
        self._batch: Transition | None = None
        self._g_metrics: dict[str, float] = {}

    # ----- noise and samples -------------------------------------------------------------------------------
    def _noise(self, n: int, rng: torch.Generator) -> torch.Tensor:
        """Uniform noise in [-1, 1] (CS231n's sample_noise), drawn on the CPU from `rng`."""
        return (torch.rand(n, self.cfg.noise_dim, generator=rng) * 2 - 1).to(self.device)

    def _fixed_noise_rng(self) -> torch.Generator:
        """A generator at the start of the fixed noise sequence (the same samples at every evaluation)."""
        return torch.Generator().manual_seed(self.seed + FIXED_NOISE_OFFSET)

    @torch.no_grad()
    def _generate(self, z: torch.Tensor) -> np.ndarray:
        self.generator.eval()
        out = self.generator(z).float().cpu().numpy()
        self.generator.train()
        return out

    def fixed_samples(self, n: int) -> np.ndarray:
        """The first n samples of the fixed noise sequence (what an evaluation starts with), (n, *shape)."""
        return self._generate(self._noise(n, self._fixed_noise_rng()))

    def interpolation(self, n: int, steps: int) -> np.ndarray:
        """Samples along straight lines in noise space, from the first n fixed-noise vectors to the next n:
        (steps, n, *shape)."""
        rng = self._fixed_noise_rng()
        start, end = self._noise(n, rng), self._noise(n, rng)
        return np.stack([self._generate((1 - t) * start + t * end) for t in np.linspace(0.0, 1.0, steps)])

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """Generated minibatches shaped like `obs` (num_envs, batch, *shape): fresh noise while training (the
        samples the next discriminator step trains on), the fixed noise sequence when greedy."""
        n = obs.shape[0] * obs.shape[1]
        if explore:
            self._restart_fixed = True
            with torch.no_grad():  # training mode, as the discriminator step's fake batch
                out = self.generator(self._noise(n, self.rng)).float().cpu().numpy()
        else:
            if self._restart_fixed:
                self.fixed_rng = self._fixed_noise_rng()
                self._restart_fixed = False
            out = self._generate(self._noise(n, self.fixed_rng))
        return out.reshape(obs.shape).astype(np.float32, copy=False)

    # ----- learning ----------------------------------------------------------------------------------------
    def observe(self, transition: Transition) -> None:
        """Keeps the step's real minibatches (observations) and generated ones (actions); padded rows are
        masked in info."""
        self._batch = transition

    def _rows(self, batches: np.ndarray, tr: Transition) -> torch.Tensor:
        """The rows of the step's minibatches (num_envs, batch, ...) that are real examples (info's mask)."""
        batches = np.asarray(batches, dtype=np.float32)
        rows = [b[i["mask"]] if isinstance(i, dict) and "mask" in i else b for b, i in zip(batches, tr.info)]
        return torch.as_tensor(np.concatenate(rows), device=self.device)

    def update(self) -> dict[str, float]:
        """One discriminator step on the last real minibatch; every critic_steps-th call a generator step."""
        tr, self._batch = self._batch, None
        if tr is None:
            return {}
        real, fake = self._rows(tr.obs, tr), self._rows(tr.action, tr)
        if len(real) == 0:
            return {}
        metrics = self._d_step(real, fake)
        self.updates += 1
        if self.updates % self.critic_steps == 0:
            self._g_metrics = self._g_step(len(real))
        return {**metrics, **self._g_metrics}

    def _d_step(self, real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
        """One discriminator step: real samples against the generated ones the env scored."""
        cfg = self.cfg
        d_real, d_fake = self.discriminator(real), self.discriminator(fake)
        loss = d_loss(cfg.loss, d_real, d_fake)
        metrics = {}
        if cfg.loss == "wgan_gp":
            eps = torch.rand(len(real), generator=self.rng).to(self.device)
            gp = gradient_penalty(self.discriminator, real, fake, eps)
            loss = loss + cfg.gp_weight * gp
            metrics["gradient_penalty"] = gp.item()
        self.d_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.d_opt.step()
        squash = torch.sigmoid if cfg.loss == "vanilla" else (lambda t: t)
        metrics.update(
            d_loss=loss.item(), d_real=squash(d_real).mean().item(), d_fake=squash(d_fake).mean().item()
        )
        return metrics

    def _g_step(self, n: int) -> dict[str, float]:
        fake = self.generator(self._noise(n, self.rng))
        loss = g_loss(self.cfg.loss, self.discriminator(fake))
        self.g_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.g_opt.step()
        return {"g_loss": loss.item()}

    # ----- checkpoints -------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Both networks, both optimisers, the noise generator, the update count and the last G metrics."""
        return {
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "g_opt": self.g_opt.state_dict(),
            "d_opt": self.d_opt.state_dict(),
            "rng": self.rng.get_state(),
            "updates": self.updates,
            "g_metrics": dict(self._g_metrics),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores a state_dict() (the fixed noise sequence restarts at the next greedy call)."""
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.g_opt.load_state_dict(state["g_opt"])
        self.d_opt.load_state_dict(state["d_opt"])
        self.rng.set_state(state["rng"])
        self.updates = int(state["updates"])
        self._g_metrics = {k: float(v) for k, v in state.get("g_metrics", {}).items()}
        self._restart_fixed = True
