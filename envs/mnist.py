"""MNIST's idx files (Yann LeCun's format, plain or gzip) and scikit-learn's bundled 8x8 digits, as arrays.

The book (chapter 1) reads MNIST through TensorFlow's `read_data_sets("MNIST_data/")`, which downloads. Here a
run never downloads unless the user asks (`env.kwargs.download=true`): MNIST is read from the four idx files
in `data_dir`, and the offline default is scikit-learn's 1,797 8x8 digits, which ship inside that package.
Every file error names the path and what was expected.
"""

from __future__ import annotations

import functools
import gzip
import struct
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from rlkit.core.errors import UserError

# idx type byte -> big-endian numpy dtype
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


def parse_idx(raw: bytes, where: str | Path) -> np.ndarray:
    """Decodes idx bytes: magic 0x0000<type><ndim>, ndim big-endian uint32 sizes, then the data."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise UserError(
            f"{where} is not an idx file: expected the magic bytes 00 00 <type> <ndim> with type one of "
            f"08 09 0B 0C 0D 0E, got {raw[:4].hex(' ') or 'an empty file'}"
        )
    ndim, header = raw[3], 4 + 4 * raw[3]
    if len(raw) < header:
        raise UserError(
            f"{where} is truncated: its header announces {ndim} dimensions but the file ends first"
        )
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(raw) - header != expected:
        raise UserError(
            f"{where} is malformed: its header says shape {tuple(dims)} of {dtype.name} "
            f"({expected} data bytes), "
            f"but it holds {len(raw) - header} data bytes"
        )
    return np.frombuffer(raw, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def read_idx(path: str | Path) -> np.ndarray:
    """Reads one idx file, gzip-compressed (detected by its magic bytes, whatever the name) or plain."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"idx file not found: {path}")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise UserError(
                f"{path} is not a valid gzip file ({err}); expected a gzip-compressed idx file"
            ) from err
    return parse_idx(raw, path)


def find_idx(data_dir: Path, stem: str) -> Path:
    """`<data_dir>/<stem>.gz` or `<data_dir>/<stem>`, else a UserError saying where to get them."""
    for name in (f"{stem}.gz", stem):
        if (data_dir / name).is_file():
            return data_dir / name
    names = ", ".join(f"{s}.gz" for pair in MNIST_FILES.values() for s in pair)
    raise UserError(
        f"MNIST file not found: looked for {data_dir / stem}.gz and {data_dir / stem}. Expected MNIST's "
        f"four idx files ({names}; plain or gzip) in that folder: set env.kwargs.data_dir=<folder>, or "
        f"env.kwargs.download=true to download them there. The offline default is env=digits."
    )


def download_mnist(data_dir: Path) -> None:
    """Downloads the four gzip idx files that are missing from `data_dir` (only when the user asked)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for stem in (s for pair in MNIST_FILES.values() for s in pair):
        target = data_dir / f"{stem}.gz"
        if target.is_file() or (data_dir / stem).is_file():
            continue
        errors = []
        for mirror in MNIST_MIRRORS:
            try:
                with urllib.request.urlopen(mirror + target.name, timeout=30) as response:
                    data = response.read()
                tmp = target.with_suffix(".part")
                tmp.write_bytes(data)
                tmp.replace(target)
                break
            except OSError as err:
                errors.append(f"{mirror}: {err}")
        else:
            raise UserError(f"could not download {target.name} into {data_dir}: {'; '.join(errors)}")


def load_mnist(data_dir: str | Path, split: str, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 1, 28, 28), labels int64 (N,)) of MNIST's train (60,000) or test (10,000) split."""
    data_dir = Path(data_dir).expanduser().resolve()
    if download:
        download_mnist(data_dir)
    return _load_mnist_cached(str(data_dir), split)


@functools.lru_cache(maxsize=4)
def _load_mnist_cached(data_dir: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    image_file, label_file = (find_idx(Path(data_dir), stem) for stem in MNIST_FILES[split])
    images, labels = read_idx(image_file), read_idx(label_file)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise UserError(
            f"{image_file}: expected uint8 images of shape (N, rows, cols), got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise UserError(
            f"{label_file}: expected one label per image of {image_file} ({len(images)}), "
            f"got shape {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise UserError(f"{label_file}: expected labels 0-9, found {labels.min()}..{labels.max()}")
    images = images[:, None]
    images.flags.writeable = False
    return images, labels.astype(np.int64)


def load_sklearn_digits(
    split: str, test_fraction: float = 0.2, split_seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 1, 8, 8) scaled from 0-16 to 0-255, labels int64) of a fixed random split."""
    images, labels = _sklearn_digits()
    order = np.random.default_rng(split_seed).permutation(len(labels))
    n_test = round(len(labels) * test_fraction)
    rows = order[n_test:] if split == "train" else order[:n_test]
    return images[rows], labels[rows]


@functools.lru_cache(maxsize=1)
def _sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise UserError(
            "env 'digits' reads the 8x8 digits bundled with scikit-learn, which is not installed: "
            "pip install scikit-learn (or use env=mnist with MNIST's idx files)"
        ) from err
    data = load_digits()
    images = np.rint(data.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    return images, data.target.astype(np.int64)
