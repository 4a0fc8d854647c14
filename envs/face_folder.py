"""An LFW-style face folder and its pairs file (the book's validate_on_lfw input), read without images.

Layout: ``<root>/<person>/<person>_<NNNN>.<ext>`` (one sub-folder per identity, images numbered from 1).
Pairs file (LFW's pairs.txt): an optional header line ``<folds> <pairs per kind>``, then one pair per line:
``name n1 n2`` (two images of one person) or ``name1 n1 name2 n2`` (two people). Building block for the
faces part of issue 18 (`env=face_folder` is not written yet); the pairs' order is kept, so
rlkit.envs.verification's 10 contiguous folds are LFW's own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rlkit.core.errors import UserError


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
