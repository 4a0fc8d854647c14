"""The word2vec env's data: the corpus split into train and held-out parts (cached), and the questions of
an evaluation (held-out context pairs, then nearest-neighbour questions about planted synonyms or probes)."""

from __future__ import annotations

import functools

import numpy as np

from rlkit.envs.word_corpus import (
    SYNONYMS,
    Vocabulary,
    build_vocab,
    context_pairs,
    encode,
    pydoc_words,
    read_words,
    synthetic_corpus,
)

CONTEXT, NEIGHBOURS = 0, 1  # the kinds of question (an observation row's second column)
PROBES, PROBE_WINDOW = 16, 100  # the book's valid_size and valid_window


@functools.lru_cache(maxsize=4)
def load_corpus(
    corpus: str, path: str | None, num_words: int, vocabulary_size: int, test_fraction: float, mtime: float
) -> tuple[Vocabulary, np.ndarray, np.ndarray]:
    """(vocabulary of the train part, train ids, held-out tail ids); cached, so train and eval envs share it.

    `mtime` is the file's modification time (0 without a file): an edited file is read again.
    """
    if path is not None:
        words = read_words(path)
    elif corpus == "pydoc":
        words = pydoc_words()
    else:
        words = synthetic_corpus(num_words)
    cut = int(len(words) * (1 - test_fraction))
    vocab = build_vocab(words[:cut], vocabulary_size)
    return vocab, encode(words[:cut], vocab), encode(words[cut:], vocab)


def synonym_ids(vocab: Vocabulary) -> list[tuple[int, int]]:
    """The planted synonym pairs (rlkit.envs.word_corpus.SYNONYMS) as word ids, both words in `vocab`."""
    return [tuple(vocab.ids([a, b])) for a, b in SYNONYMS if a in vocab.index and b in vocab.index]


def probe_ids(vocab: Vocabulary) -> np.ndarray:
    """The book's valid_examples: 16 words drawn from the 100 most frequent (UNK left out), fixed."""
    top = np.arange(1, min(PROBE_WINDOW, len(vocab) - 1) + 1)
    rng = np.random.default_rng(0)
    return np.sort(rng.choice(top, size=min(PROBES, len(top)), replace=False))


def test_questions(
    test: np.ndarray,
    skip_window: int,
    batch_size: int,
    test_pairs: int,
    synonym_pairs: list[tuple[int, int]],
    probes: np.ndarray,
) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """(word ids, targets, kind) of each evaluation batch: `test_pairs` held-out (center, context) pairs of
    `test` (fixed, in text order), then NEIGHBOURS questions: each planted synonym (target: its partner), else
    the probe words (no target: -1)."""
    centers, contexts = context_pairs(test, skip_window)
    if len(centers) > test_pairs:
        rows = np.sort(np.random.default_rng(0).choice(len(centers), size=test_pairs, replace=False))
        centers, contexts = centers[rows], contexts[rows]
    if synonym_pairs:
        pairs = np.array(synonym_pairs, dtype=np.int64)
        queries, partners = (
            np.concatenate([pairs[:, 0], pairs[:, 1]]),
            np.concatenate([pairs[:, 1], pairs[:, 0]]),
        )
    else:
        queries, partners = probes, np.full(len(probes), -1, dtype=np.int64)
    out = []
    for ids, targets, kind in ((centers, contexts, CONTEXT), (queries, partners, NEIGHBOURS)):
        for start in range(0, len(ids), batch_size):
            stop = start + batch_size
            out.append((ids[start:stop], targets[start:stop], kind))
    return out
