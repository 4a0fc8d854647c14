"""The word2vec task: the book's generate_batch, vocabulary, corpora and text8 files, the env's questions."""

from __future__ import annotations

import zipfile
from collections import Counter

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rlkit.envs  # noqa: F401  (registers the ids)
from rlkit.core.errors import UserError
from rlkit.envs.word2vec import CONTEXT, NEIGHBOURS, Word2VecEnv
from rlkit.envs.word_corpus import (
    SYNONYMS,
    UNK,
    build_vocab,
    context_pairs,
    download_text8,
    encode,
    generate_batch,
    pydoc_words,
    read_words,
    synthetic_corpus,
)

WORDS = "one two three four five six seven eight nine ten " * 30


@pytest.fixture
def text8_plain(tmp_path):
    path = tmp_path / "text8"
    path.write_text(WORDS, encoding="utf-8")
    return path


@pytest.fixture
def text8_zip(tmp_path):
    path = tmp_path / "text8.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("text8", WORDS)
    return path


def test_generate_batch_pair_layout_like_the_book() -> None:
    data, rng = np.arange(100, 110), np.random.default_rng(0)
    batch, labels, index = generate_batch(data, 0, 8, 2, 1, rng)
    assert batch.tolist() == [101, 101, 102, 102, 103, 103, 104, 104]  # each center num_skips times
    assert labels.shape == (8, 1)
    for i in range(4):  # both neighbours of the center, in some order
        assert sorted(labels[2 * i : 2 * i + 2, 0]) == [100 + i, 102 + i]
    batch, labels, index = generate_batch(data, index, 8, 2, 1, rng)
    assert batch.tolist() == [105, 105, 106, 106, 107, 107, 108, 108] and index == 8  # no word skipped
    batch, labels, _ = generate_batch(data, index, 4, 2, 1, rng)
    assert batch.tolist() == [109, 109, 100, 100]  # wraps around like the book's data_index
    assert sorted(labels[:2, 0]) == [100, 108] and sorted(labels[2:, 0]) == [101, 109]
    batch, labels, _ = generate_batch(data, 0, 8, 4, 2, rng)  # skip_window 2: all four context words
    assert batch.tolist() == [102] * 4 + [103] * 4
    assert sorted(labels[:4, 0]) == [100, 101, 103, 104]
    orders = {tuple(generate_batch(data, 0, 2, 2, 1, rng)[1][:, 0]) for _ in range(40)}
    assert orders == {(100, 102), (102, 100)}  # the order of a center's pairs is random


def test_generate_batch_asserts_as_the_book() -> None:
    data, rng = np.arange(10), np.random.default_rng(0)
    with pytest.raises(UserError, match=r"batch_size=7 must be a multiple of env.kwargs.num_skips=2"):
        generate_batch(data, 0, 7, 2, 1, rng)
    with pytest.raises(UserError, match=r"num_skips=3 is invalid: it must be <= 2 \* skip_window = 2"):
        generate_batch(data, 0, 6, 3, 1, rng)


def test_vocabulary_keeps_the_most_common_words_and_unk() -> None:
    words = ["a", "b", "a", "c", "a", "b", "d"]
    vocab = build_vocab(words, 3)
    assert vocab.words == [UNK, "a", "b"]
    assert vocab.counts.tolist() == [2, 3, 2]  # UNK counts the words left out (c, d)
    assert encode(["a", "c", "b", "zz"], vocab).tolist() == [1, 0, 2, 0]
    with pytest.raises(UserError, match="not in the vocabulary: zz"):
        vocab.ids(["a", "zz"])


def test_context_pairs_of_a_held_out_text() -> None:
    centers, contexts = context_pairs(np.array([5, 6, 7]), 1)
    assert list(zip(centers.tolist(), contexts.tolist())) == [(5, 6), (6, 5), (6, 7), (7, 6)]


def test_synthetic_corpus_is_deterministic_and_plants_interchangeable_synonyms() -> None:
    words = synthetic_corpus(30_000)
    assert words == synthetic_corpus(30_000) and words != synthetic_corpus(30_000, seed=1)
    counts = Counter(words)
    left = {w: Counter() for pair in SYNONYMS for w in pair}
    for prev, word in zip(words, words[1:]):
        if word in left:
            left[word][prev] += 1
    for a, b in SYNONYMS:
        assert counts[a] > 50 and counts[b] > 50
        assert 0.6 < counts[a] / counts[b] < 1.6  # either word realises the concept, half the time each
        ka, kb = set(left[a]), set(left[b])
        assert len(ka & kb) / len(ka | kb) > 0.8  # the same words precede them


def test_pydoc_corpus_is_english_words() -> None:
    words = pydoc_words()
    assert len(words) > 50_000 and Counter(words).most_common(1)[0][0] == "the"


def test_text8_plain_and_zip(text8_plain, text8_zip) -> None:
    assert read_words(text8_plain) == WORDS.split()
    assert read_words(text8_zip) == WORDS.split()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "holds no words"),
        (b" \n  ", "holds no words"),
        (b"\x00\x01\x02binary", "is a binary file"),
        (b"caf\xe9 latin-1", "is not UTF-8 text"),
    ],
)
def test_malformed_text8_files_name_the_path(tmp_path, content, expected) -> None:
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(UserError, match=expected) as err:
        read_words(path)
    assert str(path) in str(err.value) and "text8" in str(err.value)


def test_zip_without_one_text_member_and_missing_file(tmp_path) -> None:
    two, empty = tmp_path / "two.zip", tmp_path / "empty.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("text8", "a b")
        archive.writestr("extra", "c d")
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(
        UserError, match=r"two.zip is a zip with 2 files \(text8, extra\); expected exactly one"
    ):
        read_words(two)
    with pytest.raises(UserError, match="zip with 0 files"):
        read_words(empty)
    with pytest.raises(UserError, match=r"corpus file .*nope not found \(expected text8"):
        read_words(tmp_path / "nope")


