"""Supervised task envs: the env contract, epochs of padded minibatches, the data files and their errors."""

from __future__ import annotations

import gzip
import struct

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rlkit.envs  # noqa: F401  (registers the ids)
from rlkit.core.errors import UserError
from rlkit.core.evaluation import MetricsMean, evaluate
from rlkit.envs.factory import make_env
from rlkit.envs.mnist import parse_idx, read_idx
from rlkit.envs.supervised import masked_accuracy, num_batches, pad_batch, rollout_png, save_png
from rlkit.envs.toy_sequences import toy_sequences


def idx_bytes(array: np.ndarray, type_byte: int = 0x08) -> bytes:
    """An idx file's bytes: magic 00 00 <type> <ndim>, big-endian sizes, big-endian data."""
    dtype = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[type_byte]
    header = bytes([0, 0, type_byte, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(dtype).tobytes()


def write_mnist(folder, n_train: int = 7, n_test: int = 5, compress: bool = True) -> None:
    """Tiny MNIST idx files: image k is filled with the value 10 * label."""
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = np.repeat((labels * 10)[:, None, None], 28, axis=1).repeat(28, axis=2).astype(np.uint8)
        for stem, arr in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
            data = idx_bytes(arr)
            if compress:
                (folder / f"{stem}.gz").write_bytes(gzip.compress(data))
            else:
                (folder / stem).write_bytes(data)


# ----- pure helpers -----------------------------------------------------------------------------------------
def test_batching_helpers_by_hand() -> None:
    assert num_batches(7, 3) == 3 and num_batches(6, 3) == 2
    np.testing.assert_array_equal(pad_batch(np.array([1, 2]), 4), [1, 2, 0, 0])
    mask = np.array([True, True, True, False])
    assert masked_accuracy(np.array([1, 2, 0, 9]), np.array([1, 2, 3, 0]), mask) == pytest.approx(2 / 3)
    assert masked_accuracy(np.array([[1, 2], [1, 1]]), np.array([[1, 2], [1, 2]]), mask[:2]) == 0.5


def test_metrics_mean_weights_by_count() -> None:
    m = MetricsMean()
    m.add({"accuracy": 1.0, "count": 3})
    m.add({"accuracy": 0.0, "count": 1, "note": "text"})
    m.add(None)
    assert m.means() == {"accuracy": 0.75}


# ----- idx files --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip_plain_and_gzip(tmp_path, compress: bool) -> None:
    for type_byte, arr in ((0x08, np.arange(24).reshape(2, 3, 4)), (0x0C, np.array([-5, 7, 1 << 20]))):
        data = idx_bytes(arr, type_byte)
        path = tmp_path / f"a{type_byte}"
        path.write_bytes(gzip.compress(data) if compress else data)
        np.testing.assert_array_equal(read_idx(path), arr)


def test_idx_errors_name_the_path_and_what_was_expected(tmp_path) -> None:
    with pytest.raises(UserError, match=r"not found: .*nope"):
        read_idx(tmp_path / "nope")
    bad_magic = tmp_path / "bad_magic"
    bad_magic.write_bytes(b"\x12\x34\x56\x78rest")
    with pytest.raises(UserError, match=r"bad_magic is not an idx file: expected the magic bytes 00 00"):
        read_idx(bad_magic)
    short = tmp_path / "short"
    short.write_bytes(idx_bytes(np.zeros((3, 2), dtype=np.uint8))[:-1])
    with pytest.raises(UserError, match=r"short is malformed: .*shape \(3, 2\).*6 data bytes.*holds 5"):
        read_idx(short)
    broken_gz = tmp_path / "broken.gz"
    broken_gz.write_bytes(gzip.compress(idx_bytes(np.zeros(50, dtype=np.uint8)))[:20])
    with pytest.raises(UserError, match=r"broken.gz is not a valid gzip file"):
        read_idx(broken_gz)
    with pytest.raises(UserError, match="empty file"):
        parse_idx(b"", "x")


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_env_reads_idx_files(tmp_path, compress: bool) -> None:
    write_mnist(tmp_path, compress=compress)
    env = gym.make("rlkit/MNIST-v0", data_dir=str(tmp_path), batch_size=4)
    check_env(env.unwrapped)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 1, 28, 28) and obs.dtype == np.uint8
    _, _, _, _, info = env.step(np.zeros(4, dtype=np.int64))
    np.testing.assert_array_equal(obs[:, 0, 0, 0], info["targets"] * 10)  # image value = 10 * label
    test = gym.make("rlkit/MNIST-v0", data_dir=str(tmp_path), split="test", batch_size=4)
    assert test.unwrapped.batches_per_epoch == 2  # 5 test images


def test_mnist_missing_or_mismatched_files_fail_clearly(tmp_path) -> None:
    env_cfg = _env_cfg("rlkit/MNIST-v0", data_dir=str(tmp_path / "none"))
    with pytest.raises(
        UserError, match=r"MNIST file not found: .*none/train-images-idx3-ubyte.gz.*download=true"
    ):
        make_env(env_cfg)
    write_mnist(tmp_path, compress=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, dtype=np.uint8)))
    with pytest.raises(UserError, match=r"expected one label per image .* \(7\), got shape \(3,\)"):
        gym.make("rlkit/MNIST-v0", data_dir=str(tmp_path), limit=2)


def _env_cfg(env_id: str, **kwargs):
    from omegaconf import OmegaConf

    return OmegaConf.create({"id": env_id, "kwargs": kwargs, "max_episode_steps": None})


