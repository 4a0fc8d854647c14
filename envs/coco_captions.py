"""MS COCO captions as a captioning task (the book's chapter 17 data, read as COCO ships it).

`env=coco_captions env.kwargs.root=DIR` reads ``DIR/annotations/captions_train2014.json`` and the images in
``DIR/train2014/`` for the train split, ``captions_val2014.json`` and ``val2014/`` for the test split (COCO
2014's layout; `train_name`/`test_name` choose others, e.g. ``train2017``). Images are resized to
`image_size` squares (uint8, channels first); captions are lower-cased and split into words (letters,
digits, apostrophes), five per image (the first five; fewer are cycled). The vocabulary is the train
captions' words seen at least `min_count` times (the test split reads the train JSON for it); other words
read as ``<unk>``. `limit` keeps the first images of a split (COCO is large; a CPU trains on a few
thousand). Scoring is rlkit.envs.shapes_captions.CaptionsEnv's: BLEU-1..4 against the references.

`env.kwargs.features=DIR/coco2014_captions.h5` reads CS231n assignment 3's pre-extracted data instead, as the
assignment ships it (its ``load_coco_data``): ``<split>_captions`` (word ids, ``<START>`` ... ``<END>``,
``<NULL>``-padded), ``<split>_image_idxs`` (each caption's image) and ``<split>_features`` (one vector per
image: VGG-16 fc7, PCA'd to 512) for split train or val (our test split), the features read from the same
file or, where the assignment keeps them apart, from ``<split>2014_vgg16_fc7_pca.h5`` (then
``..._fc7.h5``) next to it (key ``features``); the words from ``coco2014_vocab.json`` beside it
(``idx_to_word``). The observation is then a minibatch of feature vectors (float32), which the captioning
agents read in place of a CNN. h5py is an optional extra (``pip install -e ".[coco]"``).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

from rlkit.core.errors import UserError
from rlkit.core.tokens import BOS, EOS, PAD, SPECIALS, UNK
from rlkit.envs.shapes_captions import CaptionsEnv
from rlkit.envs.supervised import SPLITS, check_choice, check_positive

WORD = re.compile(r"[a-z0-9']+")


def tokenize(caption: str) -> str:
    """A caption lower-cased, as space-separated words (punctuation dropped)."""
    return " ".join(WORD.findall(caption.lower()))


def read_captions(path: Path) -> tuple[list[dict], dict[int, list[str]]]:
    """(COCO's image records, image id -> its tokenised captions) of a captions JSON file."""
    if not path.is_file():
        raise UserError(f"env.kwargs.root: {path} not found (expected COCO's annotations/captions_*.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        captions: dict[int, list[str]] = {}
        for ann in data["annotations"]:
            captions.setdefault(int(ann["image_id"]), []).append(tokenize(ann["caption"]))
        return list(data["images"]), captions
    except (ValueError, KeyError, TypeError) as err:
        raise UserError(
            f"{path} is not a COCO captions file (needs 'images' and 'annotations'): {err}"
        ) from err


def load_image(path: Path, size: int) -> np.ndarray:
    """An image file as (3, size, size) uint8."""
    from PIL import Image  # Pillow: only when images are read

    if not path.is_file():
        raise UserError(f"env.kwargs.root: image {path} not found (named in the captions file)")
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB").resize((size, size), Image.BILINEAR)).transpose(2, 0, 1).copy()


class CocoCaptionsEnv(CaptionsEnv):
    """Caption minibatches of COCO images; an episode is one epoch, its return the epoch's BLEU-4.

    ## Observation Space
    Box(0, 255, (batch_size, 3, image_size, image_size), uint8).

    ## Action Space
    Box(0, vocab - 1, (batch_size, max_len), int64): caption ids, each ended by ``</s>``.

    ## Arguments
    root (required unless features), split ("train" | "test"), train_name ("train2014"), test_name
    ("val2014"), image_size (64), limit (None: every image with captions), min_count (5), max_len (16),
    batch_size (64), shuffle (None: True for train), render_mode (None | "ansi"), features (None, or CS231n's
    coco2014_captions.h5: the observation is then Box(-inf, inf, (batch_size, feature_dim), float32)).
    """

    def __init__(
        self,
        root: str | None = None,
        split: str = "train",
        train_name: str = "train2014",
        test_name: str = "val2014",
        image_size: int = 64,
        limit: int | None = None,
        min_count: int = 5,
        max_len: int = 16,
        batch_size: int = 64,
        shuffle: bool | None = None,
        render_mode: str | None = None,
        features: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        for key, value in (("image_size", image_size), ("min_count", min_count)):
            check_positive(key, value)
        if features:
            feats, caps, vocab = read_cs231n(Path(features).expanduser(), split, limit)
            self.setup(feats, caps, vocab, split, max_len, batch_size, shuffle, render_mode)
            return
        if not root:
            raise UserError(
                "env=coco_captions needs env.kwargs.root=<folder with annotations/ and train2014/> or "
                "env.kwargs.features=<CS231n's coco2014_captions.h5>"
            )
        root_dir = Path(root).expanduser()
        ann = root_dir / "annotations"
        train_records, train_captions = read_captions(ann / f"captions_{train_name}.json")
        counts = Counter(w for caps in train_captions.values() for c in caps for w in c.split())
        vocab = [*SPECIALS, *sorted(w for w, n in counts.items() if n >= min_count and w not in SPECIALS)]
        name = train_name if split == "train" else test_name
        if split == "train":
            records, captions = train_records, train_captions
        else:
            records, captions = read_captions(ann / f"captions_{name}.json")
        records = [r for r in records if int(r["id"]) in captions][:limit]
        if not records:
            raise UserError(f"{ann / f'captions_{name}.json'} has no captioned image")
        images = np.stack([load_image(root_dir / name / r["file_name"], image_size) for r in records])
        caps = [captions[int(r["id"])] for r in records]
        self.setup(images, caps, vocab, split, max_len, batch_size, shuffle, render_mode)


CS231N_SPECIALS = {"<NULL>": PAD, "<UNK>": UNK, "<START>": BOS, "<END>": EOS}


def _h5py():
    """The h5py module; a UserError naming the extra when it is not installed."""
    try:
        import h5py  # optional: only env.kwargs.features reads HDF5
    except ImportError as err:
        raise UserError(
            'env.kwargs.features needs h5py: pip install -e ".[coco]" (or pip install h5py)'
        ) from err
    return h5py


def read_cs231n(path: Path, split: str, limit: int | None) -> tuple[np.ndarray, list[list[str]], list[str]]:
    """(features (n, D) float32, each image's captions as text, vocabulary) of one split of CS231n's
    coco2014_captions.h5 and coco2014_vocab.json (test reads the ``val_`` arrays)."""
    h5py, name = _h5py(), "train" if split == "train" else "val"
    vocab_path = path.parent / "coco2014_vocab.json"
    for file in (path, vocab_path):
        if not file.is_file():
            raise UserError(f"env.kwargs.features: {file} not found (CS231n's coco_captioning folder)")
    words = list(json.loads(vocab_path.read_text(encoding="utf-8"))["idx_to_word"])
    vocab = [*SPECIALS, *(w for w in words if w not in CS231N_SPECIALS)]
    to_ours = {w: i for i, w in enumerate(vocab)}
    ids = np.array([CS231N_SPECIALS.get(w, to_ours.get(w, UNK)) for w in words], dtype=np.int64)
    keys = (f"{name}_captions", f"{name}_image_idxs")
    with h5py.File(path, "r") as f:
        missing = [k for k in keys if k not in f]
        if missing:
            raise UserError(f"{path} is not CS231n's coco2014_captions.h5: no {', '.join(missing)}")
        captions, image_idxs = (np.asarray(f[k]) for k in keys)
        feats = np.asarray(f[f"{name}_features"]) if f"{name}_features" in f else None
    if feats is None:  # the assignment's separate feature files
        found = [path.parent / f"{name}2014_vgg16_fc7{tail}.h5" for tail in ("_pca", "")]
        found = [p for p in found if p.is_file()]
        if not found:
            raise UserError(f"no {name}_features in {path}, nor {name}2014_vgg16_fc7_pca.h5 beside it")
        with h5py.File(found[0], "r") as f:
            feats = np.asarray(f["features"])
    texts: dict[int, list[str]] = {}
    for row, image in zip(ids[captions], image_idxs):
        row = row[1:] if len(row) and row[0] == BOS else row
        end = np.flatnonzero((row == EOS) | (row == PAD))
        body = row[: end[0]] if len(end) else row
        texts.setdefault(int(image), []).append(" ".join(vocab[i] for i in body))
    kept = sorted(texts)[:limit]
    if not kept:
        raise UserError(f"{path} has no {name} caption")
    return feats[kept].astype(np.float32), [texts[k] for k in kept], vocab
