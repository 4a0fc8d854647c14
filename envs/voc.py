"""Pascal VOC as a detection task (rlkit/VOC-v0, `env=voc env.kwargs.root=<VOCdevkit/VOC2012>`).

Reads what the VOC tar holds: ``ImageSets/Main/<split>.txt`` (image ids; VOC's own "train" and "val" lists,
used as rlkit's train and test splits by default), ``Annotations/<id>.xml`` (objects: name, bndbox in
1-based inclusive pixels, difficult flag) and ``JPEGImages/<id>.jpg``. Images are resized to `image_size` x
`image_size` (boxes scaled with them) so that a minibatch is one array; objects flagged difficult are left
out (VOC's evaluation ignores them; here a detection of one counts as a false positive). The 20 VOC classes
are the label set. Everything else is rlkit.envs.detection's DetectionEnv.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from rlkit.core.errors import UserError
from rlkit.envs.detection import DetectionEnv
from rlkit.envs.supervised import SPLITS, check_choice, check_positive

VOC_CLASSES = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable",
    "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip


def read_annotation(path: Path) -> tuple[tuple[int, int], np.ndarray]:
    """((width, height), objects (k, 5) x1, y1, x2, y2, class) of one VOC XML file; difficult objects are
    left out; boxes become 0-based with exclusive x2, y2 (VOC's 1..W inclusive -> 0..W)."""
    try:
        root = ET.parse(path).getroot()
        size = root.find("size")
        wh = (int(size.findtext("width")), int(size.findtext("height")))
        rows = []
        for obj in root.iter("object"):
            name = obj.findtext("name", "").strip()
            if name not in VOC_CLASSES:
                raise UserError(f"{path}: unknown class {name!r}; VOC's classes are {', '.join(VOC_CLASSES)}")
            if obj.findtext("difficult", "0").strip() == "1":
                continue
            box = obj.find("bndbox")
            x1, y1, x2, y2 = (float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
            rows.append((x1 - 1, y1 - 1, x2, y2, VOC_CLASSES.index(name)))
    except (ET.ParseError, AttributeError, TypeError, ValueError) as err:
        raise UserError(
            f"{path}: not a VOC annotation (size/width/height and object/bndbox expected)"
        ) from err
    return wh, np.array(rows, dtype=np.float32).reshape(-1, 5)


def load_voc(root: Path, list_name: str, image_size: int, limit: int | None) -> tuple[np.ndarray, list]:
    """(images (n, 3, S, S) uint8, objects) of the ids in ImageSets/Main/<list_name>.txt, resized to S."""
    from PIL import Image

    ids_file = root / "ImageSets" / "Main" / f"{list_name}.txt"
    if not ids_file.is_file():
        raise UserError(
            f"env.kwargs.root={root}: {ids_file} not found; root must be a VOC year folder"
            " (VOCdevkit/VOC2012) holding ImageSets/Main, Annotations and JPEGImages"
        )
    ids = [line.split()[0] for line in ids_file.read_text().splitlines() if line.strip()][:limit]
    images, objects = [], []
    for image_id in ids:
        (w, h), obj = read_annotation(root / "Annotations" / f"{image_id}.xml")
        jpg = root / "JPEGImages" / f"{image_id}.jpg"
        try:
            img = Image.open(jpg).convert("RGB")
        except OSError as err:
            raise UserError(f"{jpg}: cannot read the image ({err})") from err
        images.append(np.asarray(img.resize((image_size, image_size), Image.BILINEAR)).transpose(2, 0, 1))
        obj[:, [0, 2]] *= image_size / w
        obj[:, [1, 3]] *= image_size / h
        objects.append(obj)
    if not images:
        raise UserError(f"{ids_file} lists no images")
    return np.stack(images), objects


class VocEnv(DetectionEnv):
    """Pascal VOC's detection data, resized (module docstring).

    Arguments: root (the VOC year folder), split (train | test), train_list (train), test_list (val),
    image_size (128), batch_size (16), limit (None: every listed image; N: the first N), render_mode.
    """

    def __init__(
        self,
        root: str | None = None,
        split: str = "train",
        train_list: str = "train",
        test_list: str = "val",
        image_size: int = 128,
        batch_size: int = 16,
        limit: int | None = None,
        render_mode: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        check_positive("image_size", image_size)
        if limit is not None:
            check_positive("limit", limit)
        if not root:
            raise UserError("env=voc needs env.kwargs.root=<VOCdevkit/VOC2012> (VOC is not downloaded)")
        images, objects = load_voc(
            Path(root).expanduser(), train_list if split == "train" else test_list, image_size, limit
        )
        self._setup(images, objects, VOC_CLASSES, split, batch_size, render_mode)