# ----- epochs of minibatches --------------------------------------------------------------------------------
def test_an_episode_is_one_epoch_of_padded_masked_minibatches() -> None:
    env = gym.make("rlkit/ToySequences-v0", n_samples=7, batch_size=3)
    obs, _ = env.reset(seed=1)
    seen, steps, terminated = [], 0, False
    while not terminated:
        obs_before = obs
        obs, reward, terminated, truncated, info = env.step(np.zeros(3, dtype=np.int64))
        steps += 1
        mask = info["mask"]
        seen += [tuple(row.ravel()) for row in obs_before[mask]]
        assert reward == pytest.approx(np.mean(info["targets"][mask] == 0)) and not truncated
        assert info["metrics"]["count"] == mask.sum()
    assert steps == 3 and mask.tolist() == [True, False, False]  # 7 = 3 + 3 + 1
    assert not obs_before[1:].any() and info["targets"][1:].tolist() == [0, 0]  # zero padding
    assert len(set(seen)) == 7  # every example exactly once


def test_train_split_shuffles_by_seed_and_test_split_keeps_its_order() -> None:
    env = gym.make("rlkit/ToySequences-v0", n_samples=50, batch_size=10)
    a, b, c = (env.reset(seed=s)[0] for s in (0, 0, 1))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    test = gym.make("rlkit/ToySequences-v0", split="test", n_samples=50, batch_size=10)
    assert np.array_equal(test.reset(seed=0)[0], test.reset(seed=5)[0])


def test_toy_sequences_are_the_books() -> None:
    values, lengths, labels = toy_sequences(300, 20, 3, 1000, np.random.default_rng(0))
    assert lengths.min() >= 3 and lengths.max() <= 20 and 0.35 < labels.mean() < 0.65
    for v, n, label in zip(values, lengths, labels):
        assert not v[n:].any()
        if label == 0:
            np.testing.assert_allclose(np.diff(v[:n]), 0.001, atol=1e-6)
    env = gym.make("rlkit/ToySequences-v0")
    obs, _ = env.reset(seed=0)
    valid = obs[..., 1]
    assert obs.shape == (128, 20, 2) and set(np.unique(valid)) == {0.0, 1.0}
    assert np.all(np.diff(valid, axis=1) <= 0)  # valid steps first, padding after
    train, test = (gym.make("rlkit/ToySequences-v0", split=s).unwrapped.inputs for s in ("train", "test"))
    assert not np.array_equal(train[:10], test[:10])


def test_envs_pass_gymnasiums_checker() -> None:
    check_env(gym.make("rlkit/ToySequences-v0", n_samples=30, batch_size=8).unwrapped)
    pytest.importorskip("sklearn")
    check_env(gym.make("rlkit/Digits-v0").unwrapped)


def test_digits_split_and_scaling() -> None:
    pytest.importorskip("sklearn")
    train, test = (gym.make("rlkit/Digits-v0", split=s).unwrapped for s in ("train", "test"))
    assert len(train.inputs) == 1438 and len(test.inputs) == 359
    assert (
        train.inputs.dtype == np.uint8 and train.inputs.max() == 255 and train.inputs.shape[1:] == (1, 8, 8)
    )
    assert set(np.unique(np.concatenate([train.targets, test.targets]))) == set(range(10))


def test_bad_arguments_name_the_key() -> None:
    with pytest.raises(UserError, match=r"env.kwargs.split='val' is invalid: valid values are train, test"):
        make_env(_env_cfg("rlkit/ToySequences-v0", split="val"))
    with pytest.raises(UserError, match=r"env.kwargs.batch_size=0"):
        make_env(_env_cfg("rlkit/ToySequences-v0", batch_size=0))
    with pytest.raises(UserError, match=r"env.kwargs.dataset='cifar'"):
        make_env(_env_cfg("rlkit/Digits-v0", dataset="cifar"))


# ----- pictures and evaluation ------------------------------------------------------------------------------
class ConstantAgent:
    """Predicts class `k` for everything."""

    def __init__(self, k: int):
        self.k = k

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        return np.full(obs.shape[:2], self.k, dtype=np.int64)


def test_evaluation_reports_accuracy_over_all_test_examples(tmp_path) -> None:
    env = gym.make("rlkit/ToySequences-v0", split="test", n_samples=70, batch_size=32)
    result = evaluate(ConstantAgent(0), env, episodes=2, seed=0)
    labels = env.unwrapped.targets
    assert result.metrics == {"accuracy": pytest.approx(np.mean(labels == 0))}
    assert result.lengths == [3, 3] and result.summary()["accuracy"] == result.metrics["accuracy"]


def test_render_draws_the_last_batch_and_saves_png(tmp_path) -> None:
    from PIL import Image

    write_mnist(tmp_path)
    for env in (
        gym.make("rlkit/MNIST-v0", data_dir=str(tmp_path), split="test", render_mode="rgb_array"),
        gym.make("rlkit/ToySequences-v0", split="test", n_samples=20, render_mode="rgb_array"),
    ):
        env.reset(seed=0)
        before = env.render()
        path = rollout_png(ConstantAgent(1), env, tmp_path / "out" / "rollout.png")
        frame = env.render()
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        assert not np.array_equal(before, frame)  # captions now carry predictions and colours
        assert Image.open(path).size == (frame.shape[1], frame.shape[0])
    assert save_png(frame, tmp_path / "x.png").is_file()


def test_frames_keep_one_size_through_a_partial_last_batch() -> None:
    env = gym.make("rlkit/ToySequences-v0", n_samples=20, batch_size=8, render_mode="rgb_array")
    env.reset(seed=0)
    shapes, terminated = {env.render().shape}, False
    while not terminated:
        terminated = env.step(np.zeros(8, dtype=np.int64))[2]
        shapes.add(env.render().shape)
    assert len(shapes) == 1  # 8 + 8 + 4 sequences: a video of an epoch needs equal frames
