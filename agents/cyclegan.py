"""CycleGAN (Zhu et al. 2017; book chapter 11 and the PyTorch CycleGAN seed) as an rlkit agent.

The env (rlkit.envs.cyclegan) shows a minibatch of domain-A images (uint8 (batch, 3, H, W)) and, in
``info["targets"]``, an unpaired minibatch of domain-B images. The action is G_AB(A) and the cycle
G_BA(G_AB(A)) stacked on the channel axis (batch, 6, H, W), in [-1, 1], so the env can score both the
translation and the reconstruction. Each env step is one generator step and one step of each discriminator:

* G = G_AB, G_BA (ResNet generators) minimise the LSGAN terms (D_B(G_AB(a)) - 1)^2 and (D_A(G_BA(b)) - 1)^2,
  plus cycle_weight (10) |G_BA(G_AB(a)) - a|_1 + |G_AB(G_BA(b)) - b|_1 and identity_weight (5)
  |G_BA(a) - a|_1 + |G_AB(b) - b|_1, each term averaged over the two directions, as the seed;
* D_A, D_B (PatchGAN, instance norm) minimise ((D(real) - 1)^2 + D(fake)^2) / 2 (agents/gan_nets.py's lsgan
  d_loss) with the fakes drawn through a 50-image history buffer (`ImageHistory`, Shrivastava et al.).

Adam 2e-4, betas (0.5, 0.999), one optimiser for both generators and one per discriminator, learning rates
held for `decay_epoch` epochs and then decayed linearly to 0 at `n_epochs` (LambdaLR, stepped at the end of
each training epoch: an env episode). The seed's defaults (lr 3e-4, 5 epochs) differ from the paper's 2e-4 and
100 + 100 epochs; we follow the paper's rate. Metrics (train/): g_loss, d_loss (watched by the NaN guard),
gan, cycle, identity, lr.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from rlkit.agents.gan_nets import d_loss, g_loss
from rlkit.agents.image2image_nets import (
    PatchGAN,
    ResNetGenerator,
    check_patchgan_fits,
    init_weights,
    pad_to_multiple,
)
from rlkit.core.errors import IncompatibleError, UserError, check_ranges, describe_space
from rlkit.core.seeding import seeded
from rlkit.core.types import AgentContext, Transition


def linear_decay(epoch: int, n_epochs: int, decay_epoch: int, offset: int = 0) -> float:
    """The seed's LambdaLR factor: 1 until decay_epoch, then linearly down to 0 at n_epochs."""
    return 1.0 - max(0, epoch + offset - decay_epoch) / (n_epochs - decay_epoch)


