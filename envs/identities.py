"""Face-embedding tasks (book chapter 6): train an embedding on some identities, verify pairs of others.

`EmbeddingTaskEnv` is the shared task (rlkit.envs.supervised's pattern: an episode is one epoch, the
observation a minibatch of images, the action the agent's answer): the action is one embedding per image,
Box [-1, 1] (batch, embedding_width), unit vectors (an agent with fewer dimensions pads with zeros, which
changes no distance).

* split="train": images of the training identities, shuffled; ``info["targets"]`` reveals each image's
  identity (0..K-1), so an embedding agent trains a softmax / center / triplet loss on them. Reward: the
  batch's nearest-neighbour accuracy (share of images whose closest other image in the batch, by the
  embedding, is of the same identity).
* split="test": open-set verification as LFW: the images of pairs (a_0, b_0, a_1, b_1, ...) of held-out
  identities, in order; the epoch's last step computes, from the squared distances of each pair's
  embeddings, the book's validate_on_lfw numbers (rlkit.envs.verification): eval/verification_accuracy
  (10-fold, the headline and the last step's reward), eval/verification_accuracy_std, eval/val_at_far
  (FAR 1e-3), eval/far, eval/auc, eval/eer.

`IdentitiesEnv` (`env=identities`), offline. The default, `dataset="faces"`: generated face identities
(rlkit.envs.synthetic_faces): identities 0-199 train (10 images each), identities 200-299 (never seen in
training) make 600 pairs, 10 folds of 30 same + 30 different pairs, as LFW's 10 folds of 300 + 300. Why
generated: verification is open-set (the embedding must separate people it never saw, which a classifier
cannot do by its labels) and needs many identities to mean something; no bundled data set has them.
`dataset="digits"`: digits 0-5 of scikit-learn's 8x8 digits train, pairs of digits 6-9 test (only 6
training identities: an embedding of 6 classes does not generalise to 4 new ones better than the raw
pixels do, benchmarks/README.md). `dataset="mnist"` reads MNIST (data_dir): the training digits from its
train split, the pairs from its test split. `env=face_folder` (rlkit.envs.face_folder) is the same task on an
LFW-style folder of photos.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from rlkit.core.errors import UserError
from rlkit.core.headline import Headline
from rlkit.envs.digits import DATASETS, select_classes
from rlkit.envs.identities_plots import distance_report, embedding_plot, load_images
from rlkit.envs.mnist import load_mnist, load_sklearn_digits
from rlkit.envs.supervised import (
    SPLITS,
    SupervisedEnv,
    caption_color,
    check_choice,
    check_positive,
    tile_grid,
)
from rlkit.envs.synthetic_faces import make_faces
from rlkit.envs.verification import verification_metrics


def make_pairs(labels: np.ndarray, pairs: int, seed: int, folds: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """((pairs, 2) image indices, same flags): `folds` contiguous folds, each half same-identity pairs (two
    distinct images of one identity) and half different-identity pairs, drawn with `seed`."""
    rng = np.random.default_rng(seed)
    ids = np.unique(labels)
    by_id = {i: np.flatnonzero(labels == i) for i in ids}
    repeated = [i for i in ids if len(by_id[i]) >= 2]
    if len(ids) < 2 or not repeated:
        raise UserError("verification pairs need >= 2 identities and one with >= 2 images")
    rows, same = [], []
    per_fold = max(2, pairs // folds)
    for _ in range(folds):
        for k in range(per_fold):
            if k < per_fold // 2:
                a, b = rng.choice(by_id[rng.choice(repeated)], 2, replace=False)
            else:
                i, j = rng.choice(ids, 2, replace=False)
                a, b = rng.choice(by_id[i]), rng.choice(by_id[j])
            rows.append((a, b))
            same.append(k < per_fold // 2)
    return np.array(rows, dtype=np.int64), np.array(same, dtype=bool)


def nn_accuracy(emb: np.ndarray, labels: np.ndarray) -> float:
    """Share of rows whose nearest other row (Euclidean) has the same label (0 for fewer than 2 rows)."""
    if len(emb) < 2:
        return 0.0
    sq = (emb * emb).sum(1)
    d = sq[:, None] - 2 * emb @ emb.T + sq[None, :]
    np.fill_diagonal(d, np.inf)
    return float(np.mean(labels[d.argmin(1)] == labels))


class EmbeddingTaskEnv(SupervisedEnv):
    """Train an embedding on identities, or verify pairs (module docstring); subclasses load the data."""

    reward_key = "nn_accuracy"
    headline = Headline("verification accuracy", "verification_accuracy")

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        names: list[str],
        pairs: np.ndarray | None,
        same: np.ndarray | None,
        batch_size: int,
        embedding_width: int,
        render_mode: str | None = None,
        images_per_person: int | None = None,
    ):
        check_positive("embedding_width", embedding_width)
        if images_per_person is not None:
            check_positive("images_per_person", images_per_person)
        self.images_per_person = images_per_person
        if pairs is not None and len(pairs) < 10:
            raise UserError(f"{len(pairs)} verification pairs: 10-fold verification needs at least 10")
        self.identity_names, self.pairs, self.same = list(names), pairs, same
        inputs, targets = (
            (images, labels) if pairs is None else (images[pairs.ravel()], labels[pairs.ravel()])
        )
        obs_space = spaces.Box(0, 255, (batch_size, *images.shape[1:]), np.uint8)
        act_space = spaces.Box(-1.0, 1.0, (batch_size, embedding_width), np.float32)  # unit vectors
        super().__init__(
            inputs, targets.astype(np.int64), batch_size, pairs is None, obs_space, act_space, render_mode
        )
        self._emb: list[np.ndarray] = []

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Starts an epoch (the pairs' embeddings collected anew)."""
        self._emb = []
        obs, info = super().reset(seed=seed, options=options)
        if self.pairs is None and self.images_per_person is not None:
            self._order, self._batch = self._grouped_order(self.images_per_person), 0
            obs = self._current = self._obs()
        return obs, info

    def _grouped_order(self, k: int) -> np.ndarray:
        """An epoch's order in runs of up to k images of one identity, the runs shuffled: a batch of B then
        holds about B / k identities with k images each (FaceNet's people_per_batch x images_per_person),
        so the triplet loss finds positives in every batch."""
        runs = []
        for identity in np.unique(self.targets):
            rows = self.np_random.permutation(np.flatnonzero(self.targets == identity))
            runs += [rows[i : i + k] for i in range(0, len(rows), k)]
        return np.concatenate([runs[i] for i in self.np_random.permutation(len(runs))])

    def score(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
        """The batch's nearest-neighbour accuracy."""
        return {"nn_accuracy": nn_accuracy(pred[mask].astype(np.float64), target[mask])}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """As SupervisedEnv; on the test split the last step scores every pair (reward: the accuracy)."""
        action = np.asarray(action, dtype=np.float32).reshape(self.action_space.shape)
        obs, reward, terminated, truncated, info = super().step(action)
        if self.pairs is None:
            return obs, reward, terminated, truncated, info
        self._emb.append(action[info["mask"]])
        reward = 0.0
        if terminated:
            info["metrics"].update(self.verify(np.concatenate(self._emb)))
            reward = info["metrics"]["verification_accuracy"]
        return obs, reward, terminated, truncated, info

    def verify(self, emb: np.ndarray) -> dict[str, float]:
        """validate_on_lfw's numbers from the embeddings of the pair images (a_0, b_0, a_1, ...)."""
        dist = ((emb[0::2].astype(np.float64) - emb[1::2]) ** 2).sum(1)
        m = verification_metrics(dist, self.same)
        return {
            "verification_accuracy": m["accuracy"],
            "verification_accuracy_std": m["accuracy_std"],
            "val_at_far": m["val"],
            "far": m["far"],
            "auc": m["auc"],
            "eer": m["eer"],
        }

    def draw(
        self, obs: np.ndarray, target: np.ndarray, pred: np.ndarray | None, mask: np.ndarray
    ) -> np.ndarray:
        """The first 32 images of the batch captioned with their identity (and, after a step, the identity
        of their nearest neighbour in the batch: green when it is the same)."""
        rows = np.flatnonzero(mask)[:32]
        near = None
        if pred is not None:
            emb = pred[mask].astype(np.float64)
            sq = (emb * emb).sum(1)
            d = sq[:, None] - 2 * emb @ emb.T + sq[None, :]
            np.fill_diagonal(d, np.inf)
            near = target[mask][d.argmin(1)]
        zoom = max(1, 48 // obs.shape[-1])
        tiles, captions, colors = [], [], []
        for k, i in enumerate(rows):
            img = np.kron(obs[i], np.ones((1, zoom, zoom), dtype=np.uint8)).transpose(1, 2, 0)
            tiles.append(np.repeat(img, 3, axis=2) if img.shape[2] == 1 else img)
            name = self.identity_names[int(target[i])][:8]
            captions.append(name if near is None else f"{name}:{self.identity_names[int(near[k])][:8]}")
            colors.append(caption_color(target[i], None if near is None else near[k]))
        return tile_grid(tiles, captions, colors, slots=min(32, len(mask)))

    # ----- rlkit play ---------------------------------------------------------------------------------------
    def rollout_files(self, agent: Any, out_dir: str | Path, prefix: str = "latest") -> list[Path]:
        """`rlkit play run=`: <prefix>_embeddings.png, the split's images' features in 2-D (the book's Fig
        6-10/6-11; PCA when the embedding has more than 2 dimensions)."""
        if not callable(getattr(agent, "features", None)):
            raise UserError("the embedding plot needs a trained embedding agent (agent=embedding)")
        images, labels = self.inputs, self.targets
        feats = np.concatenate([agent.features(images[i : i + 500]) for i in range(0, len(images), 500)])
        path = Path(out_dir) / f"{prefix}_embeddings.png"
        return [embedding_plot(feats, labels, self.identity_names, path)]

    def answer_inputs(self, agent: Any, paths: list[Path], out_dir: Path) -> list[Path]:
        """`rlkit play run= input=a.png,b.png,...`: prints the images' distance matrix as the book's
        compare.py (Euclidean distances of the L2-normalised embeddings) and writes it to
        <out_dir>/distances.txt."""
        images = load_images(paths, self.observation_space.shape[1:])
        emb = np.concatenate([agent.embed(images[i : i + 500]) for i in range(0, len(images), 500)])
        report = distance_report(paths, emb)
        print(report, end="", flush=True)
        out = Path(out_dir) / "distances.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report, encoding="utf-8")
        return [out]


class IdentitiesEnv(EmbeddingTaskEnv):
    """Generated faces or digits as identities: train on some, verify pairs of the others (module docstring).

    Arguments: split ("train" | "test"), dataset ("faces" | "digits" | "mnist"), train_identities (faces:
    200, numbered 0..199) and test_identities (faces: 100 others), images_per_identity (faces: 10),
    train_classes (digits: [0..5]; the other digits are held out), pairs (600: 10 folds, each half same and
    half different), pair_seed (0), data_seed (faces: 0), batch_size (100), images_per_person (null: plain
    shuffling; k: training batches in runs of k images of one identity, FaceNet's sampling),
    embedding_width (128: the widest embedding an agent may answer), data_dir (MNIST's folder), render_mode
    (None | "rgb_array").
    """

    def __init__(
        self,
        split: str = "train",
        dataset: str = "faces",
        train_identities: int = 200,
        test_identities: int = 100,
        images_per_identity: int = 10,
        train_classes: list[int] | None = None,
        pairs: int = 600,
        pair_seed: int = 0,
        data_seed: int = 0,
        batch_size: int = 100,
        images_per_person: int | None = None,
        embedding_width: int = 128,
        data_dir: str = "MNIST_data",
        render_mode: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        check_choice("dataset", dataset, ("faces", *DATASETS))
        for key in ("pairs", "train_identities", "test_identities", "images_per_identity"):
            check_positive(key, locals()[key])
        if dataset == "faces":
            first, count = (0, train_identities) if split == "train" else (train_identities, test_identities)
            images, labels = make_faces(list(range(first, first + count)), images_per_identity, data_seed)
            names = [f"id{k}" for k in range(first, first + count)]
        else:
            images, labels, names = digit_identities(split, dataset, train_classes, data_dir)
        pair_rows, same = (None, None) if split == "train" else make_pairs(labels, pairs, pair_seed)
        rest = (batch_size, embedding_width, render_mode, images_per_person)
        super().__init__(images, labels, names, pair_rows, same, *rest)


def digit_identities(
    split: str, dataset: str, train_classes: list[int] | None, data_dir: str
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images, labels, names) of the training digits (train) or of the held-out ones (test)."""
    train_classes = list(range(6)) if train_classes is None else [int(c) for c in train_classes]
    held_out = [d for d in range(10) if d not in train_classes]
    if len(held_out) < 2:
        raise UserError(f"env.kwargs.train_classes={train_classes} leaves < 2 digits held out for pairs")
    if dataset == "mnist":
        images, labels = load_mnist(data_dir, split, False)
    else:
        parts = [load_sklearn_digits(s) for s in SPLITS]
        images, labels = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    return select_classes(images, labels, train_classes if split == "train" else held_out)
