"""Issue 15: image-to-image translation. The book's process.py operations and folder formats, the
networks' shapes, the metrics against hand-computed values, and pix2pix / SRCNN through `rlkit train`,
resume and play."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rlkit.agents.image2image_nets import (
    SRCNN,
    PatchGAN,
    ResNetGenerator,
    UNet,
    pad_to_multiple,
    receptive_field,
)
from rlkit.agents.pix2pix import Pix2PixAgent, lab_to_rgb, rgb_to_lab
from rlkit.core.checkpoint import load_checkpoint
from rlkit.envs import image2image_data as data
from rlkit.envs.image2image import Image2ImageEnv, fill_hole_with_mean, image_scores
from rlkit.frontend.cli import main
from tests.conftest import ctrl_c_at_update, one_line_error, read_metrics

TINY = [
    "env.kwargs.crop=32",
    "env.kwargs.crops_per_epoch=8",
    "env.kwargs.batch_size=4",
    "env.eval_kwargs.eval_crops_per_image=1",
    "agent.ngf=4",
    "agent.ndf=4",
    "agent.depth=5",
    "num_threads=1",
    "ui=none",
]


def photo(h: int = 24, w: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


# ----- process.py operations and folder formats -----------------------------------------------------------
def test_combine_then_split_gives_the_inputs_back() -> None:
    a, b = photo(seed=1), photo(seed=2)
    ab = data.combine(a, b)
    assert ab.shape == (24, 64, 3)
    back_a, back_b = data.split(ab)
    assert np.array_equal(back_a, a) and np.array_equal(back_b, b)


def test_resize_grayscale_blank_blur_edges() -> None:
    image = photo(40, 60)
    assert data.resize(image, 16).shape == (16, 16, 3)
    grey = data.grayscale(image)
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 0], grey[..., 2])
    # ITU-R 601 luminance of pure red, green, blue: 0.2125, 0.7154, 0.0721 of 255
    primaries = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)
    assert data.grayscale(primaries)[0, :, 0].tolist() == [54, 182, 18]
    blanked = data.blank(np.zeros((20, 20, 3), np.uint8))
    assert data.hole_box(20, 20) == (7, 7, 6, 6)  # 30% of 20 = 6 px, centred
    assert (blanked == 255).sum() == 6 * 6 * 3 and (blanked[7:13, 7:13] == 255).all()
    blurred = data.blur(image)
    assert blurred.shape == image.shape and blurred.dtype == np.uint8
    assert np.abs(blurred.astype(int) - image).mean() > 10  # random pixels do not survive x4
    flat = np.full((16, 16, 3), 90, np.uint8)
    assert np.array_equal(data.blur(flat), flat)  # a flat image does
    lines = data.edges(np.kron(np.eye(2), np.ones((16, 16)))[..., None].repeat(3, 2).astype(np.uint8) * 255)
    assert set(np.unique(lines)) == {0, 255} and (lines == 0).any()


def test_rlkit_data_pix2pix_makes_ab_folders_the_loader_reads(tmp_path: Path, capsys) -> None:
    photos = tmp_path / "photos"
    for k in range(5):
        data.write_image(photo(30, 40, seed=k), photos / f"p{k}.png")
    steps = [
        ["operation=resize", f"input_dir={photos}", f"output_dir={tmp_path / 'r'}", "size=32"],
        ["operation=blank", f"input_dir={tmp_path / 'r'}", f"output_dir={tmp_path / 'b'}"],
        [
            "operation=combine",
            f"input_dir={tmp_path / 'r'}",
            f"b_dir={tmp_path / 'b'}",
            f"output_dir={tmp_path / 'c'}",
        ],
        [
            "operation=trainval",
            f"input_dir={tmp_path / 'c'}",
            f"output_dir={tmp_path / 'ab'}",
            "train_frac=0.6",
        ],
    ]
    for args in steps:
        assert main(["data", "pix2pix", *args]) == 0
    assert "Wrote 5 images" in capsys.readouterr().out
    train, val = data.load_ab_folder(tmp_path / "ab", "train"), data.load_ab_folder(tmp_path / "ab", "val")
    assert len(train) == 3 and len(val) == 2
    for a, b in train + val:  # A: the resized photo, B: the same with the hole
        assert a.shape == b.shape == (32, 32, 3) and np.array_equal(data.blank(a), b)
    assert (
        main(
            [
                "data",
                "pix2pix",
                "operation=split",
                f"input_dir={tmp_path / 'c'}",
                f"output_dir={tmp_path / 's'}",
            ]
        )
        == 0
    )
    assert np.array_equal(
        data.read_image(tmp_path / "s" / "B" / "p0.png"), data.read_image(tmp_path / "b" / "p0.png")
    )
    err = one_line_error(capsys, ["data", "pix2pix", "operation=sharpen", "input_dir=x", "output_dir=y"])
    assert "resize, grayscale, blank, edges, blur, combine, split, trainval" in err
    assert "holds no images" in one_line_error(
        capsys, ["data", "pix2pix", "operation=blur", f"input_dir={tmp_path}", "output_dir=y"]
    )


def test_cyclegan_folders_load_both_domains(tmp_path: Path) -> None:
    for domain, n in (("A", 2), ("B", 3)):
        for k in range(n):
            data.write_image(photo(seed=k), tmp_path / f"train{domain}" / f"{k}.jpg")
    a, b = data.load_unpaired_folder(tmp_path, "train")
    assert len(a) == 2 and len(b) == 3 and a[0].shape == (24, 32, 3)


def test_crops_are_the_same_window_in_a_and_b_and_fixed_crops_repeat() -> None:
    b = photo(40, 50)
    a = 255 - b  # any pixelwise relation survives cropping and flipping only if A and B share the window
    xa, xb = data.random_crop_pairs([(a, b)], 20, 16, np.random.default_rng(0))
    assert xa.shape == (20, 16, 16, 3) and np.array_equal(xa, 255 - xb)
    first, again = data.fixed_crop_pairs([(a, b)], 16, 3), data.fixed_crop_pairs([(a, b)], 16, 3)
    assert np.array_equal(first[1], again[1]) and np.array_equal(first[1][0], b[:16, :16])
    assert np.array_equal(first[1][2], b[-16:, -16:])


def test_the_bundled_split_keeps_test_photographs_out_of_training() -> None:
    train, test = data.bundled_images("train"), data.bundled_images("test")
    assert len(train) == 7 and len(test) == 3 and all(min(x.shape[:2]) == 256 for x in train + test)
    env = Image2ImageEnv("colorize", split="test", crop=64, batch_size=4, eval_crops_per_image=2)
    assert env.inputs.shape == (6, 3, 64, 64)
    assert all(not np.array_equal(env.targets[0], t) for t in Image2ImageEnv("colorize", crop=64).targets)


# ----- networks, losses, metrics -------------------------------------------------------------------------
def test_network_output_shapes() -> None:
    x = torch.zeros(2, 3, 64, 64)
    assert UNet(3, 3, ngf=8, depth=6)(x).shape == (2, 3, 64, 64)
    assert UNet(1, 2, ngf=8, depth=6)(x[:, :1]).shape == (2, 2, 64, 64)
    assert PatchGAN(6, ndf=8)(torch.zeros(2, 6, 64, 64)).shape == (2, 1, 6, 6)
    assert PatchGAN(3, ndf=8)(torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)  # pix2pix's 30x30 map
    assert receptive_field(3) == 70
    assert SRCNN()(x).shape == x.shape and ResNetGenerator(ngf=8, blocks=2)(x).shape == x.shape
    padded, size = pad_to_multiple(torch.zeros(1, 3, 50, 70), 32)
    assert padded.shape == (1, 3, 64, 96) and size == (50, 70)


def test_psnr_ssim_and_the_inpainting_baseline_against_hand_values() -> None:
    target = np.full((16, 16, 3), 100, np.uint8)
    psnr, ssim = image_scores(target + 10, target)  # MSE 100: 10 log10(255^2 / 100) = 28.13 dB
    assert math.isclose(psnr, 10 * math.log10(255**2 / 100), rel_tol=1e-9) and 0 < ssim <= 1
    assert image_scores(target, target) == (100.0, 1.0)
    image = np.full((20, 20, 3), 40, np.uint8)
    image[:, :10] = 80  # visible pixels: half 40, half 80 -> the hole gets 60
    filled = fill_hole_with_mean(data.blank(image))
    assert (filled[7:13, 7:13] == 60).all() and np.array_equal(filled[:7], image[:7])


def test_lab_round_trip() -> None:
    rgb = np.moveaxis(photo(8, 8), -1, 0)[None]
    back = np.rint((lab_to_rgb(rgb_to_lab(rgb)) + 1) * 127.5)
    assert np.abs(back - rgb).max() <= 1


# ----- through rlkit train, resume and play -----------------------------------------------------------------
@pytest.mark.parametrize(
    "agent, env",
    [
        ("pix2pix", "colorize"),
        ("pix2pix", "inpaint"),
        ("pix2pix", "edges2photo"),
        ("pix2pix", "super_resolution"),
        ("srcnn", "super_resolution"),
    ],
)
def test_smoke_runs_log_psnr_ssim_baselines_and_strips(tmp_path: Path, agent: str, env: str) -> None:
    run = tmp_path / "run"
    extra = ["agent.lab=true"] if env == "colorize" else []
    assert (
        main(
            [
                "train",
                f"agent={agent}",
                f"env={env}",
                *TINY,
                *extra,
                "total_episodes=2",
                f"hydra.run.dir={run}",
            ]
        )
        == 0
    )
    summary = json.loads((run / "summary.json").read_text())
    final = summary["final_eval"]
    assert summary["headline"]["key"] == "psnr" and 0 < final["psnr"] < 100 and 0 < final["ssim"] <= 1
    assert final["baseline_psnr"] > 5 and math.isclose(final["return_mean"], final["psnr"], rel_tol=1e-6)
    logged = [m for m in read_metrics(run) if "train/l1" in m]
    assert logged and all(math.isfinite(m["train/l1"]) for m in logged)
    strips = sorted((run / "samples").iterdir())
    with Image.open(strips[-1]) as im:  # 3 test crops of 32 px: input | output | target
        assert im.format == "PNG" and im.size == (3 * 34 + 2, 3 * 34 + 2)


def test_pix2pix_on_an_ab_folder_and_play_writes_images_and_index_html(tmp_path: Path, capsys) -> None:
    for split_name, n in (("train", 2), ("val", 1)):
        for k in range(n):
            b = photo(32, 48, seed=k)
            data.write_image(data.combine(data.grayscale(b), b), tmp_path / "ab" / split_name / f"{k}.png")
    run = tmp_path / "run"
    root = f"env.kwargs.root={tmp_path / 'ab'}"
    assert (
        main(
            [
                "train",
                "agent=pix2pix",
                "env=pix2pix_folder",
                root,
                *TINY,
                "total_episodes=1",
                f"hydra.run.dir={run}",
            ]
        )
        == 0
    )
    assert main(["play", f"run={run}", "render=gif"]) == 0
    html = (run / "videos" / "index.html").read_text()
    for kind in ("inputs", "outputs", "targets"):
        with Image.open(run / "videos" / "images" / f"latest-000-{kind}.png") as im:
            assert im.size == (48, 32)
        assert f"images/latest-000-{kind}.png" in html
    data.write_image(photo(20, 30), tmp_path / "mine" / "x.png")
    assert (
        main(["play", f"run={run}", f"input={tmp_path / 'mine'}", f"out={tmp_path / 'out'}", "render=gif"])
        == 0
    )
    with Image.open(tmp_path / "out" / "images" / "latest-x-outputs.png") as im:
        assert im.size == (30, 20)
    assert "images/latest-x-outputs.png" in (tmp_path / "out" / "index.html").read_text()
    capsys.readouterr()
    err = one_line_error(
        capsys, ["train", "agent=pix2pix", "env=pix2pix_folder", "ui=none", f"hydra.run.dir={tmp_path / 'x'}"]
    )
    assert "env.kwargs.root=" in err


def test_pix2pix_resume_after_ctrl_c_matches_an_uninterrupted_run(tmp_path: Path, monkeypatch) -> None:
    args = ["agent=pix2pix", "env=inpaint", *TINY, "total_steps=6", "eval.every=3", "log_every=1"]
    assert main(["train", *args, f"hydra.run.dir={tmp_path / 'ref'}"]) == 0
    run = tmp_path / "run"
    with ctrl_c_at_update(monkeypatch, Pix2PixAgent, 4):
        assert main(["train", *args, f"hydra.run.dir={run}"]) == 130
    assert main(["train", f"resume={run}"]) == 0
    assert read_metrics(run) == read_metrics(tmp_path / "ref")
    ref = load_checkpoint(tmp_path / "ref" / "checkpoints" / "latest.pt")["agent"]["generator"]
    resumed = load_checkpoint(run / "checkpoints" / "latest.pt")["agent"]["generator"]
    assert all(torch.equal(ref[k], resumed[k]) for k in ref)


def test_bad_pairs_fail_in_one_line(capsys, tmp_path: Path) -> None:
    err = one_line_error(
        capsys, ["train", "agent=pix2pix", "env=digits", "ui=none", f"hydra.run.dir={tmp_path}/a"]
    )
    assert "env=colorize" in err
    assert "agent.depth" in one_line_error(
        capsys, ["train", "agent=pix2pix", "env=colorize", "agent.depth=1"]
    )
    err = one_line_error(capsys, ["train", "agent=srcnn", "env=colorize", "agent.lab=true"])
    assert "agent.lab=true needs agent.generator=unet" in err


def test_inpainting_answers_keep_the_known_pixels() -> None:
    env = Image2ImageEnv("inpaint", split="test", crop=32, batch_size=4, eval_crops_per_image=1)
    inputs = env.inputs[:2]
    answer = env.finish(inputs, np.zeros((2, 3, 32, 32), np.float32))  # the model says mid-grey everywhere
    top, left, h, w = data.hole_box(32, 32)
    assert (answer[..., top : top + h, left : left + w] == 128).all()
    answer[..., top : top + h, left : left + w] = 255  # the white hole of the input
    assert np.array_equal(answer, inputs)
