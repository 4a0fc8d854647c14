"""Issue 14 (GAN part, item 1): env=mnist_gan on idx files and env=image_folder_gan on a folder of images,
on tiny fixtures the tests write: scaling to [-1, 1], resizing and cropping, the feature maps behind the
Frechet distance, and the errors a user meets."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rlkit.envs.gan_images import ImageFolderGanEnv, MnistGanEnv, mnist_classifier
from rlkit.envs.gan_metrics import RandomFeatures, cache_dir, cached_classifier, frechet_distance, to_unit
from tests.conftest import one_line_error


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch) -> None:
    """Trained feature classifiers go to a temporary cache, not the user's ~/.cache/rlkit."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    mnist_classifier.cache_clear()


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(">u1").tobytes()


def write_mnist(folder: Path, n_train: int = 60, n_test: int = 20) -> Path:
    """Tiny MNIST idx files: digit k is a white bar at rows 2k..2k+7 of a black 28x28 image."""
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 10
        images = np.zeros((n, 28, 28), np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 * label : 2 * label + 8, 4:24] = 255
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(images))
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    return folder


def write_folder(folder: Path, n: int = 10) -> Path:
    """n RGB images 60 wide, 20 high: red, green and blue stripes 10, 40 and 10 wide (the centre square is
    green), some in a subfolder, and a text file that is no image."""
    (folder / "sub").mkdir(parents=True, exist_ok=True)
    stripes = np.zeros((20, 60, 3), np.uint8)
    stripes[:, :10, 0] = stripes[:, 10:50, 1] = stripes[:, 50:, 2] = 255
    for i in range(n):
        Image.fromarray(stripes).save(folder / ("sub" if i % 2 else "") / f"{i}.png")
    (folder / "notes.txt").write_text("not an image")
    return folder


def run_epoch(env, answer) -> dict:
    """One epoch answering each real minibatch with answer(real); the last step's info metrics."""
    obs, _ = env.reset(seed=0)
    done = False
    while not done:
        obs, reward, done, _, info = env.step(answer(obs))
    return {**info["metrics"], "reward": reward}


def test_mnist_gan_scales_to_unit_range_and_scores_real_digits_as_perfect(tmp_path: Path) -> None:
    data = write_mnist(tmp_path / "mnist")
    env = MnistGanEnv(split="test", batch_size=8, data_dir=str(data))
    assert env.observation_space.shape == (8, 1, 28, 28) and env.batches_per_epoch == 3  # 20 images
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and set(np.unique(obs)) == {-1.0, 1.0}  # 0 -> -1, 255 -> 1
    assert np.array_equal(obs[0, 0, 0:8, 4:24], np.ones((8, 20)))  # test image 0: digit 0's bar
    real = run_epoch(env, lambda obs: obs)  # the real images as the "generated" ones
    assert real["frechet"] < 1e-6 and real["reward"] == -real["frechet"]
    assert real["classes_covered"] == 10 and math.isclose(real["class_entropy"], math.log2(10))
    assert real["frechet_floor"] < 1.0  # train and test hold the same bars
    blank = run_epoch(env, lambda obs: -np.ones_like(obs))  # all-black images: one class, far away
    assert blank["classes_covered"] == 1 and blank["class_entropy"] == 0 and blank["frechet"] > 10


def test_image_folder_is_read_recursively_cropped_and_resized(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "imgs")
    env = ImageFolderGanEnv(root=str(root), size=8, split="train", batch_size=4)
    assert env.observation_space.shape == (4, 3, 8, 8) and len(env.images) == 8  # 10 images, 20% test
    green = np.stack([np.full((8, 8), v, np.float32) for v in (-1.0, 1.0, -1.0)])
    assert all(np.array_equal(image, green) for image in env.images)  # the centre square, red/blue cut off
    grey = ImageFolderGanEnv(root=str(root), size=12, color="grey", split="test")
    assert grey.images.shape == (2, 1, 12, 12)
    assert np.allclose(grey.images, 150 / 127.5 - 1, atol=0.01)  # green's luma: 0.587 * 255 = 150
    assert run_epoch(grey, lambda obs: obs)["frechet"] < 1e-6
    assert "class_entropy" not in run_epoch(grey, lambda obs: obs)  # no labels, no class histogram
    assert grey.render_mode is None and grey.draw(grey.images)[5, 5].tolist() == [150, 150, 150]  # no ink


