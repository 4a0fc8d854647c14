"""Networks of the image-to-image agents (agents/pix2pix.py): pix2pix's U-Net, the PatchGAN discriminator,
a small SRCNN, and CycleGAN's ResNet generator; all fully convolutional, images in [-1, 1], (N, C, H, W).

* `UNet` (Isola et al. 2017, the authors' PyTorch code): `depth` stride-2 4x4 convolutions down (channels ngf,
  2 ngf, 4 ngf, 8 ngf, 8 ngf, ...; LeakyReLU 0.2), as many transposed convolutions up (ReLU), each up block
  concatenated with the down block of the same size (the skips); dropout 0.5 in the three innermost up blocks
  below the bottleneck; tanh out. Depth 8 takes 256 px to 1x1, as the paper; our CPU default 6 does 64 px.
* `PatchGAN` (pix2pix's NLayerDiscriminator, n_layers 3: C64-C128-C256-C512 then a 1-channel map): each
  output scores one 70x70 patch of the input; pix2pix feeds it the (input, output) pair, CycleGAN one image.
* `SRCNN` (Dong et al. 2014, 9-5-5, 64/32 filters) on the bicubic-upscaled image; `agent=srcnn` adds its
  output to that image (VDSR's global residual, below; modern practice: minutes, where plain SRCNN takes
  hours).
* `ResNetGenerator` (the CycleGAN seed: reflection padding, 7x7 stem, two stride-2 downsamplings, residual
  blocks, two upsamplings, 7x7 out, tanh).

Global residual learning (`residual_answer`, agent.residual=input|hole; modern practice, not the papers'):
the generator's output is added to the task's trivial answer computed from its input, the input itself (x4 SR
as VDSR/EDSR: bicubic + residual; colourisation: grey + colour), or for inpainting the input with its white
hole (process.py's blank) filled with the mean colour of the rest, the known pixels kept (the composite of
modern inpainting). With the output layer zeroed (`zero_output`), an untrained generator gives that answer.

Normalisation is instance norm everywhere: the papers train with batch size 1 and batch norm in training mode
at test time too, which is instance norm; with it, larger batches and `eval()` change nothing.
"""

from __future__ import annotations

import torch
from torch import nn

from rlkit.core.errors import UserError


def norm(channels: int) -> nn.Module:
    """Instance norm, without affine parameters or running statistics (the CycleGAN/pix2pix code's)."""
    return nn.InstanceNorm2d(channels)


