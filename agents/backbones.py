"""Image backbones by name, with torchvision's parameter names, so torchvision's weight files load as is.

torchvision cannot be imported on our CPU machines (its PyPI wheel fails with `operator torchvision::nms does
not exist` against the CPU torch build), so the architectures are written here, module for module as
torchvision 0.2x writes them: a `state_dict()` has exactly the keys and shapes of
`torchvision.models.squeezenet1_1()` / `vgg16()` (`features.3.squeeze.weight`, `classifier.6.bias`, ...).
A user who downloaded `squeezenet1_1-b8a52dc0.pth` or `vgg16-397923af.pth` passes it to
`load_weights` (`agent.backbone_weights=PATH`); a missing, unexpected or misshapen key is one clear line.

`small_cnn` is rlkit's own: 4 convs and a pooled linear head, small enough to pre-train on CPU in seconds
(rlkit.agents.backbone_sources.pretrained_small_cnn caches one trained on digits 0-4).

Use: ``net = build_backbone("squeezenet1_1", num_classes=5)`` returns a `Backbone`: the torchvision-named
network in `.net`, the input preprocessing (uint8 -> [0, 1], grey repeated to RGB, ImageNet's mean/std) in
front of it, `.head` the name of its last layer (the one re-initialised for new classes, as the book's
`--checkpoint_exclude_scopes`), `.aux_heads` the auxiliary classifiers re-initialised with it. `googlenet`
and `inception_v3` live in rlkit.agents.backbones_inception (their `features` is a list of blocks, and their
ImageNet input is (x - 0.5) / 0.5: torchvision's transform_input, see there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from rlkit.agents.backbones_inception import googlenet, inception_v3
from rlkit.core.errors import UserError, invalid_choice

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Fire(nn.Module):
    """SqueezeNet's fire module: 1x1 squeeze, then 1x1 and 3x3 expands concatenated (torchvision's names)."""

    def __init__(self, inplanes: int, squeeze: int, expand1x1: int, expand3x3: int):
        super().__init__()
        self.squeeze = nn.Conv2d(inplanes, squeeze, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat(
            [self.expand1x1_activation(self.expand1x1(x)), self.expand3x3_activation(self.expand3x3(x))], 1
        )


class Classifier(nn.Module):
    """`features` then `classifier` (then flattened), the layout of torchvision's SqueezeNet and VGG."""

    def __init__(self, features: nn.Module, classifier: nn.Module, avgpool: nn.Module | None = None):
        super().__init__()
        self.features = features
        if avgpool is not None:
            self.avgpool = avgpool
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        if hasattr(self, "avgpool"):
            x = torch.flatten(self.avgpool(x), 1)
        return torch.flatten(self.classifier(x), 1)


def squeezenet1_1(num_classes: int = 1000, in_channels: int = 3) -> Classifier:
    """SqueezeNet 1.1 (Iandola et al. 2016, torchvision's squeezenet1_1; CS231n's visualisation net)."""
    pool = lambda: nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)  # noqa: E731
    features = nn.Sequential(
        nn.Conv2d(in_channels, 64, kernel_size=3, stride=2), nn.ReLU(inplace=True), pool(),
        Fire(64, 16, 64, 64), Fire(128, 16, 64, 64), pool(),
        Fire(128, 32, 128, 128), Fire(256, 32, 128, 128), pool(),
        Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), Fire(512, 64, 256, 256),
    )  # fmt: skip
    final = nn.Conv2d(512, num_classes, kernel_size=1)
    classifier = nn.Sequential(nn.Dropout(0.5), final, nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)))
    for m in features.modules():  # torchvision's initialisation
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    nn.init.normal_(final.weight, mean=0.0, std=0.01)
    nn.init.zeros_(final.bias)
    return Classifier(features, classifier)


VGG16_LAYERS = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


def vgg16(num_classes: int = 1000, in_channels: int = 3) -> Classifier:
    """VGG-16 (configuration D, no batch norm; torchvision's vgg16; chapter 7's loss network)."""
    layers: list[nn.Module] = []
    channels = in_channels
    for v in VGG16_LAYERS:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, int(v), kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            channels = int(v)
    classifier = nn.Sequential(
        nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(0.5),
        nn.Linear(4096, num_classes),
    )  # fmt: skip
    model = Classifier(nn.Sequential(*layers), classifier, nn.AdaptiveAvgPool2d((7, 7)))
    for m in model.modules():  # torchvision's initialisation
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
    return model


