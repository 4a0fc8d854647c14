"""pix2pix (Isola et al. 2017, book chapters 9-10) as an rlkit agent, and the L1-only nets it is set against.

The env (rlkit.envs.image2image) shows a minibatch of input images (uint8 (batch, 3, H, W)); the action is the
generator's translation (float32 in [-1, 1]); the targets come back in ``info["targets"]``. Each env step is
one discriminator step and one generator step on that minibatch, using the translation the env scored (its
graph is kept from `act`, so a step costs one generator forward, as in the authors' loop):

* D (PatchGAN on the (input, image) pair, 6 channels) minimises 0.5 * [BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)]
  (pix2pix halves D's objective);
* G minimises gan_weight * BCE(D(x, G(x)), 1) + l1_weight * |G(x) - y|_1 (gan_weight 1, l1_weight 100).

`gan_weight=0` is the L1-only baseline (no discriminator is built). `generator`: unet (pix2pix's, `depth` down
blocks of `ngf` channels) or srcnn (`agent=srcnn`: SRCNN with a global residual, L1 only, for x4 super-
resolution). `lab=true` is the book's Lab colourisation (pix2pix-tensorflow's --lab_colorization): G maps the
lightness L (scaled to [-1, 1]) to the colour channels a, b (/110), D sees (L, a, b), the L1 loss is on a, b,
and the answer is the input's L with the predicted a, b, converted back to RGB (scikit-image's lab2rgb).
Adam 2e-4, betas (0.5, 0.999), as the paper. Metrics (train/): d_loss, g_loss (watched by the NaN guard),
l1 (mean absolute error in [-1, 1] units), g_gan, d_real and d_fake (mean D probabilities).
`residual` (modern practice, not the paper's, whose U-Net draws every pixel from scratch and at CPU budgets
stays below the copy-the-input answer): `input` adds the generator's (linear, zero-initialised) output to its
input, so it starts from the trivial answer (x4 SR: bicubic, VDSR/ESRGAN-style global residual; `agent=srcnn`
always does); `hole` (inpainting) fills the input's white hole with the mean colour of the known pixels, adds
the output inside the hole, keeps the known pixels (the composite), and takes the L1 loss as the mean over
the hole's pixels only (`+experiment=pix2pix_sr`, `+experiment=pix2pix_inpaint`).
Images of any size are padded (edges repeated) to a multiple of 2**depth and cropped back, so `rlkit play`
translates whole photographs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from rlkit.agents.gan_nets import d_loss, d_update, g_loss
from rlkit.agents.image2image_nets import (
    RESIDUALS,
    SRCNN,
    PatchGAN,
    UNet,
    check_patchgan_fits,
    hole_mask,
    init_weights,
    pad_to_multiple,
    residual_answer,
    zero_output,
)
from rlkit.core.errors import IncompatibleError, UserError, check_ranges, describe_space
from rlkit.core.seeding import RandomStream, seeded
from rlkit.core.types import AgentContext, Transition

GENERATORS = ("unet", "srcnn")


@dataclass
class Pix2PixConfig:
    """Hyperparameters of pix2pix (and of the L1-only nets).

    Attributes:
        name: agent name (the `agent=` token).
        generator: unet or srcnn.
        ngf, ndf: channels of the generator's first layer and of the discriminator's.
        depth: the U-Net's down blocks (8 for 256 px, as the paper; 6 for 64 px crops).
        d_layers: the PatchGAN's stride-2 layers (3: 70x70 patches).
        dropout: in the U-Net's three innermost up blocks (0.5).
        gan_weight: weight of the adversarial loss (0: L1 only, no discriminator).
        l1_weight: weight of the L1 loss (100).
        lr, beta1, beta2: Adam's (2e-4, 0.5, 0.999).
        lab: Lab colourisation (grey inputs only: env=colorize).
        residual: none (the paper), input (output = input + residual) or hole (inpainting: the mean-filled
            white hole + residual, the known pixels kept, L1 on the hole); see the module docstring.
    """

    name: str = "pix2pix"
    generator: str = "unet"
    ngf: int = 64
    ndf: int = 64
    depth: int = 8
    d_layers: int = 3
    dropout: float = 0.5
    gan_weight: float = 1.0
    l1_weight: float = 100.0
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    lab: bool = False
    residual: str = "none"

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        checks = [
            ("generator", self.generator in GENERATORS, f"one of {', '.join(GENERATORS)}"),
            ("residual", self.residual in RESIDUALS, f"one of {', '.join(RESIDUALS)}"),
            ("ngf", self.ngf >= 1, ">= 1"),
            ("ndf", self.ndf >= 1, ">= 1"),
            ("depth", 2 <= self.depth <= 10, "in [2, 10]"),
            ("d_layers", 1 <= self.d_layers <= 6, "in [1, 6]"),
            ("dropout", 0 <= self.dropout < 1, "in [0, 1)"),
            ("gan_weight", self.gan_weight >= 0, ">= 0"),
            ("l1_weight", self.l1_weight >= 0, ">= 0"),
            ("lr", self.lr > 0, "> 0"),
            ("beta1", 0 <= self.beta1 < 1, "in [0, 1)"),
            ("beta2", 0 <= self.beta2 < 1, "in [0, 1)"),
        ]
        check_ranges("agent.", checks, lambda key: repr(getattr(self, key)))
        if self.lab and self.generator != "unet":
            raise UserError("agent.lab=true needs agent.generator=unet")
        if self.lab and self.residual != "none":
            raise UserError("agent.lab=true keeps the input's lightness already: use agent.residual=none")


def image_shape(ctx: AgentContext) -> tuple[int, int, int]:
    """(3, H, W) of an image translation env; IncompatibleError for another env."""
    obs, act = ctx.observation_space, ctx.action_space
    fits = isinstance(obs, spaces.Box) and isinstance(act, spaces.Box) and obs.shape == act.shape
    if not fits or len(obs.shape) != 4 or obs.shape[1] != 3 or obs.dtype != np.uint8:
        raise IncompatibleError(
            f"agent '{ctx.agent_name}' translates images and needs an image translation env (observation: a "
            f"uint8 minibatch (batch, 3, H, W); action: float images of the same shape), but env "
            f"'{ctx.env_name}' has observation space {describe_space(obs)} and action space "
            f"{describe_space(act)}. Use env=colorize, inpaint, edges2photo, super_resolution or "
            "pix2pix_folder."
        )
    return tuple(obs.shape[1:])


def rgb_to_lab(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 3, H, W) RGB to float32 (N, 3, H, W) Lab scaled to [-1, 1] (L/50 - 1, a/110, b/110)."""
    from skimage.color import rgb2lab

    lab = rgb2lab(np.moveaxis(images, 1, -1)).astype(np.float32)
    lab = np.moveaxis(lab, -1, 1)
    return np.concatenate([lab[:, :1] / 50.0 - 1.0, lab[:, 1:] / 110.0], axis=1)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """The inverse of rgb_to_lab, to float32 RGB in [-1, 1]."""
    from skimage.color import lab2rgb

    lab = np.concatenate([(lab[:, :1] + 1.0) * 50.0, lab[:, 1:] * 110.0], axis=1)
    rgb = lab2rgb(np.moveaxis(lab.astype(np.float64), 1, -1))
    return (np.moveaxis(rgb, -1, 1) * 2.0 - 1.0).astype(np.float32)


