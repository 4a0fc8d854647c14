"""googlenet and inception_v3: torchvision's keys and shapes, forward, loading its files, fine-tuning."""

from __future__ import annotations

import json
import math

import pytest
import torch

from rlkit.agents.backbone_sources import read_weights_file
from rlkit.agents.backbones import ARCHITECTURES, Backbone, build_backbone, load_weights
from rlkit.agents.deepdream import channel_objective
from rlkit.core.checkpoint import load_checkpoint
from rlkit.core.errors import UserError
from rlkit.frontend.cli import main

from ..conftest import one_line_error
from ..envs.test_image_folder import write_folder


def basic_conv(shapes: dict, name: str, cout: int, cin: int, kh: int, kw: int) -> None:
    """torchvision's BasicConv2d: a conv without bias and a BatchNorm (with its buffers)."""
    shapes[f"{name}.conv.weight"] = (cout, cin, kh, kw)
    for key in ("weight", "bias", "running_mean", "running_var"):
        shapes[f"{name}.bn.{key}"] = (cout,)
    shapes[f"{name}.bn.num_batches_tracked"] = ()


def linear(shapes: dict, name: str, out: int, inp: int) -> None:
    shapes[f"{name}.weight"], shapes[f"{name}.bias"] = (out, inp), (out,)


# torchvision googlenet.py: Inception(in, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
GOOGLENET_BLOCKS = {"3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
                    "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
                    "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
                    "4e": (528, 256, 160, 320, 32, 128, 128), "5a": (832, 256, 160, 320, 32, 128, 128),
                    "5b": (832, 384, 192, 384, 48, 128, 128)}  # fmt: skip


def googlenet_shapes(classes: int = 1000) -> dict[str, tuple[int, ...]]:
    """torchvision's googlenet() (aux_logits=True) state_dict, written out from its source."""
    s: dict[str, tuple[int, ...]] = {}
    basic_conv(s, "conv1", 64, 3, 7, 7)
    basic_conv(s, "conv2", 64, 64, 1, 1)
    basic_conv(s, "conv3", 192, 64, 3, 3)
    for block, (cin, c1, c3r, c3, c5r, c5, pool) in GOOGLENET_BLOCKS.items():
        p = f"inception{block}"
        basic_conv(s, f"{p}.branch1", c1, cin, 1, 1)
        basic_conv(s, f"{p}.branch2.0", c3r, cin, 1, 1)
        basic_conv(s, f"{p}.branch2.1", c3, c3r, 3, 3)
        basic_conv(s, f"{p}.branch3.0", c5r, cin, 1, 1)
        basic_conv(s, f"{p}.branch3.1", c5, c5r, 3, 3)  # 3x3, torchvision's known bug (vision#906)
        basic_conv(s, f"{p}.branch4.1", pool, cin, 1, 1)
    for aux, cin in (("aux1", 512), ("aux2", 528)):
        basic_conv(s, f"{aux}.conv", 128, cin, 1, 1)
        linear(s, f"{aux}.fc1", 1024, 2048)
        linear(s, f"{aux}.fc2", classes, 1024)
    linear(s, "fc", classes, 1024)
    return s


