"""GoogLeNet (Inception v1, book chapter 4) and Inception v3 (chapter 3) with torchvision's parameter names.

Written module for module after torchvision's googlenet.py and inception.py (torchvision cannot be imported
on our CPU machines), so `googlenet-1378be20.pth` and `inception_v3_google-0cc3c7bd.pth` load as they are:
every conv is torchvision's BasicConv2d (conv without bias, BatchNorm eps 0.001, ReLU), so a state_dict has
`conv1.conv.weight`, `conv1.bn.running_mean`, `inception3a.branch2.1.bn.weight`, `Mixed_7c.branch_pool.conv
.weight`, `fc.bias`, ...

Auxiliary classifiers: the nets are built with them (`aux1`/`aux2`, `AuxLogits`; torchvision's constructor
default aux_logits=True, and both of its ImageNet files hold them), so the key set equals torchvision's and a
saved net loads back into torchvision. They are `aux_heads`: a weight file may lack them entirely (their fresh
initialisation stays; rlkit.agents.backbones.load_weights), fine-tuning re-initialises them with the head, and
`forward` returns the main logits only. Modern practice, not the book's: TF-Slim's train_image_classifier adds
0.4 x the aux loss; torchvision's pretrained constructors drop the aux heads, as we ignore them.

`transform_input`: torchvision's ImageNet files for both nets are ports of Google's TensorFlow weights, which
expect pixels scaled to [-1, 1]; torchvision's `transform_input=True` turns ImageNet-normalised input
((x - mean) / std) into (x - 0.5) / 0.5. rlkit's Backbone normalises once, with mean = std = 0.5 for these two
nets, which is the same input (tests/agents/test_backbones_inception.py checks it); the nets have no
`transform_input` flag of their own.

Input sizes: GoogLeNet 224x224 for ImageNet (any size >= 15x15 runs: its pools round up); Inception v3
299x299 (>= 75x75 runs). `features` lists the blocks in order (stem convs, pools, inception blocks) for
DeepDream/style layers (`features[i]`), `fc` is the head.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BasicConv2d(nn.Module):
    """conv (no bias) -> BatchNorm (eps 0.001) -> ReLU, torchvision's `conv`/`bn` names."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs: object):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