def init_weights(module: nn.Module) -> None:
    """The papers' initialisation: convolution weights N(0, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def unet_channels(ngf: int, depth: int) -> list[int]:
    """Channels after each down block: ngf * (1, 2, 4, 8, 8, ...)."""
    return [ngf * min(2**i, 8) for i in range(depth)]


class UNet(nn.Module):
    """pix2pix's U-Net generator (see the module docstring); H and W divisible by 2**depth."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        ngf: int = 64,
        depth: int = 8,
        dropout: float = 0.5,
        tanh: bool = True,
    ):
        super().__init__()
        ch = unet_channels(ngf, depth)
        self.depth = depth
        downs, ups = [], []
        for i in range(depth):
            layers = [] if i == 0 else [nn.LeakyReLU(0.2)]
            layers.append(nn.Conv2d(in_channels if i == 0 else ch[i - 1], ch[i], 4, 2, 1))
            if 0 < i < depth - 1:
                layers.append(norm(ch[i]))
            downs.append(nn.Sequential(*layers))
            up_in = ch[i] if i == depth - 1 else 2 * ch[i]
            up = [nn.ReLU(), nn.ConvTranspose2d(up_in, ch[i - 1] if i > 0 else out_channels, 4, 2, 1)]
            if i > 0:
                up.append(norm(ch[i - 1]))
                if dropout > 0 and depth - 5 < i < depth - 1:
                    up.append(nn.Dropout(dropout))
            elif tanh:  # without: a linear output, for a residual added to the trivial answer
                up.append(nn.Tanh())
            ups.append(nn.Sequential(*up))
        self.downs, self.ups = nn.ModuleList(downs), nn.ModuleList(ups)

    @property
    def output_layer(self) -> nn.Module:
        """The last (transposed) convolution."""
        return self.ups[0][1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
        for i in reversed(range(self.depth)):
            x = self.ups[i](x)
            if i > 0:
                x = torch.cat([x, skips[i - 1]], dim=1)
        return x


class PatchGAN(nn.Module):
    """pix2pix's PatchGAN: a (N, 1, h, w) map of logits (LSGAN: scores), one per 70x70 patch at n_layers 3."""

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        prev = ndf
        for n in range(1, n_layers + 1):
            out = ndf * min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [nn.Conv2d(prev, out, 4, stride, 1), norm(out), nn.LeakyReLU(0.2)]
            prev = out
        layers.append(nn.Conv2d(prev, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def check_patchgan_fits(n_layers: int, height: int, width: int) -> None:
    """UserError unless images of (height, width) leave the PatchGAN's normalised layers more than 1 pixel."""
    smallest = 3 * 2**n_layers
    if min(height, width) < smallest:
        raise UserError(
            f"agent.d_layers={n_layers} needs images of at least {smallest} px, but the env's are "
            f"{height}x{width}: lower agent.d_layers or raise env.kwargs.crop"
        )


def receptive_field(n_layers: int) -> int:
    """Pixels of the input one PatchGAN output sees (70 at n_layers 3)."""
    size = 1
    strides = [1, 1] + [2] * n_layers  # from the output back: final conv, last conv, then the stride-2 ones
    for stride in strides:
        size = size * stride + (4 - stride)
    return size


class SRCNN(nn.Module):
    """SRCNN 9-5-5 (64, 32 filters); with agent.residual=input, the correction to the bicubic input."""

    def __init__(self, channels: int = 3, f1: int = 64, f2: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, f1, 9, padding=4),
            nn.ReLU(),
            nn.Conv2d(f1, f2, 5, padding=2),
            nn.ReLU(),
            nn.Conv2d(f2, channels, 5, padding=2),
        )

    @property
    def output_layer(self) -> nn.Module:
        """The last convolution."""
        return self.net[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ResidualBlock(nn.Module):
    """The CycleGAN seed's block: x + (pad, 3x3 conv, IN, ReLU, pad, 3x3 conv, IN)(x)."""

    def __init__(self, channels: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            norm(channels),
            nn.ReLU(),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class ResNetGenerator(nn.Module):
    """The CycleGAN seed's GeneratorResNet (9 blocks at 256 px, fewer for small ones); H, W divisible by 4."""

    def __init__(self, channels: int = 3, ngf: int = 64, blocks: int = 9):
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(channels, ngf, 7), norm(ngf), nn.ReLU()]
        c = ngf
        for _ in range(2):
            layers += [nn.Conv2d(c, 2 * c, 3, 2, 1), norm(2 * c), nn.ReLU()]
            c *= 2
        layers += [ResidualBlock(c) for _ in range(blocks)]
        for _ in range(2):
            layers += [nn.Upsample(scale_factor=2), nn.Conv2d(c, c // 2, 3, 1, 1), norm(c // 2), nn.ReLU()]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """x padded (edge values repeated) at the bottom and right up to a multiple of `multiple`; (x, (H, W))."""
    h, w = x.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    if ph or pw:
        x = nn.functional.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, (h, w)


RESIDUALS = ("none", "input", "hole")


def zero_output(generator: nn.Module) -> None:
    """Zeroes the generator's output layer: its residual starts at 0, the answer at the trivial one."""
    nn.init.zeros_(generator.output_layer.weight)
    nn.init.zeros_(generator.output_layer.bias)


def hole_mask(x: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) True where a [-1, 1] image is pure white in every channel: process.py's blank hole."""
    return (x >= 1.0).all(dim=1, keepdim=True)


def residual_answer(x: torch.Tensor, residual: torch.Tensor, mode: str) -> torch.Tensor:
    """The trivial answer to input x plus the generator's residual (mode input), or for mode hole: the input
    where it is known, the hole's mean fill plus the residual inside the hole. Not clamped: the losses see
    the raw sum (a clamp would stop the gradient of an overshooting pixel); the agent clamps its answer."""
    if mode == "input":
        return x + residual
    hole = hole_mask(x)
    known = (~hole).to(x.dtype)
    fill = (x * known).sum(dim=(2, 3), keepdim=True) / known.sum(dim=(2, 3), keepdim=True).clamp(min=1.0)
    return torch.where(hole, fill + residual, x)
