"""Backbones with torchvision's names: its weight files load, mismatches are one line; rlkit's cached one."""

from __future__ import annotations

import math

import pytest
import torch

from rlkit.agents import backbone_sources
from rlkit.agents.backbone_sources import pretrained_small_cnn, read_weights_file
from rlkit.agents.backbones import build_backbone, load_weights
from rlkit.core.errors import UserError

FIRES = {3: (64, 16, 64, 64), 4: (128, 16, 64, 64), 6: (128, 32, 128, 128), 7: (256, 32, 128, 128),
         9: (256, 48, 192, 192), 10: (384, 48, 192, 192), 11: (384, 64, 256, 256),
         12: (512, 64, 256, 256)}  # fmt: skip


def squeezenet1_1_shapes() -> dict[str, tuple[int, ...]]:
    """torchvision's squeezenet1_1() state_dict: names and shapes, written out from its source."""
    shapes = {"features.0.weight": (64, 3, 3, 3), "features.0.bias": (64,)}
    for i, (inp, s, e1, e3) in FIRES.items():
        for layer, shape in (
            ("squeeze", (s, inp, 1, 1)),
            ("expand1x1", (e1, s, 1, 1)),
            ("expand3x3", (e3, s, 3, 3)),
        ):
            shapes[f"features.{i}.{layer}.weight"], shapes[f"features.{i}.{layer}.bias"] = shape, shape[:1]
    shapes["classifier.1.weight"], shapes["classifier.1.bias"] = (1000, 512, 1, 1), (1000,)
    return shapes


def vgg16_shapes() -> dict[str, tuple[int, ...]]:
    """torchvision's vgg16() state_dict: names and shapes."""
    shapes, channels = {}, 3
    convs = {
        0: 64,
        2: 64,
        5: 128,
        7: 128,
        10: 256,
        12: 256,
        14: 256,
        17: 512,
        19: 512,
        21: 512,
        24: 512,
        26: 512,
        28: 512,
    }
    for i, out in convs.items():
        shapes[f"features.{i}.weight"], shapes[f"features.{i}.bias"] = (out, channels, 3, 3), (out,)
        channels = out
    for i, (out, inp) in {0: (4096, 25088), 3: (4096, 4096), 6: (1000, 4096)}.items():
        shapes[f"classifier.{i}.weight"], shapes[f"classifier.{i}.bias"] = (out, inp), (out,)
    return shapes


def test_architectures_have_torchvisions_names_and_shapes() -> None:
    for name, expected in (("squeezenet1_1", squeezenet1_1_shapes()), ("vgg16", vgg16_shapes())):
        with torch.device("meta"):  # VGG-16's 138M parameters, without allocating them
            net = build_backbone(name, 1000).net
        assert {k: tuple(v.shape) for k, v in net.state_dict().items()} == expected, name
    assert sum(math.prod(s) for s in squeezenet1_1_shapes().values()) == 1_235_496  # torchvision's count


def test_a_torchvision_weight_file_loads_and_predicts(tmp_path) -> None:
    gen = torch.Generator().manual_seed(0)
    state = {k: torch.randn(s, generator=gen) * 0.05 for k, s in squeezenet1_1_shapes().items()}
    torch.save(state, tmp_path / "squeezenet1_1.pth")
    net = build_backbone("squeezenet1_1", 1000)
    loaded = load_weights(net.net, read_weights_file(str(tmp_path / "squeezenet1_1.pth")), exclude=())
    assert len(loaded) == len(state)
    for k, v in net.net.state_dict().items():
        torch.testing.assert_close(v, state[k])
    images = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    assert net.eval()(images).shape == (2, 1000)
    five = build_backbone("squeezenet1_1", 5)  # new classes: the 1000-class head is excluded (fresh)
    load_weights(five.net, state, exclude=[five.head])
    torch.testing.assert_close(five.net.features[3].squeeze.weight, state["features.3.squeeze.weight"])


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda s: s.__setitem__("features.0.kernel", s.pop("features.0.weight")),
            "has key 'features.0.kernel'",
        ),
        (lambda s: s.pop("features.12.expand3x3.bias"), "lacks key 'features.12.expand3x3.bias'"),
        (lambda s: s.__setitem__("classifier.1.bias", torch.zeros(7)), "agent.exclude=[classifier.1]"),
    ],
)
def test_a_mismatched_file_is_one_clear_line(change, message) -> None:
    state = {k: torch.zeros(s) for k, s in squeezenet1_1_shapes().items()}
    change(state)
    with pytest.raises(UserError) as err:
        load_weights(build_backbone("squeezenet1_1", 1000).net, state, source="f.pth")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_unknown_backbone_names_the_choices() -> None:
    with pytest.raises(UserError, match="valid backbones are small_cnn, squeezenet1_1, vgg16"):
        build_backbone("resnet50", 10)


def test_small_cnn_pretraining_is_cached_and_reproducible(tmp_path, monkeypatch) -> None:
    torch.set_num_threads(1)  # as num_threads=1 would (tiny ops on shared cores); conftest restores it
    monkeypatch.setitem(backbone_sources.PRETRAIN_RECIPE, "steps", 10)
    monkeypatch.setenv("RLKIT_CACHE", str(tmp_path / "a"))
    first, path = pretrained_small_cnn()
    assert path == tmp_path / "a" / "backbones" / "small_cnn-digits0to4-v1.pt"
    stamp = path.stat().st_mtime_ns
    again, _ = pretrained_small_cnn()
    assert path.stat().st_mtime_ns == stamp  # read from the cache, not trained again
    monkeypatch.setenv("RLKIT_CACHE", str(tmp_path / "b"))
    rebuilt, _ = pretrained_small_cnn()  # an empty cache trains it again: the same weights
    for k in first:
        assert torch.equal(first[k], again[k]) and torch.equal(first[k], rebuilt[k])
    path.write_bytes(b"damaged")
    monkeypatch.setenv("RLKIT_CACHE", str(tmp_path / "a"))
    assert torch.equal(pretrained_small_cnn()[0]["features.0.weight"], first["features.0.weight"])