def test_download_checks_the_size(tmp_path, text8_zip) -> None:
    url = text8_zip.as_uri()  # file:// only: tests never go online
    with pytest.raises(UserError, match="expected 31,344,016"):
        download_text8(tmp_path / "dl", url=url)
    size = text8_zip.stat().st_size
    assert download_text8(tmp_path / "dl", url=url, expected_bytes=size) == tmp_path / "dl" / "text8.zip"


def test_env_contract_and_training_batches() -> None:
    env = gym.make("rlkit/Word2Vec-v0", num_words=20_000, batch_size=16, k=4)
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (16, 2) and set(obs[:, 1]) == {CONTEXT}
    assert obs[0, 0] == obs[1, 0]  # num_skips 2: each center twice
    answers = np.zeros((16, 4), dtype=np.int64)
    answers[:, 1] = 5
    _, reward, terminated, truncated, info = env.step(answers)
    targets = info["targets"]
    assert reward == pytest.approx(np.mean(targets == 0))
    assert info["metrics"]["top_k_accuracy"] == pytest.approx(np.mean((targets == 0) | (targets == 5)))
    assert info["metrics"]["count"] == 16 and info["mask"].all() and not (terminated or truncated)
    assert env.unwrapped.batches_per_epoch == -(-len(env.unwrapped.train_ids) // 8)
    again, _ = env.reset(seed=0)
    assert np.array_equal(again, obs)  # same seed, same batches


def test_test_split_scores_held_out_pairs_then_planted_synonyms() -> None:
    env = Word2VecEnv(num_words=20_000, split="test", batch_size=64, test_pairs=100, render_mode="ansi")
    vocab, pairs = env.vocab, env.synonym_pairs
    assert len(pairs) == len(SYNONYMS) and env.batches_per_epoch == 2 + 1
    obs, _ = env.reset(seed=0)
    assert set(obs[:, 1]) == {CONTEXT}
    _, _, _, _, info = env.step(np.zeros((64, 8), dtype=np.int64))
    _, _, _, _, info = env.step(np.zeros((64, 8), dtype=np.int64))
    assert info["mask"].sum() == 100 - 64 and info["metrics"]["count"] == 36  # the padded last batch
    obs = env.unwrapped._current[0]
    assert set(obs[:20, 1]) == {NEIGHBOURS}  # the 20 planted words: 10 pairs, both ways
    partner = {a: b for a, b in pairs} | {b: a for a, b in pairs}
    answers = np.zeros((64, 8), dtype=np.int64)
    rows = np.flatnonzero(obs[:, 1] == NEIGHBOURS)
    for r in rows[: len(rows) // 2]:  # half the questions answered with the partner first
        answers[r, 0] = partner[obs[r, 0]]
    _, reward, terminated, _, info = env.step(answers)
    assert terminated and reward == pytest.approx(0.5)
    assert info["metrics"]["synonym_recall_at_1"] == pytest.approx(0.5) and info["metrics"]["count"] == 20
    text = env.render()
    assert f"Nearest to {vocab.words[obs[0, 0]]}: " in text and "[planted partner" in text


def test_env_errors_name_the_key(text8_plain) -> None:
    with pytest.raises(UserError, match=r"env.kwargs.k=50 is invalid: the vocabulary has 11 words"):
        Word2VecEnv(path=str(text8_plain), k=50)
    with pytest.raises(UserError, match="not both"):
        Word2VecEnv(corpus="pydoc", path=str(text8_plain))
    with pytest.raises(
        UserError, match=r"env.kwargs.corpus='wiki' is invalid: valid values are synthetic, pydoc"
    ):
        Word2VecEnv(corpus="wiki")
    with pytest.raises(UserError, match=r"batch_size=100 must be a multiple of env.kwargs.num_skips=3"):
        Word2VecEnv(batch_size=100, num_skips=3, skip_window=2)


def test_text8_env_without_synonyms_asks_probe_words(text8_zip) -> None:
    env = Word2VecEnv(path=str(text8_zip), split="test", k=3, render_mode="ansi")
    assert env.vocab.words[:3] == [UNK, "one", "two"] and not env.synonym_pairs
    assert len(env.probe_ids) == 10 and 0 not in env.probe_ids  # the 10 words, UNK left out
    env.reset(seed=0)
    env.step(np.zeros((128, 3), dtype=np.int64))
    _, reward, terminated, _, info = env.step(np.ones((128, 3), dtype=np.int64))
    assert terminated and reward == 0.0 and "synonym_recall" not in info["metrics"]  # shown, not scored
    assert env.render().count("Nearest to ") == 10


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"test_fraction": "abc"},
            r"env.kwargs.test_fraction='abc' is invalid: it must be a number in \(0, 1\)",
        ),
        ({"test_fraction": None}, r"env.kwargs.test_fraction=None is invalid"),
        ({"subsample": None}, r"env.kwargs.subsample=None is invalid: it must be a number in \[0, 1\)"),
        ({"subsample": True}, r"env.kwargs.subsample=True is invalid"),
    ],
)
def test_non_numeric_fractions_name_the_key(kwargs, expected) -> None:
    with pytest.raises(UserError, match=expected):
        Word2VecEnv(num_words=2_000, **kwargs)


def test_too_small_synthetic_corpus_names_num_words() -> None:
    with pytest.raises(UserError, match=r"env.kwargs.num_words: the synthetic corpus has 7 words: too few"):
        Word2VecEnv(num_words=5)