class ImageHistory:
    """The seed's ReplayBuffer(50) of generated images: until full, each new image is stored and returned;
    once full, half of the time a random stored image is returned (and replaced by the new one)."""

    def __init__(self, max_size: int, rng: np.random.Generator):
        self.max_size, self.rng, self.images = max_size, rng, []

    def push_and_pop(self, batch: torch.Tensor) -> torch.Tensor:
        """The images D trains on for this generated batch (N, C, H, W), detached."""
        out = []
        for image in batch.detach():
            if len(self.images) < self.max_size:
                self.images.append(image.clone())
                out.append(image)
            elif self.rng.random() < 0.5:
                k = int(self.rng.integers(self.max_size))
                out.append(self.images[k].clone())
                self.images[k] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        return {"images": torch.stack(self.images) if self.images else torch.zeros(0)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.images = [x.clone() for x in state["images"]] if state["images"].numel() else []


@dataclass
class CycleGanConfig:
    """Hyperparameters of CycleGAN (the seed's, with the paper's learning rate).

    Attributes:
        name: agent name (the `agent=` token).
        ngf, ndf: channels of the generators' first layer and of the discriminators'.
        blocks: residual blocks per generator (9 at 256 px; 3 for 64 px crops).
        d_layers: PatchGAN stride-2 layers (3: 70x70 patches).
        cycle_weight, identity_weight: 10 and 5.
        history: size of the history buffer of generated images (50; 0: none).
        lr, beta1, beta2: Adam's (2e-4, 0.5, 0.999).
        n_epochs, decay_epoch: the learning rate decays linearly from decay_epoch to 0 at n_epochs.
    """

    name: str = "cyclegan"
    ngf: int = 64
    ndf: int = 64
    blocks: int = 9
    d_layers: int = 3
    cycle_weight: float = 10.0
    identity_weight: float = 5.0
    history: int = 50
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    n_epochs: int = 200
    decay_epoch: int = 100

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        checks = [
            ("ngf", self.ngf >= 1, ">= 1"),
            ("ndf", self.ndf >= 1, ">= 1"),
            ("blocks", self.blocks >= 0, ">= 0"),
            ("d_layers", 1 <= self.d_layers <= 6, "in [1, 6]"),
            ("cycle_weight", self.cycle_weight >= 0, ">= 0"),
            ("identity_weight", self.identity_weight >= 0, ">= 0"),
            ("history", self.history >= 0, ">= 0"),
            ("lr", self.lr > 0, "> 0"),
            ("beta1", 0 <= self.beta1 < 1, "in [0, 1)"),
            ("beta2", 0 <= self.beta2 < 1, "in [0, 1)"),
            ("n_epochs", self.n_epochs >= 1, ">= 1"),
            ("decay_epoch", 0 <= self.decay_epoch < self.n_epochs, "in [0, n_epochs)"),
        ]
        check_ranges("agent.", checks, lambda key: repr(getattr(self, key)))


def check_unpaired_env(ctx: AgentContext) -> None:
    """IncompatibleError unless the env shows (batch, 3, H, W) uint8 and takes (batch, 6, H, W) floats."""
    obs, act = ctx.observation_space, ctx.action_space
    fits = isinstance(obs, spaces.Box) and isinstance(act, spaces.Box) and len(obs.shape) == 4
    if (
        not fits
        or obs.dtype != np.uint8
        or obs.shape[1] != 3
        or act.shape != (obs.shape[0], 6, *obs.shape[2:])
    ):
        raise IncompatibleError(
            f"agent '{ctx.agent_name}' needs an unpaired translation env (observation: uint8 (batch, 3, H, "
            f"W) domain-A images; action: (batch, 6, H, W) translation and cycle), but env "
            f"'{ctx.env_name}' has observation space {describe_space(obs)} and action space "
            f"{describe_space(act)}. Use env=photo2sepia or env=cyclegan_folder."
        )


class CycleGanAgent:
    """Two ResNet generators and two PatchGAN discriminators trained on unpaired minibatches."""

    Config = CycleGanConfig

    def __init__(self, cfg: CycleGanConfig, ctx: AgentContext):
        cfg.validate()
        check_unpaired_env(ctx)
        check_patchgan_fits(cfg.d_layers, *ctx.observation_space.shape[2:])
        self.cfg, self.device = cfg, torch.device(ctx.device)
        with seeded(ctx.seed, self.device):
            self.g_ab, self.g_ba = (ResNetGenerator(3, cfg.ngf, cfg.blocks) for _ in range(2))
            self.d_a, self.d_b = (PatchGAN(3, cfg.ndf, cfg.d_layers) for _ in range(2))
            for net in (self.g_ab, self.g_ba, self.d_a, self.d_b):
                init_weights(net)
        for net in (self.g_ab, self.g_ba, self.d_a, self.d_b):
            net.to(self.device)
        betas = (cfg.beta1, cfg.beta2)
        gens = itertools.chain(self.g_ab.parameters(), self.g_ba.parameters())
        self.opts = {
            "g": torch.optim.Adam(gens, lr=cfg.lr, betas=betas),
            "d_a": torch.optim.Adam(self.d_a.parameters(), lr=cfg.lr, betas=betas),
            "d_b": torch.optim.Adam(self.d_b.parameters(), lr=cfg.lr, betas=betas),
        }
        decay = lambda epoch: linear_decay(epoch, cfg.n_epochs, cfg.decay_epoch)  # noqa: E731
        self.schedulers = {k: torch.optim.lr_scheduler.LambdaLR(o, decay) for k, o in self.opts.items()}
        self.rng = np.random.default_rng(ctx.seed)
        self.fake_a, self.fake_b = ImageHistory(cfg.history, self.rng), ImageHistory(cfg.history, self.rng)
        self._pending: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self._batch: Transition | None = None

    def _to_net(self, images: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(images), device=self.device).float() / 127.5 - 1.0

    def _gen(self, net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        padded, (h, w) = pad_to_multiple(x, 4)
        return net(padded)[..., :h, :w]

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """(num_envs, batch, 6, H, W): G_AB(A) and G_BA(G_AB(A)); while training the graph is kept."""
        real_a = self._to_net(np.asarray(obs).reshape(-1, *obs.shape[2:]))
        if explore:
            fake_b = self._gen(self.g_ab, real_a)
            rec_a = self._gen(self.g_ba, fake_b)
            self._pending = (real_a, fake_b, rec_a)
        else:
            with torch.no_grad():
                fake_b = self._gen(self.g_ab, real_a)
                rec_a = self._gen(self.g_ba, fake_b)
        out = torch.cat([fake_b, rec_a], dim=1).detach().cpu().numpy()
        return out.reshape(*obs.shape[:2], 6, *obs.shape[3:]).astype(np.float32)

    def translate(self, images: np.ndarray, direction: str = "AtoB") -> np.ndarray:
        """uint8 (N, 3, H, W) translated by G_AB (or G_BA), in [-1, 1]."""
        net = self.g_ab if direction == "AtoB" else self.g_ba
        with torch.no_grad():
            return self._gen(net, self._to_net(images)).cpu().numpy()

    def observe(self, transition: Transition) -> None:
        """Keeps the step's transition (info: the unpaired B minibatch, the mask, the end of an epoch)."""
        self._batch = transition

    def update(self) -> dict[str, float]:
        """One generator step and one step of each discriminator; at an epoch's end, the LR schedules step."""
        tr, self._batch = self._batch, None
        pending, self._pending = self._pending, None
        if tr is None:
            return {}
        mask = torch.as_tensor(np.concatenate([i["mask"] for i in tr.info]), device=self.device)
        if pending is None:
            raise UserError("CycleGanAgent.update() needs the act(explore=True) of the same step first")
        real_a, fake_b, rec_a = (t[mask] for t in pending)
        real_b = self._to_net(np.concatenate([i["targets"] for i in tr.info]))[mask]
        cfg, metrics = self.cfg, {}
        for d in (self.d_a, self.d_b):
            d.requires_grad_(False)
        fake_a = self._gen(self.g_ba, real_b)
        rec_b = self._gen(self.g_ab, fake_a)
        gan = g_loss("lsgan", self.d_b(fake_b)) + g_loss("lsgan", self.d_a(fake_a))  # = mean of 2 MSEs
        cycle = ((rec_a - real_a).abs().mean() + (rec_b - real_b).abs().mean()) / 2
        identity = torch.zeros((), device=self.device)
        if cfg.identity_weight > 0:
            identity = (self._gen(self.g_ba, real_a) - real_a).abs().mean()
            identity = (identity + (self._gen(self.g_ab, real_b) - real_b).abs().mean()) / 2
        loss = gan + cfg.cycle_weight * cycle + cfg.identity_weight * identity
        self.opts["g"].zero_grad(set_to_none=True)
        loss.backward()
        self.opts["g"].step()
        for d in (self.d_a, self.d_b):
            d.requires_grad_(True)
        d_total = 0.0
        for d, opt, real, fake, history in (
            (self.d_a, "d_a", real_a, fake_a, self.fake_a),
            (self.d_b, "d_b", real_b, fake_b, self.fake_b),
        ):
            fake = history.push_and_pop(fake) if cfg.history else fake.detach()
            d_l = d_loss("lsgan", d(real), d(fake))
            self.opts[opt].zero_grad(set_to_none=True)
            d_l.backward()
            self.opts[opt].step()
            d_total += d_l.item()
        if bool(np.any(tr.terminated)):  # a training epoch ended
            for s in self.schedulers.values():
                s.step()
        metrics.update(
            g_loss=loss.item(),
            d_loss=d_total / 2,
            gan=gan.item(),
            cycle=cycle.item(),
            identity=identity.item(),
        )
        return {**metrics, "lr": self.opts["g"].param_groups[0]["lr"]}

    def state_dict(self) -> dict[str, Any]:
        """Networks, optimisers, LR schedules, history buffers and the agent's random stream."""
        nets = {k: getattr(self, k).state_dict() for k in ("g_ab", "g_ba", "d_a", "d_b")}
        return {
            **nets,
            "opts": {k: o.state_dict() for k, o in self.opts.items()},
            "schedulers": {k: s.state_dict() for k, s in self.schedulers.items()},
            "fake_a": self.fake_a.state_dict(),
            "fake_b": self.fake_b.state_dict(),
            "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores a state_dict()."""
        for k in ("g_ab", "g_ba", "d_a", "d_b"):
            getattr(self, k).load_state_dict(state[k])
        for k, o in self.opts.items():
            o.load_state_dict(state["opts"][k])
        for k, s in self.schedulers.items():
            s.load_state_dict(state["schedulers"][k])
        self.fake_a.load_state_dict(state["fake_a"])
        self.fake_b.load_state_dict(state["fake_b"])
        self.rng.bit_generator.state = state["rng"]