class Inception(nn.Module):
    """GoogLeNet's block: 1x1 | 1x1 -> 3x3 | 1x1 -> "5x5" | maxpool -> 1x1, concatenated.

    The "5x5" branch is a 3x3 conv, as in torchvision (its known bug, pytorch/vision#906), which its weight
    file was trained with.
    """

    def __init__(self, cin: int, c1: int, c3r: int, c3: int, c5r: int, c5: int, pool_proj: int):
        super().__init__()
        self.branch1 = BasicConv2d(cin, c1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(cin, c3r, kernel_size=1), BasicConv2d(c3r, c3, kernel_size=3, padding=1)
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(cin, c5r, kernel_size=1), BasicConv2d(c5r, c5, kernel_size=3, padding=1)
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(cin, pool_proj, kernel_size=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class GoogLeNetAux(nn.Module):
    """GoogLeNet's auxiliary classifier: pool to 4x4, 1x1 conv 128, fc 1024, dropout 0.7, fc."""

    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.conv(F.adaptive_avg_pool2d(x, (4, 4))), 1)
        return self.fc2(F.dropout(F.relu(self.fc1(x), inplace=True), 0.7, training=self.training))


class InceptionNet(nn.Module):
    """Blocks named as torchvision's, run in `features` order, then average pool, dropout and `fc`."""

    aux_heads: tuple[str, ...] = ()
    order: tuple[str, ...] = ()

    @property
    def features(self) -> list[nn.Module]:
        """The blocks before the classifier, in order (a plain list, so the keys stay torchvision's)."""
        return [getattr(self, name) for name in self.order]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.features:
            x = block(x)
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


def _init(net: nn.Module, std: float, bound: float) -> None:
    """torchvision's initialisation: convs and linears truncated normal (std: a layer's `stddev` or `std`,
    cut at +-bound), BatchNorm 1 and 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            s = float(getattr(m, "stddev", std))
            nn.init.trunc_normal_(m.weight, mean=0.0, std=s, a=-bound, b=bound)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class GoogLeNet(InceptionNet):
    """GoogLeNet (Szegedy et al. 2014) as torchvision's, with its batch norm (the TF port's v1)."""

    aux_heads = ("aux1", "aux2")
    order = ("conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a", "inception3b", "maxpool3",
             "inception4a", "inception4b", "inception4c", "inception4d", "inception4e", "maxpool4",
             "inception5a", "inception5b")  # fmt: skip

    def __init__(self, num_classes: int = 1000, in_channels: int = 3):
        super().__init__()
        pool = lambda k=3: nn.MaxPool2d(k, stride=2, ceil_mode=True)  # noqa: E731
        self.conv1 = BasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = pool()
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = pool()
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = pool()
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = pool(2)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.aux1 = GoogLeNetAux(512, num_classes)
        self.aux2 = GoogLeNetAux(528, num_classes)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(1024, num_classes)
        _init(self, std=0.01, bound=0.02)  # scipy's truncnorm(-2, 2, scale=0.01) in torchvision


def _convs(cin: int, *specs: tuple) -> list[nn.Module]:
    """A chain of BasicConv2d: each spec (out, kernel, stride, padding); cin of each is the last out."""
    layers = []
    for out, k, s, p in specs:
        layers.append(BasicConv2d(cin, out, kernel_size=k, stride=s, padding=p))
        cin = out
    return layers


class _Block(nn.Module):
    """An Inception v3 block: named branches (lists of BasicConv2d run in turn), concatenated.

    `split` branches end in two parallel convs (1x3 and 3x1) whose outputs are concatenated (InceptionE);
    `pool` is the pooling in front of `branch_pool` (avg 3x3 stride 1) or, with no conv, the max-pool branch.
    """

    def __init__(self, branches: dict[str, list[nn.Module]], split: dict[str, tuple[str, str]], stride: int):
        super().__init__()
        self.chains, self.split, self.stride = {}, split, stride
        for branch, convs in branches.items():
            names = (
                [branch] if len(convs) == 1 and branch in ("branch1x1", "branch_pool", "branch3x3") else []
            )
            names = names or [f"{branch}_{s}" for s in self._suffixes(branch, len(convs))]
            for name, conv in zip(names, convs):
                setattr(self, name, conv)
            self.chains[branch] = names

    def _suffixes(self, branch: str, n: int) -> list[str]:
        if branch in self.split:  # InceptionE: 1, 2 (dbl) then the split pair
            return [str(i + 1) for i in range(n - 2)] + list(self.split[branch])
        return [str(i + 1) for i in range(n)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for branch, names in self.chains.items():
            if branch == "branch_pool":
                outs.append(getattr(self, names[0])(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)))
                continue
            convs = [getattr(self, n) for n in names]
            tail = convs[-2:] if branch in self.split else []
            y = x
            for conv in convs[: len(convs) - len(tail)]:
                y = conv(y)
            outs.append(torch.cat([c(y) for c in tail], 1) if tail else y)
        if self.stride == 2:
            outs.append(F.max_pool2d(x, kernel_size=3, stride=2))
        return torch.cat(outs, 1)


def inception_a(cin: int, pool_features: int) -> _Block:
    """35x35 block: 1x1 64 | 1x1 48 -> 5x5 64 | 1x1 64 -> 3x3 96 -> 3x3 96 | avgpool -> 1x1."""
    return _Block({"branch1x1": _convs(cin, (64, 1, 1, 0)),
                   "branch5x5": _convs(cin, (48, 1, 1, 0), (64, 5, 1, 2)),
                   "branch3x3dbl": _convs(cin, (64, 1, 1, 0), (96, 3, 1, 1), (96, 3, 1, 1)),
                   "branch_pool": _convs(cin, (pool_features, 1, 1, 0))}, {}, 1)  # fmt: skip


def inception_b(cin: int) -> _Block:
    """35 -> 17 reduction: 3x3/2 384 | 1x1 64 -> 3x3 96 -> 3x3/2 96 | maxpool 3x3/2."""
    return _Block({"branch3x3": _convs(cin, (384, 3, 2, 0)),
                   "branch3x3dbl": _convs(cin, (64, 1, 1, 0), (96, 3, 1, 1), (96, 3, 2, 0))},
                  {}, 2)  # fmt: skip


def inception_c(cin: int, c7: int) -> _Block:
    """17x17 block with factorised 7x7 convs (1x7 and 7x1)."""
    return _Block({"branch1x1": _convs(cin, (192, 1, 1, 0)),
                   "branch7x7": _convs(cin, (c7, 1, 1, 0), (c7, (1, 7), 1, (0, 3)),
                                       (192, (7, 1), 1, (3, 0))),
                   "branch7x7dbl": _convs(cin, (c7, 1, 1, 0), (c7, (7, 1), 1, (3, 0)),
                                          (c7, (1, 7), 1, (0, 3)), (c7, (7, 1), 1, (3, 0)),
                                          (192, (1, 7), 1, (0, 3))),
                   "branch_pool": _convs(cin, (192, 1, 1, 0))}, {}, 1)  # fmt: skip


def inception_d(cin: int) -> _Block:
    """17 -> 8 reduction: 1x1 192 -> 3x3/2 320 | 1x1 -> 1x7 -> 7x1 -> 3x3/2 192 | maxpool 3x3/2."""
    return _Block({"branch3x3": _convs(cin, (192, 1, 1, 0), (320, 3, 2, 0)),
                   "branch7x7x3": _convs(cin, (192, 1, 1, 0), (192, (1, 7), 1, (0, 3)),
                                         (192, (7, 1), 1, (3, 0)), (192, 3, 2, 0))}, {}, 2)  # fmt: skip


def inception_e(cin: int) -> _Block:
    """8x8 block with the expanded filter bank (parallel 1x3 and 3x1 at the end of two branches)."""
    pair = ((384, (1, 3), 1, (0, 1)), (384, (3, 1), 1, (1, 0)))
    return _Block({"branch1x1": _convs(cin, (320, 1, 1, 0)),
                   "branch3x3": [*_convs(cin, (384, 1, 1, 0)), *(_convs(384, p)[0] for p in pair)],
                   "branch3x3dbl": [*_convs(cin, (448, 1, 1, 0), (384, 3, 1, 1)),
                                    *(_convs(384, p)[0] for p in pair)],
                   "branch_pool": _convs(cin, (192, 1, 1, 0))},
                  {"branch3x3": ("2a", "2b"), "branch3x3dbl": ("3a", "3b")}, 1)  # fmt: skip


class InceptionV3Aux(nn.Module):
    """Inception v3's auxiliary classifier on Mixed_6e: avgpool 5/3, 1x1 128, 5x5 768, fc."""

    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.conv0 = BasicConv2d(in_channels, 128, kernel_size=1)
        self.conv1 = BasicConv2d(128, 768, kernel_size=5)
        self.conv1.stddev = 0.01
        self.fc = nn.Linear(768, num_classes)
        self.fc.stddev = 0.001

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(self.conv0(F.avg_pool2d(x, kernel_size=5, stride=3)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1))


