"""The book's chapter 14 word2vec task: skip-gram pairs as a supervised env, scored by the words named.

Every row of an observation is a question about one word: ``(word id, kind)``. Kind CONTEXT (0) asks for
words likely to appear within `skip_window` of it; kind NEIGHBOURS (1) asks for the words most similar to it.
The action answers each row with `k` word ids, best first. The env scores the answers against the targets it
reveals in ``info["targets"]`` (one word per row: a true context word, or a planted synonym partner):

* training (split "train"): the book's `generate_batch` over the head of the corpus (skip_window 1, num_skips
  2: each center word twice, with its left and its right neighbour in random order), all CONTEXT rows; an
  episode is one pass over the corpus (frequent words optionally subsampled anew each epoch);
* evaluation (split "test"): `test_pairs` (center, context) pairs of the held-out tail (fixed, in text order),
  then NEIGHBOURS rows: on the synthetic corpus every planted synonym (target: its partner), else the book's
  16 probe words from the 100 most frequent (no target: shown, not scored).

Metrics (``info["metrics"]``, weighted by ``count``): ``accuracy`` (the first answer is the true context
word), ``top_k_accuracy`` (it is among the k answers), ``synonym_recall`` (the planted partner is among the k
nearest neighbours) and ``synonym_recall_at_1``. The reward is accuracy on CONTEXT batches, synonym_recall on
NEIGHBOURS batches. Padded rows (the last batch of a split) are masked, as in rlkit.envs.supervised, whose
info contract this env keeps (``targets`` is one word per row here, not shaped like the action).

render("ansi") shows the last batch: "Nearest to X: a, b, c" lines as the book prints them, or context
predictions. `rollout_files` writes the nearest-neighbour report and a 2-D map of the most frequent words
(PCA, or t-SNE as in the book) of a trained agent's embeddings; `rlkit play run=...` calls it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rlkit.core.errors import UserError
from rlkit.core.headline import Headline
from rlkit.envs.supervised import SPLITS, check_choice, check_positive, pad_batch
from rlkit.envs.word2vec_data import CONTEXT, NEIGHBOURS, load_corpus, probe_ids, synonym_ids, test_questions
from rlkit.envs.word2vec_report import MAP_METHODS, embedding_map_png, neighbour_report
from rlkit.envs.word_corpus import generate_batch, subsample_keep

CORPORA = ("synthetic", "pydoc")


def _is_number(value: Any) -> bool:
    """An int or float, not a bool (a YAML `true` is not a fraction)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


