"""env=image_folder on folders the tests write, and `rlkit play run= input=<image>` printing top classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from PIL import Image

from rlkit.agents import backbone_sources
from rlkit.core.errors import UserError
from rlkit.envs.image_folder import ImageFolderEnv, load_image
from rlkit.frontend.cli import main

from ..conftest import one_line_error

COLOURS = {"blue": (30, 30, 200), "green": (30, 200, 30), "red": (200, 30, 30)}


def write_folder(root: Path, per_class: int = 6, size: tuple[int, int] = (24, 20)) -> Path:
    """One sub-folder per colour, each with noisy images of that colour (PNG and JPEG)."""
    rng = np.random.default_rng(0)
    for name, colour in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = np.clip(np.array(colour) + rng.integers(-30, 30, (size[1], size[0], 3)), 0, 255)
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"{i}.{'png' if i % 2 else 'jpg'}")
    return root


def test_a_folder_of_classes_is_split_and_cropped(tmp_path) -> None:
    root = write_folder(tmp_path / "pics")
    train = ImageFolderEnv(str(root), image_size=16, batch_size=4)
    test = ImageFolderEnv(str(root), split="test", image_size=16, batch_size=4)
    assert train.class_names == ["blue", "green", "red"]
    assert len(train.inputs) == 15 and len(test.inputs) == 3  # 20% of 6 per class is 1 image
    assert not set(map(str, train.files)) & set(map(str, test.files))
    assert train.inputs.shape[1:] == (3, 18, 18)  # 16 / 0.875, the central crop's source
    obs, _ = test.reset(seed=0)
    assert obs.shape == (4, 3, 16, 16) and obs.dtype == np.uint8
    np.testing.assert_array_equal(obs[0], test.inputs[0][:, 1:17, 1:17])  # the central crop
    assert obs[0, 2].mean() > 150 and obs[0, 0].mean() < 80  # test file 0 is blue
    check_env(ImageFolderEnv(str(root), image_size=8, batch_size=4), skip_render_check=True)


def test_the_books_train_validation_layout(tmp_path) -> None:
    write_folder(tmp_path / "pic" / "train", per_class=2)
    write_folder(tmp_path / "pic" / "validation", per_class=1)
    assert len(ImageFolderEnv(str(tmp_path / "pic"), split="train").inputs) == 6
    assert len(ImageFolderEnv(str(tmp_path / "pic"), split="test").inputs) == 3


def test_load_image_resizes_the_shorter_side_and_crops(tmp_path) -> None:
    pixels = np.zeros((10, 30, 3), np.uint8)
    pixels[:, 10:20] = 255  # a white middle third
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    img = load_image(tmp_path / "wide.png", 10)
    assert img.shape == (3, 10, 10) and img.min() == 255  # the centre square is the white third


def test_bad_folders_are_one_line(tmp_path) -> None:
    with pytest.raises(UserError, match="no such folder"):
        ImageFolderEnv(str(tmp_path / "nope"))
    (tmp_path / "one" / "cats").mkdir(parents=True)
    with pytest.raises(UserError, match="found 1 class folder"):
        ImageFolderEnv(str(tmp_path / "one"))
    (tmp_path / "one" / "dogs").mkdir()
    with pytest.raises(UserError, match="holds no images"):
        ImageFolderEnv(str(tmp_path / "one"))
    root = write_folder(tmp_path / "pics")
    (root / "red" / "9.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(UserError, match=r"9.jpg: cannot be read as an image"):
        ImageFolderEnv(str(root))
    with pytest.raises(UserError, match="env.kwargs.root="):
        ImageFolderEnv()


def test_train_then_play_prints_the_top_classes(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("RLKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(backbone_sources.PRETRAIN_RECIPE, "steps", 10)
    root, run = write_folder(tmp_path / "pics"), tmp_path / "run"
    args = [
        "env=image_folder",
        f"env.kwargs.root={root}",
        "env.kwargs.image_size=16",
        "env.eval_kwargs.image_size=16",
    ]
    train = ["train", "agent=finetune", "agent.train_layers=all", *args, "total_steps=30", "num_threads=1"]
    assert main([*train, "ui=none", "agent.optimizer=adam", f"hydra.run.dir={run}"]) == 0
    capsys.readouterr()
    assert main(["play", f"run={run}", f"input={root / 'red' / '1.png'}"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("red (score = ")  # 3 classes: the top 5 is all three
    scores = [float(line.split("= ")[1].rstrip(")")) for line in lines]
    assert scores == sorted(scores, reverse=True)
    assert main(["play", f"run={run}", f"input={root / 'blue'}", "top=1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("0.jpg:") and out[1].startswith("blue (score") and len(out) == 12
    assert "does not exist" in one_line_error(capsys, ["play", f"run={run}", "input=nope.png"])
    assert "top=0 is invalid" in one_line_error(capsys, ["play", f"run={run}", f"input={root}", "top=0"])


def test_play_show_writes_what_the_network_sees(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("RLKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(backbone_sources.PRETRAIN_RECIPE, "steps", 10)
    root, run = write_folder(tmp_path / "pics"), tmp_path / "run"
    args = ["env=image_folder", f"env.kwargs.root={root}", "env.kwargs.image_size=16"]
    train = ["train", "agent=finetune", "agent.train_layers=all", "agent.optimizer=adam", *args]
    assert main([*train, "total_steps=30", "num_threads=1", "ui=none", f"hydra.run.dir={run}"]) == 0
    capsys.readouterr()
    show = ["play", f"run={run}", "show=saliency,fooling,classes", f"input={root / 'red'}", "target=green"]
    assert main(show) == 0
    out = capsys.readouterr().out
    assert out.count("(target green)") == 6 and out.count("class ") == 3
    for kind, height in (("saliency", 2 * 108), ("fooling", 6 * 108), ("classes", 108)):
        picture = np.asarray(Image.open(run / "videos" / f"{kind}.png"))
        assert picture.shape[0] == height, kind  # 16 px x6 zoom + 2 px border per row of images
    assert any(".rlkit" in p.name for p in run.glob("events.out.tfevents.*"))
    red, blue = root / "red" / "1.png", root / "blue" / "1.png"
    assert main(["play", f"run={run}", "show=dream,style", f"input={red}", f"style={blue}", "size=20"]) == 0
    out = capsys.readouterr().out
    assert "deepdream: score (mean)" in out and "in 200 iterations" in out
    assert np.asarray(Image.open(run / "videos" / "style.png")).shape == (22, 66, 3)  # 3 images + borders
    assert np.asarray(Image.open(run / "videos" / "dream.png")).shape == (22, 88, 3)  # the 4 renders
    assert "needs input=" in one_line_error(capsys, ["play", f"run={run}", "show=saliency"])
    assert "layer=99 is invalid" in one_line_error(capsys, ["play", f"run={run}", "show=dream", "layer=99"])
    assert "valid values are saliency" in one_line_error(capsys, ["play", f"run={run}", "show=sketch"])
    assert "valid classes are blue" in one_line_error(
        capsys, ["play", f"run={run}", "show=fooling", f"input={root / 'red'}", "target=pink"]
    )