class InceptionV3(InceptionNet):
    """Inception v3 (Szegedy et al. 2015) as torchvision's Inception3."""

    aux_heads = ("AuxLogits",)
    order = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
             "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
             "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c")  # fmt: skip

    def __init__(self, num_classes: int = 1000, in_channels: int = 3):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(in_channels, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Mixed_5b, self.Mixed_5c = inception_a(192, 32), inception_a(256, 64)
        self.Mixed_5d = inception_a(288, 64)
        self.Mixed_6a = inception_b(288)
        self.Mixed_6b, self.Mixed_6c = inception_c(768, 128), inception_c(768, 160)
        self.Mixed_6d, self.Mixed_6e = inception_c(768, 160), inception_c(768, 192)
        self.AuxLogits = InceptionV3Aux(768, num_classes)
        self.Mixed_7a = inception_d(768)
        self.Mixed_7b, self.Mixed_7c = inception_e(1280), inception_e(2048)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(2048, num_classes)
        _init(self, std=0.1, bound=2.0)  # torchvision: trunc_normal_(std=stddev or 0.1, a=-2, b=2)


def googlenet(num_classes: int = 1000, in_channels: int = 3) -> GoogLeNet:
    """GoogLeNet with torchvision's names (aux heads included; see the module docstring)."""
    return GoogLeNet(num_classes, in_channels)


def inception_v3(num_classes: int = 1000, in_channels: int = 3) -> InceptionV3:
    """Inception v3 with torchvision's names (AuxLogits included; see the module docstring)."""
    return InceptionV3(num_classes, in_channels)