def inception_v3_shapes(classes: int = 1000) -> dict[str, tuple[int, ...]]:
    """torchvision's inception_v3() (aux_logits=True) state_dict: (name, out, in, kh, kw) per BasicConv2d."""
    convs = [("Conv2d_1a_3x3", 32, 3, 3, 3), ("Conv2d_2a_3x3", 32, 32, 3, 3), ("Conv2d_2b_3x3", 64, 32, 3, 3),
             ("Conv2d_3b_1x1", 80, 64, 1, 1), ("Conv2d_4a_3x3", 192, 80, 3, 3)]  # fmt: skip
    for m, cin, pf in (("Mixed_5b", 192, 32), ("Mixed_5c", 256, 64), ("Mixed_5d", 288, 64)):  # InceptionA
        convs += [(f"{m}.branch1x1", 64, cin, 1, 1), (f"{m}.branch5x5_1", 48, cin, 1, 1),
                  (f"{m}.branch5x5_2", 64, 48, 5, 5), (f"{m}.branch3x3dbl_1", 64, cin, 1, 1),
                  (f"{m}.branch3x3dbl_2", 96, 64, 3, 3), (f"{m}.branch3x3dbl_3", 96, 96, 3, 3),
                  (f"{m}.branch_pool", pf, cin, 1, 1)]  # fmt: skip
    convs += [("Mixed_6a.branch3x3", 384, 288, 3, 3), ("Mixed_6a.branch3x3dbl_1", 64, 288, 1, 1),
              ("Mixed_6a.branch3x3dbl_2", 96, 64, 3, 3),
              ("Mixed_6a.branch3x3dbl_3", 96, 96, 3, 3)]  # fmt: skip
    for m, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):  # InceptionC
        convs += [(f"{m}.branch1x1", 192, 768, 1, 1), (f"{m}.branch7x7_1", c7, 768, 1, 1),
                  (f"{m}.branch7x7_2", c7, c7, 1, 7), (f"{m}.branch7x7_3", 192, c7, 7, 1),
                  (f"{m}.branch7x7dbl_1", c7, 768, 1, 1), (f"{m}.branch7x7dbl_2", c7, c7, 7, 1),
                  (f"{m}.branch7x7dbl_3", c7, c7, 1, 7), (f"{m}.branch7x7dbl_4", c7, c7, 7, 1),
                  (f"{m}.branch7x7dbl_5", 192, c7, 1, 7), (f"{m}.branch_pool", 192, 768, 1, 1)]  # fmt: skip
    convs += [("AuxLogits.conv0", 128, 768, 1, 1), ("AuxLogits.conv1", 768, 128, 5, 5),
              ("Mixed_7a.branch3x3_1", 192, 768, 1, 1), ("Mixed_7a.branch3x3_2", 320, 192, 3, 3),
              ("Mixed_7a.branch7x7x3_1", 192, 768, 1, 1), ("Mixed_7a.branch7x7x3_2", 192, 192, 1, 7),
              ("Mixed_7a.branch7x7x3_3", 192, 192, 7, 1),
              ("Mixed_7a.branch7x7x3_4", 192, 192, 3, 3)]  # fmt: skip
    for m, cin in (("Mixed_7b", 1280), ("Mixed_7c", 2048)):  # InceptionE
        convs += [(f"{m}.branch1x1", 320, cin, 1, 1), (f"{m}.branch3x3_1", 384, cin, 1, 1),
                  (f"{m}.branch3x3_2a", 384, 384, 1, 3), (f"{m}.branch3x3_2b", 384, 384, 3, 1),
                  (f"{m}.branch3x3dbl_1", 448, cin, 1, 1), (f"{m}.branch3x3dbl_2", 384, 448, 3, 3),
                  (f"{m}.branch3x3dbl_3a", 384, 384, 1, 3), (f"{m}.branch3x3dbl_3b", 384, 384, 3, 1),
                  (f"{m}.branch_pool", 192, cin, 1, 1)]  # fmt: skip
    s: dict[str, tuple[int, ...]] = {}
    for conv in convs:
        basic_conv(s, *conv)
    linear(s, "AuxLogits.fc", classes, 768)
    linear(s, "fc", classes, 2048)
    return s


SHAPES = {"googlenet": googlenet_shapes, "inception_v3": inception_v3_shapes}