class Word2VecEnv(gym.Env):
    """Skip-gram questions about words, one minibatch per step; an episode is one pass over a split.

    ## Observation Space
    Box(0, [vocab - 1, 1], (batch_size, 2), int64): rows (word id, kind), kind 0 = CONTEXT, 1 = NEIGHBOURS.

    ## Action Space
    MultiDiscrete([vocab] * (batch_size, k)): k word ids per row, best first.

    ## Rewards
    CONTEXT batches: accuracy of the first answer; NEIGHBOURS batches: recall of the planted partner in k.

    ## Arguments
    corpus (None: "synthetic"; "pydoc"), path (a text8 file, plain or .zip, instead of a corpus), split
    ("train" | "test"), vocabulary_size (50000, the book's), batch_size (128), skip_window (1), num_skips (2),
    k (8: answers per question, the book's top_k), subsample (0: off; e.g. 1e-3: Mikolov's threshold),
    num_words (100000: size of the synthetic corpus), test_fraction (0.1: the held-out tail), test_pairs
    (2048: held-out pairs scored per evaluation), map_words (100: words on the 2-D map), map_method ("pca" |
    "tsne"), render_mode (None | "ansi").
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}
    actions_ignored = True  # the epoch's minibatches do not depend on the answers (rlkit.core.vector)

    def __init__(
        self,
        corpus: str | None = None,
        path: str | None = None,
        split: str = "train",
        vocabulary_size: int = 50_000,
        batch_size: int = 128,
        skip_window: int = 1,
        num_skips: int = 2,
        k: int = 8,
        subsample: float = 0.0,
        num_words: int = 100_000,
        test_fraction: float = 0.1,
        test_pairs: int = 2048,
        map_words: int = 100,
        map_method: str = "pca",
        render_mode: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        check_choice("map_method", map_method, MAP_METHODS)
        if corpus is not None and path is not None:
            raise UserError("give env.kwargs.corpus or env.kwargs.path (a text8 file), not both")
        if corpus is not None:
            check_choice("corpus", corpus, CORPORA)
        for key, value in (
            ("vocabulary_size", vocabulary_size),
            ("batch_size", batch_size),
            ("skip_window", skip_window),
            ("num_skips", num_skips),
            ("k", k),
            ("num_words", num_words),
            ("test_pairs", test_pairs),
            ("map_words", map_words),
        ):
            check_positive(key, value)
        if not _is_number(test_fraction) or not 0 < test_fraction < 1:
            raise UserError(
                f"env.kwargs.test_fraction={test_fraction!r} is invalid: it must be a number in (0, 1)"
            )
        if not _is_number(subsample) or not 0 <= subsample < 1:
            raise UserError(
                f"env.kwargs.subsample={subsample!r} is invalid: it must be a number in [0, 1) (0: off)"
            )
        if render_mode is not None:
            check_choice("render_mode", render_mode, tuple(self.metadata["render_modes"]))
        # the book's asserts, checked before any data is read
        generate_batch(
            np.zeros(1, dtype=np.int64), 0, batch_size, num_skips, skip_window, np.random.default_rng()
        )
        self.corpus = "file" if path is not None else corpus or "synthetic"
        self.path = str(Path(path).expanduser()) if path is not None else None
        mtime = Path(self.path).stat().st_mtime if self.path and Path(self.path).is_file() else 0.0
        self.vocab, train, test = load_corpus(
            corpus or "synthetic", self.path, num_words, vocabulary_size, test_fraction, mtime
        )
        span = 2 * skip_window + 1
        where = self.path or f"the {self.corpus} corpus"
        if len(train) < span or len(test) < span:
            key = "path" if self.path else "num_words" if self.corpus == "synthetic" else "corpus"
            raise UserError(
                f"env.kwargs.{key}: {where} has {len(train) + len(test)} words: too few for skip_window="
                f"{skip_window} and test_fraction={test_fraction} (each split needs {span} or more)"
            )
        v = len(self.vocab)
        if k > v - 1:
            raise UserError(
                f"env.kwargs.k={k} is invalid: the vocabulary has {v} words, so k must be <= {v - 1}"
            )
        self.split, self.batch_size, self.k, self.render_mode = split, batch_size, k, render_mode
        self.skip_window, self.num_skips, self.subsample = skip_window, num_skips, subsample
        self.map_words, self.map_method = map_words, map_method
        self.train_ids = train
        self.synonym_pairs = synonym_ids(self.vocab) if self.corpus == "synthetic" else []
        # reported first: recall of the planted synonyms when there are some, else held-out context accuracy
        recall = Headline("synonym recall@1", "synonym_recall_at_1")
        self.headline = recall if self.synonym_pairs else Headline("accuracy", "accuracy")
        self.probe_ids = probe_ids(self.vocab)
        high = np.tile(np.array([v - 1, 1], dtype=np.int64), (batch_size, 1))
        self.observation_space = spaces.Box(np.zeros_like(high), high, (batch_size, 2), np.int64)
        self.action_space = spaces.MultiDiscrete(np.full((batch_size, k), v, dtype=np.int64))
        if split == "test":
            self._questions = self._test_questions(test, test_pairs)
        self._data = train
        self._index = self._batch = 0
        self.batches_per_epoch = self._count_batches()
        self._current: tuple[np.ndarray, np.ndarray, np.ndarray] = self._make_batch()
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    # ----- questions ---------------------------------------------------------------------------------------
    def _test_questions(self, test: np.ndarray, test_pairs: int) -> list[tuple[np.ndarray, np.ndarray, int]]:
        """(word ids, targets, kind) of each evaluation batch (rlkit.envs.word2vec_data.test_questions)."""
        return test_questions(
            test, self.skip_window, self.batch_size, test_pairs, self.synonym_pairs, self.probe_ids
        )

    def _count_batches(self) -> int:
        if self.split == "test":
            return len(self._questions)
        centers = self.batch_size // self.num_skips
        return -(-len(self._data) // centers)

    def _make_batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(observation, targets, mask) of the current batch."""
        if self.split == "test":
            ids, targets, kind = self._questions[min(self._batch, len(self._questions) - 1)]
            mask = np.zeros(self.batch_size, dtype=bool)
            mask[: len(ids)] = True
            obs = np.stack([ids, np.full(len(ids), kind, dtype=np.int64)], axis=1)
            return pad_batch(obs, self.batch_size), pad_batch(targets, self.batch_size), mask
        batch, labels, self._index = generate_batch(
            self._data, self._index, self.batch_size, self.num_skips, self.skip_window, self.np_random
        )
        obs = np.stack([batch, np.zeros_like(batch)], axis=1)
        return obs, labels[:, 0], np.ones(self.batch_size, dtype=bool)

    # ----- the Gymnasium API -------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Starts a pass over the split (training: from the corpus start, subsampled anew if asked)."""
        super().reset(seed=seed)
        self._index = self._batch = 0
        self._last = None
        if self.split == "train" and self.subsample > 0:
            keep = subsample_keep(self.train_ids, self.vocab.counts, self.subsample, self.np_random)
            kept = self.train_ids[keep]
            self._data = kept if len(kept) > 2 * self.skip_window else self.train_ids
            self.batches_per_epoch = self._count_batches()
        self._current = self._make_batch()
        return self._current[0].copy(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Scores the answers to the current batch, reveals its targets, shows the next batch."""
        answers = np.asarray(action).reshape(self.batch_size, self.k)
        obs, targets, mask = self._current
        metrics = {**self.score(obs, answers, targets, mask), "count": float(mask.sum())}
        kind = int(obs[0, 1])
        reward = float(metrics.get("accuracy" if kind == CONTEXT else "synonym_recall", 0.0))
        self._last = (obs, answers, targets, mask)
        self._batch += 1
        terminated = self._batch >= self.batches_per_epoch
        if not terminated:
            self._current = self._make_batch()
        info = {"targets": targets, "mask": mask, "metrics": metrics}
        return self._current[0].copy(), reward, terminated, False, info

    def score(
        self, obs: np.ndarray, answers: np.ndarray, targets: np.ndarray, mask: np.ndarray
    ) -> dict[str, float]:
        """Metrics of a batch's answers over its real rows (probe rows have no target: no score)."""
        real = mask & (targets >= 0)
        if not real.any():
            return {}
        first = float((answers[real, 0] == targets[real]).mean())
        within = float((answers[real] == targets[real, None]).any(axis=1).mean())
        if obs[0, 1] == CONTEXT:
            return {"accuracy": first, "top_k_accuracy": within}
        return {"synonym_recall": within, "synonym_recall_at_1": first}

    def render(self) -> str | None:
        """The last answered batch as text ("Nearest to X: ..." or context predictions), else the next one."""
        if self.render_mode != "ansi":
            return None
        if self._last is None:
            obs, _, mask = self._current
            words = " ".join(self.vocab.words[i] for i in obs[mask, 0][:16])
            return f"{self.split} batch 1/{self.batches_per_epoch}: {words} ...\n"
        obs, answers, targets, mask = self._last
        head = f"{self.split} batch {self._batch}/{self.batches_per_epoch}"
        w = self.vocab.words
        if obs[0, 1] == NEIGHBOURS:
            lines = [f"{head}: nearest neighbours (cosine similarity)"]
            for row in np.flatnonzero(mask):
                line = f"Nearest to {w[obs[row, 0]]}: {', '.join(w[i] for i in answers[row])}"
                if targets[row] >= 0:
                    hit = np.flatnonzero(answers[row] == targets[row])
                    rank = f"rank {hit[0] + 1}" if len(hit) else f"not in the top {self.k}"
                    line += f"   [planted partner {w[targets[row]]}: {rank}]"
                lines.append(line)
        else:
            lines = [f"{head}: center -> predicted context words (true context)"]
            for row in np.flatnonzero(mask)[:12]:
                guess = ", ".join(w[i] for i in answers[row, :4])
                lines.append(f"{w[obs[row, 0]]:>14} -> {guess} ({w[targets[row]]})")
        return "\n".join(lines) + "\n"

    # ----- what a trained agent learned ------------------------------------------------------------------
    def report_queries(self) -> np.ndarray:
        """The words the nearest-neighbour report covers: the planted synonyms, else the probe words."""
        if self.synonym_pairs:
            return np.array([i for pair in self.synonym_pairs for i in pair], dtype=np.int64)
        return self.probe_ids

    def rollout_files(self, agent: Any, out_dir: str | Path, prefix: str = "latest") -> list[Path]:
        """Writes <prefix>_neighbours.txt (the report) and <prefix>_map.png (the 2-D map) of an agent."""
        if not hasattr(agent, "embeddings"):
            raise UserError("the word2vec report needs a trained word2vec agent (one with embeddings)")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        report = out_dir / f"{prefix}_neighbours.txt"
        report.write_text(neighbour_report(agent, self), encoding="utf-8")
        vectors = agent.embeddings()
        ids = np.arange(1, min(self.map_words, len(self.vocab) - 1) + 1)
        pairs = [(a, b) for a, b in self.synonym_pairs if a in ids and b in ids]
        picture = embedding_map_png(
            vectors[ids],
            [self.vocab.words[i] for i in ids],
            out_dir / f"{prefix}_map.png",
            self.map_method,
            [(int(np.flatnonzero(ids == a)[0]), int(np.flatnonzero(ids == b)[0])) for a, b in pairs],
        )
        return [report, picture]
