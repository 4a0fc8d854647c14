"""An LFW-style face folder and its pairs file (the book's validate_on_lfw input), read without images.

Layout: ``<root>/<person>/<person>_<NNNN>.<ext>`` (one sub-folder per identity, images numbered from 1).
Pairs file (LFW's pairs.txt): an optional header line ``<folds> <pairs per kind>``, then one pair per line:
``name n1 n2`` (two images of one person) or ``name1 n1 name2 n2`` (two people). `FaceFolderEnv`
(`env=face_folder env.kwargs.root=... env.kwargs.pairs=...`) is the face-embedding task of
rlkit.envs.identities on such a folder; the pairs' order is kept, so rlkit.envs.verification's 10
contiguous folds are LFW's own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rlkit.core.errors import UserError
from rlkit.envs.face_crop import crop_faces
from rlkit.envs.identities import EmbeddingTaskEnv, make_pairs
from rlkit.envs.identities_plots import load_images
from rlkit.envs.supervised import SPLITS, check_choice, check_positive


def face_path(root: Path, name: str, number: int, ext: str = "jpg") -> Path:
    """<root>/<name>/<name>_<number, 4 digits>.<ext>, as LFW names its images."""
    return Path(root) / name / f"{name}_{int(number):04d}.{ext}"


def read_pairs(root: str | Path, pairs_file: str | Path, ext: str = "jpg") -> tuple[list, np.ndarray]:
    """([(image a, image b), ...], same-person flags) of a pairs file, every image checked to exist."""
    root, pairs_file = Path(root), Path(pairs_file)
    if not pairs_file.is_file():
        raise UserError(
            f"pairs file {pairs_file} not found (LFW's pairs.txt: 'name n1 n2' / 'a n1 b n2' lines)"
        )
    pairs, same = [], []
    for k, line in enumerate(pairs_file.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields or (k == 1 and len(fields) == 2 and all(f.isdigit() for f in fields)):
            continue  # a blank line, or the header "<folds> <pairs per kind>"
        try:
            if len(fields) == 3:
                a, b = face_path(root, fields[0], fields[1], ext), face_path(root, fields[0], fields[2], ext)
            elif len(fields) == 4:
                a, b = face_path(root, fields[0], fields[1], ext), face_path(root, fields[2], fields[3], ext)
            else:
                raise ValueError
        except ValueError as err:
            raise UserError(
                f"{pairs_file}:{k}: {line.strip()!r} is not 'name n1 n2' or 'name1 n1 name2 n2'"
            ) from err
        for path in (a, b):
            if not path.is_file():
                raise UserError(
                    f"{pairs_file}:{k}: image {path} not found (layout <root>/<name>/<name>_0001.{ext})"
                )
        pairs.append((a, b))
        same.append(len(fields) == 3)
    if not pairs:
        raise UserError(f"{pairs_file} lists no pairs")
    return pairs, np.array(same, dtype=bool)


def identities(root: str | Path, ext: str = "jpg", min_images: int = 1) -> dict[str, list[Path]]:
    """{person: sorted image paths} for every sub-folder of root with at least `min_images` images."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"face folder {root} not found (one sub-folder of images per person)")
    found = {d.name: sorted(d.glob(f"*.{ext}")) for d in sorted(root.iterdir()) if d.is_dir()}
    return {name: files for name, files in found.items() if len(files) >= min_images}


def load_faces(paths: list[Path], image_size: int, grayscale: bool, crop: bool = False) -> np.ndarray:
    """The images at `paths` as uint8 (N, C, image_size, image_size), C = 1 (grayscale) or 3; with `crop`,
    each the crop of its largest face found by OpenCV's Haar cascade (the whole image when none is)."""
    from PIL import Image

    if not crop:
        return load_images(paths, (1 if grayscale else 3, image_size, image_size))
    out = []
    for path in paths:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        faces = crop_faces(rgb, image_size) or [np.asarray(Image.fromarray(rgb).resize((image_size,) * 2))]
        face = np.asarray(Image.fromarray(faces[0]).convert("L"))[..., None] if grayscale else faces[0]
        out.append(face.transpose(2, 0, 1))
    return np.stack(out)


class FaceFolderEnv(EmbeddingTaskEnv):
    """`env=face_folder`: train an embedding on the identities of an LFW-style folder, verify a pairs file.

    split="train": every image of the people with >= `min_images` images (identities 0..K-1 in name order).
    split="test": the pairs of `pairs` (LFW's pairs.txt, its 10 folds in order), or, without one, `num_pairs`
    pairs drawn from the folder (rlkit.envs.identities.make_pairs). Images are resized to `image_size`
    `images_per_person` (null) = k: training batches in runs of k images of one person (FaceNet's sampling).
    (faces are expected cropped: with `crop=true` each image is first cropped to its largest face by
    OpenCV's Haar cascade, rlkit.envs.face_crop).
    """

    def __init__(
        self,
        root: str | None = None,
        pairs: str | None = None,
        split: str = "train",
        image_size: int = 64,
        grayscale: bool = False,
        crop: bool = False,
        min_images: int = 1,
        num_pairs: int = 600,
        pair_seed: int = 0,
        ext: str = "jpg",
        batch_size: int = 64,
        images_per_person: int | None = None,
        embedding_width: int = 128,
        render_mode: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        check_positive("image_size", image_size)
        if root is None:
            raise UserError("env=face_folder needs env.kwargs.root=<folder with one sub-folder per person>")
        people = identities(root, ext, min_images)
        if not people:
            raise UserError(f"face folder {root} holds no person folders with *.{ext} images")
        if split == "test" and pairs is not None:
            pair_paths, same = read_pairs(root, pairs, ext)
            files = sorted({p for pair in pair_paths for p in pair})
            index = {p: i for i, p in enumerate(files)}
            rows = np.array([(index[a], index[b]) for a, b in pair_paths], dtype=np.int64)
            names = sorted({p.parent.name for p in files})
            pos = {n: i for i, n in enumerate(names)}
            labels = np.array([pos[p.parent.name] for p in files], dtype=np.int64)
        else:
            names = sorted(people)
            files = [f for name in names for f in people[name]]
            labels = np.array([k for k, name in enumerate(names) for _ in people[name]], dtype=np.int64)
            rows, same = (None, None) if split == "train" else make_pairs(labels, num_pairs, pair_seed)
        images = load_faces(files, image_size, grayscale, crop)
        super().__init__(
            images, labels, names, rows, same, batch_size, embedding_width, render_mode, images_per_person
        )
