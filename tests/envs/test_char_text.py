"""The Char-RNN text task: vocabulary, windows and scores by hand, the env contract, errors, generation."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rlkit.envs  # noqa: F401  (registers the ids)
from rlkit.core.errors import UserError
from rlkit.envs.char_text import (
    DEFAULT_TEXT,
    UNK,
    build_vocab,
    char_scores,
    decode,
    encode,
    generate,
    rollout_txt,
    sample_char,
    windows,
)


class UniformAgent:
    """Acts with equal log-probabilities everywhere, except that it always favours `favourite` a bit."""

    def __init__(self, favourite: int = 0):
        self.favourite = favourite

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        v = 5
        logp = np.full((*obs.shape, v), -math.log(v), dtype=np.float32)
        logp[..., self.favourite] += 0.1
        return logp


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("abcd" * 50 + "abcz" * 10, encoding="utf-8")  # 240 chars; the tail holds 'z'
    return path


def test_vocab_encode_decode_by_hand() -> None:
    vocab = build_vocab("aaabbc", max_vocab=2)
    assert vocab == ["a", "b", UNK]
    ids = encode("abcx", vocab)
    assert ids.tolist() == [0, 1, 2, 2]  # c and x are beyond the cap: <unk>
    assert decode(ids, vocab) == f"ab{UNK}{UNK}"


def test_windows_shift_targets_by_one() -> None:
    x, y = windows(np.arange(8), 3)
    assert x.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert y.tolist() == [[1, 2, 3], [4, 5, 6]]


def test_scores_by_hand() -> None:
    logp = np.full((2, 3, 4), math.log(0.25))  # uniform over 4 characters: 2 bits, perplexity 4
    target, mask = np.zeros((2, 3), dtype=np.int64), np.array([True, False])
    scores = char_scores(logp, target, mask)
    assert scores["bpc"] == pytest.approx(2.0)
    assert scores["perplexity"] == pytest.approx(4.0)
    logp[0, :, 1] = 0.0  # predicts 1 for sure where the target is 0: accuracy 0, log-probability clipped
    assert char_scores(logp, target, mask)["accuracy"] == 0.0
    logp[0, :, 0] = 0.0
    assert char_scores(logp, target, mask)["bpc"] == pytest.approx(0.0)


def test_sampling_temperature() -> None:
    rng = np.random.default_rng(0)
    logp = np.log(np.array([0.1, 0.6, 0.3]))
    assert sample_char(logp, 0.0, rng) == 1
    cold = [sample_char(logp, 0.05, rng) for _ in range(50)]
    assert set(cold) == {1}
    hot = [sample_char(logp, 1.0, rng) for _ in range(300)]
    assert set(hot) == {0, 1, 2}


def test_env_contract_and_splits(text_file) -> None:
    env = gym.make("rlkit/CharText-v0", path=str(text_file), num_steps=5, batch_size=4, test_fraction=0.25)
    check_env(env.unwrapped)
    base = env.unwrapped
    assert base.vocab == ["a", "b", "c", "d", UNK]  # from the train head: 'z' is only in the tail
    test = gym.make("rlkit/CharText-v0", path=str(text_file), split="test", num_steps=5, batch_size=4)
    assert (test.unwrapped.inputs == 4).any()  # 'z' in the held-out tail is <unk>
    obs, _ = test.reset(seed=0)
    assert obs.shape == (4, 5) and obs.dtype == np.int64
    total, done = 0.0, False
    while not done:
        logp = np.full((4, 5, 5), math.log(0.2), dtype=np.float32)
        obs, _, done, _, info = test.step(logp)
        assert info["metrics"]["bpc"] == pytest.approx(math.log2(5))
        total += info["metrics"]["count"]
    assert total == len(test.unwrapped.inputs)


def test_render_and_generation(text_file, tmp_path) -> None:
    env = gym.make("rlkit/CharText-v0", path=str(text_file), num_steps=5, batch_size=4, render_mode="ansi")
    env.reset(seed=0)
    env.step(UniformAgent(1).act(np.zeros((1, 4, 5), dtype=np.int64))[0])
    assert "model: 'bbbbb'" in env.render()
    text = generate(UniformAgent(2), env, length=20, temperature=0.0, prime="ab")
    assert text == "ab" + "c" * 20
    assert env.render() == text
    sampled = generate(UniformAgent(2), env, length=30, temperature=1.0, prime="a", seed=1)
    assert len(sampled) == 31 and sampled.startswith("a")
    path = rollout_txt(
        UniformAgent(0), env, tmp_path / "run" / "sample.txt", length=10, temperature=0.0, prime="d"
    )
    assert path.read_text(encoding="utf-8") == "d" + "a" * 10


def test_packaged_excerpt_is_the_default() -> None:
    assert DEFAULT_TEXT.is_file() and 50_000 < DEFAULT_TEXT.stat().st_size < 100_000
    env = gym.make("rlkit/CharText-v0")
    assert 50 < len(env.unwrapped.vocab) < 70
    assert env.action_space.shape == (32, 50, len(env.unwrapped.vocab))


def test_data_file_errors_name_the_path(tmp_path) -> None:
    with pytest.raises(UserError, match=r"nope\.txt not found.*UTF-8"):
        gym.make("rlkit/CharText-v0", path=str(tmp_path / "nope.txt"))
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00abc" * 40)
    with pytest.raises(UserError, match=r"bad\.txt is not UTF-8"):
        gym.make("rlkit/CharText-v0", path=str(bad))
    short = tmp_path / "short.txt"
    short.write_text("hello world", encoding="utf-8")
    with pytest.raises(UserError, match=r"short\.txt has 11 characters: too short"):
        gym.make("rlkit/CharText-v0", path=str(short))
    with pytest.raises(UserError, match="test_fraction"):
        gym.make("rlkit/CharText-v0", test_fraction=1.5)