def test_random_features_are_fixed_by_the_seed_and_see_pixel_statistics() -> None:
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (500, 3, 8, 8))
    a, b = RandomFeatures(images.shape[1:]), RandomFeatures(images.shape[1:])
    assert a.features(images).shape == (500, 64) and np.array_equal(a.features(images), b.features(images))
    assert frechet_distance(a.features(images), a.features(images)) < 1e-6
    darker = frechet_distance(a.features(images), a.features(images - 0.5))
    assert darker > frechet_distance(a.features(images[:250]), a.features(images[250:]))


@pytest.mark.parametrize(
    "args,message",
    [
        ([], "env=image_folder_gan needs a folder of images: set env.kwargs.root=<folder>"),
        (["env.kwargs.root={tmp}/missing"], "image folder not found"),
        (["env.kwargs.root={tmp}/empty"], "holds no images: expected files ending in .png, .jpg"),
        (["env.kwargs.root={tmp}/bad"], "bad.png is not a readable image"),
        (["env.kwargs.root={tmp}/imgs", "env.kwargs.color=cmyk"], "color"),
        (["env.kwargs.root={tmp}/imgs", "env.kwargs.size=2"], "size=2 is invalid: it must be >= 4"),
    ],
)
def test_image_folder_errors_are_one_line(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    write_folder(tmp_path / "imgs")
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "bad.png").write_bytes(b"not a png")
    args = [a.format(tmp=tmp_path) for a in args]
    cmd = ["train", "agent=gan", "env=image_folder_gan", "ui=none", f"hydra.run.dir={tmp_path / 'run'}"]
    assert message in one_line_error(capsys, [*cmd, *args])


def test_mnist_gan_without_files_names_the_folder(tmp_path: Path, capsys) -> None:
    cmd = ["train", "agent=gan", "env=mnist_gan", f"env.kwargs.data_dir={tmp_path}", "ui=none"]
    err = one_line_error(capsys, [*cmd, f"hydra.run.dir={tmp_path / 'run'}"])
    assert f"MNIST file not found: looked for {tmp_path}" in err


def test_render_frames_keep_their_size_over_a_short_last_minibatch(tmp_path: Path) -> None:
    data = str(write_mnist(tmp_path))
    env = MnistGanEnv(split="test", batch_size=8, data_dir=data, render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    frames, done = [env.render()], False
    while not done:  # minibatches of 8, 8 and 4 real images: `rlkit play` stacks these frames into a GIF
        obs, _, done, _, _ = env.step(obs)
        frames.append(env.render())
    assert {f.shape for f in frames} == {(2 + 1 * 30, 2 + 8 * 30, 3)}  # one row of 8 tiles of 28 + 2


def test_the_mnist_classifier_is_trained_once_and_cached(tmp_path: Path, monkeypatch) -> None:
    images = to_unit(np.repeat(np.arange(0, 250, 25, dtype=np.uint8), 16).reshape(10, 1, 4, 4))
    labels = np.arange(10)
    first = cached_classifier(images, labels)
    (saved,) = cache_dir().glob("gan_classifier_*.npz")
    assert cache_dir() == tmp_path / "cache" / "rlkit"

    def no_fit(*args, **kwargs):
        raise AssertionError("trained again")

    with monkeypatch.context() as m:
        m.setattr("sklearn.neural_network.MLPClassifier.fit", no_fit)
        again = cached_classifier(images, labels)  # loaded, not trained
    assert np.array_equal(again.features(images), first.features(images))
    assert np.array_equal(again.classes(images), first.classes(images))
    saved.write_bytes(b"truncated")  # a broken cache file is trained again and rewritten
    assert np.array_equal(cached_classifier(images, labels).features(images), first.features(images))
    with np.load(saved) as weights:
        assert weights["w1"].shape == (16, 64) and list(weights["labels"]) == list(range(10))
