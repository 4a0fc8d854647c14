"""Token ids shared by the sequence tasks and the sequence agents (translation, captioning).

Id 0 pads, 1 is ``<unk>`` (a word outside the vocabulary), 2 ``<s>`` (start of a sentence), 3 ``</s>`` (end);
a vocabulary is these four followed by its words. A target sentence is its word ids then ``</s>``, padded with
0; an agent's answer is written the same way (words after its first ``</s>`` are ignored).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

PAD, UNK, BOS, EOS = 0, 1, 2, 3
SPECIALS = ("<pad>", "<unk>", "<s>", "</s>")


def words_of(ids: Iterable[int], vocab: Sequence[str]) -> list[str]:
    """The words of an id sequence up to its first ``</s>`` (padding and ``<s>`` skipped)."""
    out = []
    for i in ids:
        i = int(i)
        if i == EOS:
            break
        if i not in (PAD, BOS):
            out.append(vocab[i] if 0 <= i < len(vocab) else SPECIALS[UNK])
    return out


def sentence(ids: Iterable[int], vocab: Sequence[str]) -> str:
    """The words of an id sequence (words_of) joined by spaces."""
    return " ".join(words_of(ids, vocab))


def answered(pred: Any) -> Any:
    """Which rows of answers (B, L) are answers: a row of padding only (no ``</s>`` either) is "no answer",
    which a sequence agent gives on training batches it does not decode (a training split leaves it out)."""
    return np.asarray(pred).reshape(len(pred), -1).any(axis=1)


def scored(pred: Any, rows: int, train: bool) -> Any:
    """Which of the first `rows` answers a task scores: on a training split those answered, else all."""
    return answered(pred[:rows]) if train else np.ones(rows, dtype=bool)