@pytest.mark.parametrize(
    "name, keys, params, without_aux, checked",
    [
        ("googlenet", 364, 13_004_888, 6_624_904, {"conv1.conv.weight": (64, 3, 7, 7),
         "inception4e.branch3.1.conv.weight": (128, 32, 3, 3), "aux2.conv.conv.weight": (128, 528, 1, 1),
         "aux1.fc1.weight": (1024, 2048), "inception5b.branch4.1.bn.running_var": (128,),
         "fc.weight": (1000, 1024)}),
        ("inception_v3", 580, 27_161_264, 23_834_568, {"Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
         "Mixed_6e.branch7x7dbl_5.conv.weight": (192, 192, 1, 7),
         "AuxLogits.conv1.conv.weight": (768, 128, 5, 5),
         "Mixed_7c.branch3x3dbl_3b.conv.weight": (384, 384, 3, 1), "Mixed_5b.branch_pool.bn.bias": (32,),
         "AuxLogits.fc.weight": (1000, 768), "fc.weight": (1000, 2048)}),
    ],
)  # fmt: skip
def test_torchvisions_keys_and_shapes(name, keys, params, without_aux, checked) -> None:
    with torch.device("meta"):
        net = build_backbone(name, 1000).net
    got = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert got == SHAPES[name]() and len(got) == keys
    assert all(got[k] == shape for k, shape in checked.items())
    # torchvision's documented num_params: googlenet 6,624,904 (its pretrained net drops aux1/aux2),
    # inception_v3 27,161,264 (AuxLogits kept)
    count = sum(math.prod(s) for k, s in got.items() if "running" not in k and "num_batches" not in k)
    aux = sum(p.numel() for k, p in net.named_parameters() if k.split(".")[0] in net.aux_heads)
    assert (count, count - aux) == (params, without_aux)


