"""CIFAR-10 task: the 3073-byte record reader on files the test writes, augmentation, stand-in, errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rlkit.envs  # noqa: F401  (registers the ids)
from rlkit.core.errors import UserError
from rlkit.envs.cifar10 import augment, center_crop, read_cifar_batch, shapes_dataset, standardize


def write_batch(path, labels: list[int]) -> np.ndarray:
    """A binary batch in the real format: image k has red = 10 k, green = 10 k + 1, blue = 10 k + 2."""
    images = np.zeros((len(labels), 3, 32, 32), dtype=np.uint8)
    for k in range(len(labels)):
        images[k] = (10 * k + np.arange(3))[:, None, None]
    records = np.concatenate([np.array(labels, dtype=np.uint8)[:, None], images.reshape(len(labels), -1)], 1)
    path.write_bytes(records.tobytes())
    return images


def write_cifar(folder, n: int = 3) -> None:
    """data_batch_1-5.bin and test_batch.bin with `n` records each."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(1, 6):
        write_batch(folder / f"data_batch_{k}.bin", [(k + j) % 10 for j in range(n)])
    write_batch(folder / "test_batch.bin", list(range(n)))


def test_record_reader_round_trip(tmp_path) -> None:
    path = tmp_path / "b.bin"
    images = write_batch(path, [3, 9])
    x, y = read_cifar_batch(path)
    assert y.tolist() == [3, 9] and x.shape == (2, 3, 32, 32)
    np.testing.assert_array_equal(x, images)
    assert x[1, 2, 0, 0] == 12  # image 1's blue plane


def test_malformed_files_name_the_path(tmp_path) -> None:
    with pytest.raises(UserError, match=r"nope\.bin not found.*3073 bytes"):
        read_cifar_batch(tmp_path / "nope.bin")
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00" * 3000)
    with pytest.raises(UserError, match=r"bad\.bin: 3000 bytes is not a whole number of records"):
        read_cifar_batch(bad)
    bad.write_bytes(b"\x0c" + b"\x00" * 3072)
    with pytest.raises(UserError, match="label byte 12 out of range"):
        read_cifar_batch(bad)
    write_cifar(tmp_path / "d")
    (tmp_path / "d" / "data_batch_4.bin").unlink()
    with pytest.raises(UserError, match=r"data_batch_4\.bin not found"):
        gym.make("rlkit/CIFAR10-v0", data_dir=str(tmp_path / "d"))


def test_env_on_real_format_files(tmp_path) -> None:
    write_cifar(tmp_path / "cifar-10-batches-bin")
    env = gym.make("rlkit/CIFAR10-v0", data_dir=str(tmp_path), batch_size=4)
    assert len(env.unwrapped.inputs) == 15 and env.unwrapped.class_names[0] == "airplane"
    check_env(env.unwrapped)
    test = gym.make("rlkit/CIFAR10-v0", data_dir=str(tmp_path), split="test", batch_size=4)
    obs, _ = test.reset(seed=0)
    assert obs.shape == (4, 3, 24, 24) and obs.dtype == np.float32
    assert np.all(obs[3] == 0)  # padding row of the 3-image test split
    _, reward, done, _, info = test.step(np.array([0, 1, 2, 0]))
    assert reward == 1.0 and done and info["mask"].tolist() == [True, True, True, False]


def test_augmentation_and_standardisation() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (6, 3, 32, 32)).astype(np.uint8)
    out = augment(x, rng)
    assert out.shape == (6, 3, 24, 24) and out.dtype == np.float32
    assert center_crop(x).shape == (6, 3, 24, 24)
    np.testing.assert_array_equal(center_crop(x)[0], x[0, :, 4:28, 4:28])
    z = standardize(out)
    np.testing.assert_allclose(z.mean(axis=(1, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=(1, 2, 3)), 1, atol=1e-3)
    flat = standardize(np.full((1, 3, 24, 24), 7.0))  # constant image: std floored, no division by zero
    assert np.all(flat == 0)


def test_stand_in_dataset() -> None:
    x, y = shapes_dataset(50, np.random.default_rng(0))
    assert x.shape == (50, 3, 32, 32) and x.dtype == np.uint8 and set(y) <= set(range(10))
    env = gym.make("rlkit/CIFAR10-v0", n_samples=40, batch_size=16)
    assert env.unwrapped.class_names[0] == "disc" and env.unwrapped.batches_per_epoch == 3