class Pix2PixAgent:
    """A U-Net generator and a PatchGAN discriminator trained on the paired minibatches an env shows."""

    Config = Pix2PixConfig

    def __init__(self, cfg: Pix2PixConfig, ctx: AgentContext):
        cfg.validate()
        self.cfg, self.device = cfg, torch.device(ctx.device)
        shape = image_shape(ctx)
        if cfg.gan_weight:
            check_patchgan_fits(cfg.d_layers, *shape[1:])
        g_in, g_out = (1, 2) if cfg.lab else (3, 3)
        self.multiple = 2**cfg.depth if cfg.generator == "unet" else 1
        with seeded(ctx.seed, self.device):
            if cfg.generator == "unet":
                tanh = cfg.residual == "none"
                self.generator = UNet(g_in, g_out, cfg.ngf, cfg.depth, cfg.dropout, tanh=tanh)
            else:
                self.generator = SRCNN(3)
            init_weights(self.generator)
            if cfg.residual != "none":
                zero_output(self.generator)
            self.discriminator = (
                PatchGAN(3 if cfg.lab else 6, cfg.ndf, cfg.d_layers) if cfg.gan_weight else None
            )
            if self.discriminator is not None:
                init_weights(self.discriminator)
        self.generator.to(self.device)
        betas = (cfg.beta1, cfg.beta2)
        self.g_opt = torch.optim.Adam(self.generator.parameters(), lr=cfg.lr, betas=betas)
        self.d_opt = None
        if self.discriminator is not None:
            self.discriminator.to(self.device)
            self.d_opt = torch.optim.Adam(self.discriminator.parameters(), lr=cfg.lr, betas=betas)
        self.rng = RandomStream(ctx.seed + 1, self.device)  # the generator's dropout draws from it
        self._pending: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None  # (x, lightness, G(x))
        self._batch: Transition | None = None

    # ----- images to and from the networks ------------------------------------------------------------------
    def _inputs(self, images: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 (N, 3, H, W) to (the generator's input, the L channel in lab mode else the input)."""
        if self.cfg.lab:
            x = torch.as_tensor(rgb_to_lab(images)[:, :1], device=self.device)
            return x, x
        x = torch.as_tensor(images, device=self.device).float() / 127.5 - 1.0
        return x, x

    def _generate(self, x: torch.Tensor) -> torch.Tensor:
        padded, (h, w) = pad_to_multiple(x, self.multiple)
        out = self.generator(padded)[..., :h, :w]
        return out if self.cfg.residual == "none" else residual_answer(x, out, self.cfg.residual)

    def _answer(self, lightness: torch.Tensor, out: torch.Tensor) -> np.ndarray:
        """The generator's output as RGB in [-1, 1] (lab: the input's L with the predicted a, b)."""
        out = out.detach().float().clamp(-1.0, 1.0)
        if self.cfg.lab:
            return lab_to_rgb(torch.cat([lightness, out], dim=1).cpu().numpy())
        return out.cpu().numpy()

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """Translations of (num_envs, batch, 3, H, W) inputs. While training (explore), the generator runs in
        training mode, its graph kept for the next update (the step's G(x)); greedy: eval mode, no graph."""
        flat = np.asarray(obs).reshape(-1, *obs.shape[2:])
        x, lightness = self._inputs(flat)
        if explore:
            with self.rng.active(python=False, numpy=False):
                out = self._generate(x)
            self._pending = (x, lightness, out)
        else:
            self.generator.eval()
            with torch.no_grad():
                out = self._generate(x)
            self.generator.train()
        return self._answer(lightness, out).reshape(*obs.shape[:2], *obs.shape[2:]).astype(np.float32)

    # ----- learning -----------------------------------------------------------------------------------------
    def observe(self, transition: Transition) -> None:
        """Keeps the step's transition (its info holds the targets and the mask of real rows)."""
        self._batch = transition

    def update(self) -> dict[str, float]:
        """One discriminator step and one generator step on the last minibatch's real rows."""
        tr, self._batch = self._batch, None
        pending, self._pending = self._pending, None
        if tr is None:
            return {}
        targets = np.concatenate([i["targets"] for i in tr.info])
        mask = torch.as_tensor(np.concatenate([i["mask"] for i in tr.info]), device=self.device)
        if not bool(mask.any()):
            return {}
        if pending is None or pending[0].shape[0] != len(targets):  # act was greedy: translate again
            x, lightness = self._inputs(np.asarray(tr.obs).reshape(-1, *tr.obs.shape[2:]))
            with self.rng.active(python=False, numpy=False):
                pending = (x, lightness, self._generate(x))
        full = bool(mask.all())  # no padded rows (every minibatch but an epoch's short last one): no copies
        x, _, fake = pending if full else (t[mask] for t in pending)
        if self.cfg.lab:
            real = torch.as_tensor(rgb_to_lab(targets)[:, 1:], device=self.device)
        else:
            real = torch.as_tensor(targets, device=self.device).float() / 127.5 - 1.0
        real = real if full else real[mask]
        metrics = {}
        if self.discriminator is not None:
            metrics.update(self._d_step(x, real, fake.detach()))
        if self.cfg.residual == "hole":  # the mean over the hole's pixels (the known ones are kept exactly)
            hole = hole_mask(x)
            l1 = ((fake - real).abs() * hole).sum() / (3 * hole.sum()).clamp(min=1)
        else:
            l1 = (fake - real).abs().mean()
        loss = self.cfg.l1_weight * l1
        if self.discriminator is not None:
            self.discriminator.requires_grad_(False)
            g_gan = g_loss("vanilla", self.discriminator(torch.cat([x, fake], dim=1)))
            self.discriminator.requires_grad_(True)
            loss = loss + self.cfg.gan_weight * g_gan
            metrics["g_gan"] = g_gan.item()
        self.g_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.g_opt.step()
        return {**metrics, "g_loss": loss.item(), "l1": l1.item()}

    def _d_step(self, x: torch.Tensor, real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
        d_real = self.discriminator(torch.cat([x, real], dim=1))
        d_fake = self.discriminator(torch.cat([x, fake], dim=1))
        return d_update(self.d_opt, 0.5 * d_loss("vanilla", d_real, d_fake), d_real, d_fake)

    # ----- checkpoints -------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The networks and their optimisers, and the dropout random stream (torch's CPU generator)."""
        state = {
            "generator": self.generator.state_dict(),
            "g_opt": self.g_opt.state_dict(),
            "rng": self.rng.state_dict(),
        }
        if self.discriminator is not None:
            state.update(discriminator=self.discriminator.state_dict(), d_opt=self.d_opt.state_dict())
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores a state_dict()."""
        self.generator.load_state_dict(state["generator"])
        self.g_opt.load_state_dict(state["g_opt"])
        self.rng.load_state_dict(state["rng"])
        if self.discriminator is not None:
            self.discriminator.load_state_dict(state["discriminator"])
            self.d_opt.load_state_dict(state["d_opt"])