@pytest.mark.parametrize("name, size", [("googlenet", 32), ("inception_v3", 75)])
def test_forward_features_and_a_dream_objective(name, size) -> None:
    torch.manual_seed(0)
    model = build_backbone(name, 5).eval()
    images = torch.randint(0, 256, (2, 3, size, size), dtype=torch.uint8)
    logits = model(images)
    assert logits.shape == (2, 5)
    x = model.preprocess(images)
    for block in model.net.features:  # DeepDream/style transfer walk `features`, then the classifier
        x = block(x)
    head = model.net.fc(torch.flatten(model.net.avgpool(x), 1))
    torch.testing.assert_close(head, logits)
    assert model.train()(images).shape == (2, 5)  # training mode: the main logits only, no aux tuple
    img = torch.rand(1, 3, size, size, requires_grad=True) * 255
    (grad,) = torch.autograd.grad(channel_objective(model.eval(), len(model.net.features) // 2, 0)(img), img)
    assert grad.shape == img.shape and grad.abs().sum() > 0


def test_preprocessing_is_torchvisions_transform_input() -> None:
    """torchvision feeds (x - mean) / std through transform_input; rlkit's (x - 0.5) / 0.5 is the same."""
    x = torch.rand(2, 3, 5, 5)
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    normalised = (x - mean[:, None, None]) / std[:, None, None]
    transformed = torch.cat(
        [normalised[:, c : c + 1] * (std[c] / 0.5) + (mean[c] - 0.5) / 0.5 for c in range(3)], 1
    )
    for name in SHAPES:  # the registered mean/std in front of any net (no need to build the real one)
        backbone = Backbone(name, torch.nn.Identity(), "fc", *ARCHITECTURES[name][2:])
        torch.testing.assert_close(backbone.preprocess(x), transformed)


def generated_file(path, name: str) -> dict[str, torch.Tensor]:
    """A file in torchvision's layout (random values; counters as integers), saved to `path`."""
    gen = torch.Generator().manual_seed(0)
    state = {k: torch.rand(s, generator=gen) + 0.5 for k, s in SHAPES[name]().items()}
    state = {k: v.round().long() if k.endswith("num_batches_tracked") else v for k, v in state.items()}
    torch.save(state, path)
    return state


def test_googlenet_files_with_or_without_aux_heads_load(tmp_path) -> None:
    full = generated_file(tmp_path / "full.pth", "googlenet")
    net = build_backbone("googlenet", 1000)
    assert len(load_weights(net.net, read_weights_file(str(tmp_path / "full.pth")))) == 364
    assert all(torch.equal(v, full[k]) for k, v in net.net.state_dict().items())
    no_aux = {k: v for k, v in full.items() if not k.startswith("aux")}  # torchvision's aux_logits=False
    fresh = build_backbone("googlenet", 1000)
    aux_before = fresh.net.aux1.fc2.weight.clone()
    loaded = load_weights(fresh.net, no_aux, source="no_aux.pth")
    assert len(loaded) == 364 - 2 * (6 + 4) and torch.equal(fresh.net.aux1.fc2.weight, aux_before)
    old = {k: v for k, v in full.items() if not k.endswith("num_batches_tracked")}  # pre-0.4.1 file
    with torch.device("meta"):
        assert len(load_weights(build_backbone("googlenet", 1000).net, old)) == 364 - 59
    five = build_backbone("googlenet", 5)  # new classes: fc, aux1, aux2 keep their fresh initialisation
    load_weights(five.net, full, exclude=[five.head, *five.aux_heads])
    assert torch.equal(five.net.inception5b.branch2[1].conv.weight, full["inception5b.branch2.1.conv.weight"])


@pytest.mark.parametrize(
    "name, key",
    [
        ("googlenet", "inception5b.branch4.1.bn.running_var"),
        ("googlenet", "aux2.fc1.bias"),  # a partial aux head is an error, not an absent one
        ("inception_v3", "Mixed_7c.branch3x3dbl_3a.conv.weight"),
    ],
)
def test_a_file_missing_one_key_fails_in_one_line(tmp_path, name, key) -> None:
    with torch.device("meta"):
        state = {k: torch.zeros(s) for k, s in SHAPES[name]().items() if k != key}
        with pytest.raises(UserError) as err:
            load_weights(build_backbone(name, 1000).net, state, source="f.pth")
    assert f"f.pth lacks key '{key}'" in str(err.value) and "\n" not in str(err.value)


def test_finetune_googlenet_from_a_torchvision_file_on_an_image_folder(tmp_path, capsys) -> None:
    root, run = write_folder(tmp_path / "pics"), tmp_path / "run"
    full = generated_file(tmp_path / "googlenet.pth", "googlenet")
    args = [
        "train", "agent=finetune", "agent.backbone=googlenet",
        f"agent.backbone_weights={tmp_path / 'googlenet.pth'}",
        "env=image_folder", f"env.kwargs.root={root}", "env.kwargs.image_size=32", "env.kwargs.batch_size=6",
        "env.eval_kwargs.image_size=32", "total_steps=3", "num_threads=1", "ui=none", f"hydra.run.dir={run}",
    ]  # fmt: skip
    assert main(args) == 0
    net = load_checkpoint(run / "checkpoints" / "latest.pt")["agent"]["model"]
    for k in ("net.inception4c.branch2.1.conv.weight", "net.conv1.bn.running_var"):
        assert k in net and net[k].shape == full[k[4:]].shape
    assert torch.equal(
        net["net.inception4c.branch2.1.conv.weight"], full["inception4c.branch2.1.conv.weight"]
    )
    assert net["net.fc.weight"].shape == (3, 1024) and net["net.aux1.fc2.weight"].shape == (3, 1024)
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert lines and any(k.startswith("eval/") for line in lines for k in line)
    capsys.readouterr()
    assert main(["play", f"run={run}", f"input={root / 'red' / '1.png'}"]) == 0  # the top classes
    assert len(capsys.readouterr().out.splitlines()) == 3
    dream = ["play", f"run={run}", "show=dream", "size=32"]  # 4 octaves: 10x10, under googlenet's 15x15
    assert "size=32 is too small for googlenet" in one_line_error(capsys, dream)


@pytest.mark.parametrize("name, smallest", [("googlenet", 15), ("inception_v3", 75)])
def test_the_smallest_inputs_are_torchvisions_min_size(name, smallest) -> None:
    with torch.device("meta"):
        net = build_backbone(name, 5).net.eval()
        assert net(torch.zeros(1, 3, smallest, smallest)).shape == (1, 5)
        with pytest.raises(RuntimeError):
            net(torch.zeros(1, 3, smallest - 1, smallest - 1))