def small_cnn(num_classes: int = 10, in_channels: int = 3) -> Classifier:
    """rlkit's small CNN: conv 3x3 32, 32, pool 2, conv 3x3 64, 64, global average pool, dropout, linear.

    Any input size >= 2x2 (8x8 digits to photos): the head sees 64 pooled channels.
    """
    features = nn.Sequential(
        nn.Conv2d(in_channels, 32, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(inplace=True),
    )  # fmt: skip
    classifier = nn.Sequential(
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(64, num_classes)
    )
    return Classifier(features, classifier)


# name -> (builder, the head layer re-initialised for new classes, the input's mean and std)
ARCHITECTURES: dict[str, tuple[Callable[..., nn.Module], str, tuple, tuple]] = {
    "small_cnn": (small_cnn, "classifier.3", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "squeezenet1_1": (squeezenet1_1, "classifier.1", IMAGENET_MEAN, IMAGENET_STD),
    "vgg16": (vgg16, "classifier.6", IMAGENET_MEAN, IMAGENET_STD),
    "googlenet": (googlenet, "fc", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),  # TF-ported weights: [-1, 1] input
    "inception_v3": (inception_v3, "fc", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
}


class Backbone(nn.Module):
    """A classifier behind its input preprocessing: uint8 (N, C, H, W) -> [0, 1] (floats pass as they are),
    one grey channel repeated to three, then (x - mean) / std. Parameters live under `net.` with the
    architecture's own (torchvision's) names."""

    def __init__(self, name: str, net: nn.Module, head: str, mean: tuple, std: tuple):
        super().__init__()
        self.name, self.net, self.head = name, net, head
        self.aux_heads: tuple[str, ...] = tuple(getattr(net, "aux_heads", ()))
        self.register_buffer("mean", torch.tensor(mean).reshape(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).reshape(1, -1, 1, 1), persistent=False)

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """Network input from images (uint8 0-255 or float already in [0, 1])."""
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
        if x.shape[1] == 1 and self.mean.shape[1] == 3:
            x = x.expand(-1, 3, -1, -1)
        return (x - self.mean) / self.std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.preprocess(x))

    def head_parameters(self) -> list[str]:
        """Names (under `net.`) of the head layer's parameters."""
        return [f"net.{k}" for k, _ in self.net.named_parameters() if k.startswith(self.head + ".")]


def build_backbone(name: str, num_classes: int, in_channels: int = 3) -> Backbone:
    """The architecture `name` (one of ARCHITECTURES) for `num_classes`, freshly initialised.

    `in_channels` 1 keeps 3-channel weights (grey images are repeated to RGB); other counts build a first
    conv of that width. Raises UserError naming the valid architectures.
    """
    if name not in ARCHITECTURES:
        raise invalid_choice(f"agent.backbone={name!r}", ARCHITECTURES, "backbones")
    builder, head, mean, std = ARCHITECTURES[name]
    channels = 3 if in_channels in (1, 3) else in_channels
    if channels != 3:
        mean, std = (0.5,) * channels, (0.5,) * channels
    return Backbone(name, builder(num_classes=num_classes, in_channels=channels), head, mean, std)


def matches(key: str, prefixes: list[str] | tuple[str, ...]) -> bool:
    """Whether a parameter name lies in one of the scopes (`classifier.1` covers `classifier.1.weight`)."""
    return any(key == p or key.startswith(p.rstrip(".") + ".") for p in prefixes if p)


def load_weights(
    net: nn.Module, state: dict[str, Any], exclude: list[str] | tuple[str, ...] = (), source: str = "weights"
) -> list[str]:
    """Copies `state` (torchvision's layout: `features.0.weight`, ...) into `net`, skipping the `exclude`
    scopes (they keep their fresh initialisation, as the book's --checkpoint_exclude_scopes).

    Optional keys: a file may lack a `net.aux_heads` scope entirely (torchvision's googlenet/inception_v3
    built with aux_logits=False; the heads keep their initialisation) and BatchNorm's `num_batches_tracked`
    (files saved before PyTorch 0.4.1; the counter stays 0, as torch's own loading does).
    Returns the names loaded. Raises UserError, in one line, for the first missing, unexpected or misshapen
    key, naming `source` (the file or run) and the fix.
    """
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"{source} is not a state_dict (a dict of parameter name -> tensor)")
    own = net.state_dict()
    absent = [a for a in getattr(net, "aux_heads", ()) if not any(matches(k, [a]) for k in state)]
    optional = {
        k for k in own if matches(k, absent) or (k.endswith(".num_batches_tracked") and k not in state)
    }
    wanted = [k for k in own if not matches(k, exclude) and k not in optional]
    expected = f"{next(iter(own))}, ..." if own else "none"
    for key in state:
        if key not in own and not matches(key, exclude):
            raise UserError(
                f"{source} has key '{key}' that the {type(net).__name__} does not (its keys: {expected}); "
                "is it the right architecture's file?"
            )
    for key in wanted:
        if key not in state:
            raise UserError(f"{source} lacks key '{key}' (expected keys such as {expected})")
        if tuple(state[key].shape) != tuple(own[key].shape):
            raise UserError(
                f"{source}: '{key}' has shape {tuple(state[key].shape)}, the network "
                f"{tuple(own[key].shape)}; add its layer to agent.exclude to re-initialise it "
                f"(e.g. agent.exclude=[{key.rsplit('.', 1)[0]}])"
            )
    with torch.no_grad():
        for key in wanted:
            own[key].copy_(state[key])
    return wanted
