"""Fast style transfer (Johnson et al.; the book's chapter 7 models.py): a feed-forward transform network
trained once per style against a fixed loss network, then one forward pass per image.

The transform network is the book's: reflect padding 10, conv 9x9 32, conv 3x3 64 /2, conv 3x3 128 /2 (each
instance norm + ReLU), 5 residual blocks of 128, two upsample-then-conv 3x3 layers (64, 32; nearest
upsampling x2 then a convolution instead of a transposed convolution, against checkerboard artefacts), conv
9x9 3 with instance norm and tanh, the 10-pixel border cropped. Every convolution pads by reflection.
Images are floats in [0, 1] (the book's (tanh + 1) * 127.5 divided by 255). The losses are
rlkit.agents.style_transfer's (CS231n's normalisation), computed by any backbone; Adam 1e-3 on the
transform network only, as the book.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from rlkit.agents.style_transfer import content_loss, gram_matrix, layer_features, style_loss, tv_loss
from rlkit.core.seeding import seeded


def conv(cin: int, cout: int, kernel: int, stride: int = 1, relu: bool = True) -> nn.Sequential:
    """Reflection-padded convolution, instance norm (affine), then ReLU (unless `relu` is False)."""
    layers = [
        nn.ReflectionPad2d(kernel // 2),
        nn.Conv2d(cin, cout, kernel, stride),
        nn.InstanceNorm2d(cout, affine=True),
    ]
    return nn.Sequential(*layers, nn.ReLU(inplace=True)) if relu else nn.Sequential(*layers)


class Residual(nn.Module):
    """x + conv(relu(conv(x))), 3x3 convolutions of `channels`."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(conv(channels, channels, 3), conv(channels, channels, 3, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class UpConv(nn.Module):
    """Nearest-neighbour upsampling x2, then conv (the book's resize_conv2d)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = conv(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(nn.functional.interpolate(x, scale_factor=2, mode="nearest"))


class TransformNet(nn.Module):
    """The book's image transformation network: (N, 3, H, W) in [0, 1] -> stylised (N, 3, H, W) in [0, 1]."""

    def __init__(self, residual_blocks: int = 5):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(10),
            conv(3, 32, 9), conv(32, 64, 3, 2), conv(64, 128, 3, 2),
            *[Residual(128) for _ in range(residual_blocks)],
            UpConv(128, 64), UpConv(64, 32),
            conv(32, 3, 9, relu=False), nn.Tanh(),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        y = (self.body(x) + 1) / 2
        return y[:, :, 10 : 10 + h, 10 : 10 + w]


class StyleLoss:
    """The total loss of stylised images against their inputs and one style image, through `backbone`."""

    def __init__(
        self,
        backbone: nn.Module,
        style: torch.Tensor,
        content_layer: int,
        style_layers: Sequence[int],
        content_weight: float = 5e-2,
        style_weights: Sequence[float] = (20000.0, 500.0, 12.0, 1.0),
        tv_weight: float = 5e-2,
    ):
        self.net, self.content_layer, self.style_layers = backbone.eval(), content_layer, list(style_layers)
        for p in backbone.parameters():
            p.requires_grad_(False)
        self.weights = (content_weight, list(style_weights), tv_weight)
        with torch.no_grad():
            feats = layer_features(backbone, backbone.preprocess(style[None]), self.style_layers)
            self.targets = [gram_matrix(feats[i]) for i in self.style_layers]

    def __call__(self, out: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of content + style + TV losses (images in [0, 1])."""
        wc, ws, wt = self.weights
        layers = sorted({self.content_layer, *self.style_layers})
        with torch.no_grad():
            target = layer_features(self.net, self.net.preprocess(content), [self.content_layer])
        x = self.net.preprocess(out)  # one batched pass: every loss is a sum over the images
        feats = layer_features(self.net, x, layers)
        total = content_loss(wc, feats[self.content_layer], target[self.content_layer])
        total = total + style_loss(feats, self.style_layers, self.targets, ws) + tv_loss(x, wt)
        return total / len(out)


def train_transform_net(
    loss: StyleLoss, crops: torch.Tensor, steps: int, batch_size: int = 4, lr: float = 1e-3, seed: int = 0
) -> tuple[TransformNet, list[float]]:
    """(trained network, loss per step): Adam on random minibatches of `crops` (N, 3, H, W) in [0, 1]."""
    gen = torch.Generator().manual_seed(seed)
    with seeded(seed):  # the initialisation draws from a private stream, not torch's global one
        net = TransformNet()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    history = []
    for _ in range(steps):
        batch = crops[torch.randint(0, len(crops), (batch_size,), generator=gen)]
        value = loss(net(batch), batch)
        opt.zero_grad()
        value.backward()
        opt.step()
        history.append(float(value.detach()))
    return net, history
