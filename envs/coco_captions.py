"""MS COCO captions as a captioning task (the book's chapter 17 data, read as COCO ships it).

`env=coco_captions env.kwargs.root=DIR` reads ``DIR/annotations/captions_train2014.json`` and the images in
``DIR/train2014/`` for the train split, ``captions_val2014.json`` and ``val2014/`` for the test split (COCO
2014's layout; `train_name`/`test_name` choose others, e.g. ``train2017``). Images are resized to
`image_size` squares (uint8, channels first); captions are lower-cased and split into words (letters,
digits, apostrophes), five per image (the first five; fewer are cycled). The vocabulary is the train
captions' words seen at least `min_count` times (the test split reads the train JSON for it); other words
read as ``<unk>``. `limit` keeps the first images of a split (COCO is large; a CPU trains on a few
thousand). Scoring is rlkit.envs.shapes_captions.CaptionsEnv's: BLEU-1..4 against the references.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

from rlkit.core.errors import UserError
from rlkit.core.tokens import SPECIALS
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
    root (required), split ("train" | "test"), train_name ("train2014"), test_name ("val2014"),
    image_size (64), limit (None: every image with captions), min_count (5), max_len (16), batch_size (64),
    shuffle (None: True for train), render_mode (None | "ansi").
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
    ):
        check_choice("split", split, SPLITS)
        for key, value in (("image_size", image_size), ("min_count", min_count)):
            check_positive(key, value)
        if not root:
            raise UserError(
                "env=coco_captions needs env.kwargs.root=<folder with annotations/ and train2014/>"
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
