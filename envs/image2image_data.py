"""Images for image translation: bundled photographs, the book's process.py operations, folder loaders.

* `bundled_pairs(split)`: colour photographs that ship inside installed wheels (scikit-image's astronaut,
  rocket, hubble_deep_field, retina, motorcycle_left/right, coffee, chelsea; scikit-learn's china.jpg and
  flower.jpg), each scaled to a short side of 256 px. A fixed split of whole images: the test images never
  appear in training crops. Nothing is downloaded (files are read from the package folders, never through
  `skimage.data` loaders, some of which fetch).
* The book's ``tools/process.py`` operations (chapters 9-10) on uint8 (H, W, 3) arrays: `resize` (centre crop
  to a square, then scale), `grayscale` (grey replicated to 3 channels), `blank` (a white centre square of 30%
  of the side), `edges`, `blur` (downscale by 4, then bicubic upscale: chapter 10), `combine` (A|B side by
  side) and `split` (back into A and B). The book's `edges` runs the HED network then post-processes; HED's
  weights are a download, so ours is Canny on the grey image (dark lines on white, as edges2shoes).
* Loaders of the book's folder formats: pix2pix's A|B side-by-side images in `<root>/train/` and
  `<root>/val/` (`load_ab_folder`), CycleGAN's `<root>/trainA`, `trainB`, `testA`, `testB`
  (`load_unpaired_folder`). `write_processed` is `rlkit data pix2pix` (rlkit.frontend.data_command).
* Crops: `random_crop_pairs` (training: random windows and horizontal flips, the same for A and B) and
  `fixed_crop_pairs` (evaluation: the same windows every time); `random_crops` and `fixed_crops` for one set
  of images (unpaired data).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rlkit.core.errors import UserError
from rlkit.envs.image_folder import IMAGE_SUFFIXES

TRAIN_IMAGES = ("astronaut.png", "rocket.jpg", "hubble_deep_field.jpg", "retina.jpg", "motorcycle_left.png")
TRAIN_IMAGES += ("motorcycle_right.png", "china.jpg")
TEST_IMAGES = ("coffee.png", "chelsea.png", "flower.jpg")
BUNDLED_SIDE = 256  # short side of the bundled photographs after scaling
SR_SCALE = 4  # the book's blur: downscale then upscale by 4


def read_image(path: str | Path) -> np.ndarray:
    """An image file as uint8 (H, W, 3) RGB (grey and RGBA converted); UserError naming the file otherwise."""
    from PIL import Image, UnidentifiedImageError  # Pillow: only when images are read

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except (OSError, UnidentifiedImageError) as err:
        raise UserError(f"could not read image {path}: {err}") from None


def write_image(image: np.ndarray, path: str | Path) -> Path:
    """Writes a uint8 (H, W, 3) image (PNG or JPEG by suffix), parent folders created."""
    from PIL import Image  # Pillow: only when images are written

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(path)
    return path


def _bundled_path(name: str) -> Path:
    if name in ("china.jpg", "flower.jpg"):
        import sklearn.datasets  # the file inside scikit-learn's wheel

        return Path(sklearn.datasets.__file__).parent / "images" / name
    import skimage  # the file inside scikit-image's wheel (skimage/data/)

    return Path(skimage.__file__).parent / "data" / name


@functools.cache
def bundled_image(name: str) -> np.ndarray:
    """A bundled photograph, scaled so its short side is 256 px (read-only uint8 (H, W, 3))."""
    image = read_image(_bundled_path(name))
    scale = BUNDLED_SIDE / min(image.shape[:2])
    h, w = round(image.shape[0] * scale), round(image.shape[1] * scale)
    image = scale_to(image, h, w)
    image.flags.writeable = False
    return image


def bundled_images(split: str) -> list[np.ndarray]:
    """The train or test photographs (a fixed split of whole images)."""
    return [bundled_image(name) for name in (TRAIN_IMAGES if split == "train" else TEST_IMAGES)]


# ----- the book's process.py operations ---------------------------------------------------------------------
def scale_to(image: np.ndarray, height: int, width: int, order: int = 3) -> np.ndarray:
    """uint8 image resized to (height, width) (bicubic by default, anti-aliased when shrinking)."""
    from skimage.transform import resize as sk_resize

    out = sk_resize(image, (height, width), order=order, anti_aliasing=True, preserve_range=True)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def resize(image: np.ndarray, size: int = 256) -> np.ndarray:
    """process.py's resize: the centred square crop scaled to size x size."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return scale_to(image[top : top + side, left : left + side], size, size)


def grayscale(image: np.ndarray) -> np.ndarray:
    """process.py's grayscale: luminance (ITU-R 601, as scikit-image's rgb2gray) replicated to 3 channels."""
    grey = image.astype(np.float32) @ np.array([0.2125, 0.7154, 0.0721], dtype=np.float32)
    return np.repeat(np.clip(np.rint(grey), 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def hole_box(height: int, width: int) -> tuple[int, int, int, int]:
    """(top, left, h, w) of process.py's blank: a centred square of 30% of the short side."""
    size = int(min(height, width) * 0.3)
    return (height - size) // 2, (width - size) // 2, size, size


def blank(image: np.ndarray) -> np.ndarray:
    """process.py's blank: a copy with a white centred square (30% of the side), the inpainting input."""
    out = image.copy()
    top, left, h, w = hole_box(*image.shape[:2])
    out[top : top + h, left : left + w] = 255
    return out


def edges(image: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """Canny edges of the grey image as dark lines on white, 3 channels (the book's HED needs a download)."""
    from skimage.feature import canny

    lines = canny(grayscale(image)[..., 0].astype(np.float32) / 255.0, sigma=sigma)
    return np.repeat(np.where(lines, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def blur(image: np.ndarray, scale: int = SR_SCALE) -> np.ndarray:
    """process.py's blur (chapter 10): downscale by `scale`, then bicubic upscale to the original size."""
    h, w = image.shape[:2]
    small = scale_to(image, max(1, h // scale), max(1, w // scale))
    return scale_to(small, h, w)


def combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """process.py's combine: A and B side by side (A|B), both of one size."""
    if a.shape != b.shape:
        raise UserError(f"combine needs images of one size, got {a.shape[:2]} and {b.shape[:2]}")
    return np.concatenate([a, b], axis=1)


def split(ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The inverse of combine: (A, B), the left and right halves."""
    if ab.shape[1] % 2:
        raise UserError(f"an A|B image needs an even width, got {ab.shape[1]}")
    half = ab.shape[1] // 2
    return ab[:, :half], ab[:, half:]


OPERATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "resize": resize,
    "grayscale": grayscale,
    "blank": blank,
    "edges": edges,
    "blur": blur,
}


def image_files(folder: str | Path) -> list[Path]:
    """The image files of a folder, sorted; UserError when it is missing or holds none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"image folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UserError(f"image folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def write_processed(
    operation: str,
    input_dir: str | Path,
    output_dir: str | Path,
    b_dir: str | Path | None = None,
    size: int = 256,
) -> list[Path]:
    """process.py over a folder: each image's `operation` (resize, grayscale, blank, edges, blur, combine with
    the same-named file of `b_dir`, or split into output_dir/A and output_dir/B) as PNG in output_dir."""
    choices = (*OPERATIONS, "combine", "split")
    if operation not in choices:
        raise UserError(f"operation={operation!r} is invalid: valid operations are {', '.join(choices)}")
    if operation == "combine" and b_dir is None:
        raise UserError("operation=combine needs b_dir=<folder of the B images, same file names>")
    out, written = Path(output_dir), []
    for path in image_files(input_dir):
        image, name = read_image(path), path.stem + ".png"
        if operation == "combine":
            matches = [p for p in Path(b_dir).glob(path.stem + ".*") if p.suffix.lower() in IMAGE_SUFFIXES]
            if not matches:
                raise UserError(f"combine: {b_dir} has no image named {path.stem}.* for {path}")
            written.append(write_image(combine(image, read_image(matches[0])), out / name))
        elif operation == "split":
            a, b = split(image)
            written += [write_image(a, out / "A" / name), write_image(b, out / "B" / name)]
        else:
            op = OPERATIONS[operation]
            written.append(write_image(op(image, size) if operation == "resize" else op(image), out / name))
    return written


# ----- the book's folder formats ----------------------------------------------------------------------------
def load_ab_folder(root: str | Path, split_name: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """pix2pix's A|B folder: (A, B) pairs of the images in <root>/<split_name>/ (train, val or test)."""
    return [split(read_image(p)) for p in image_files(Path(root) / split_name)]


def load_unpaired_folder(root: str | Path, split_name: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """CycleGAN's folders: (the images of <root>/<split_name>A, those of <root>/<split_name>B)."""
    root = Path(root)
    return [read_image(p) for p in image_files(root / f"{split_name}A")], [
        read_image(p) for p in image_files(root / f"{split_name}B")
    ]


# ----- crops ------------------------------------------------------------------------------------------------
def fit_crop(image: np.ndarray, crop: int) -> np.ndarray:
    """The image scaled up (keeping its aspect) when a side is shorter than `crop`."""
    h, w = image.shape[:2]
    if min(h, w) >= crop:
        return image
    scale = crop / min(h, w)
    return scale_to(image, max(crop, round(h * scale)), max(crop, round(w * scale)))


def random_crop_pairs(
    pairs: list[tuple[np.ndarray, np.ndarray]], n: int, crop: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """n random crop windows (a random image each, a random position, flipped left-right half the time), the
    same window and flip in A and B: two uint8 arrays (n, crop, crop, 3)."""
    a_out = np.empty((n, crop, crop, 3), np.uint8)
    b_out = np.empty((n, crop, crop, 3), np.uint8)
    for k in range(n):
        a, b = pairs[int(rng.integers(len(pairs)))]
        top = int(rng.integers(a.shape[0] - crop + 1))
        left = int(rng.integers(a.shape[1] - crop + 1))
        step = -1 if rng.random() < 0.5 else 1
        a_out[k] = a[top : top + crop, left : left + crop][:, ::step]
        b_out[k] = b[top : top + crop, left : left + crop][:, ::step]
    return a_out, b_out


def fixed_crop_pairs(
    pairs: list[tuple[np.ndarray, np.ndarray]], crop: int, per_image: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Evaluation crops: `per_image` windows of each image, evenly spaced along its diagonal (corner to
    corner; the centre when per_image is 1), the same every time."""
    a_out, b_out = [], []
    for a, b in pairs:
        for t in np.linspace(0.0, 1.0, per_image) if per_image > 1 else [0.5]:
            top, left = round(t * (a.shape[0] - crop)), round(t * (a.shape[1] - crop))
            a_out.append(a[top : top + crop, left : left + crop])
            b_out.append(b[top : top + crop, left : left + crop])
    return np.stack(a_out), np.stack(b_out)


def random_crops(images: list[np.ndarray], n: int, crop: int, rng: np.random.Generator) -> np.ndarray:
    """random_crop_pairs of one set of images (unpaired data): the n windows, uint8 (n, crop, crop, 3)."""
    return random_crop_pairs([(x, x) for x in images], n, crop, rng)[0]


def fixed_crops(images: list[np.ndarray], crop: int, per_image: int = 4) -> np.ndarray:
    """fixed_crop_pairs of one set of images (unpaired data): the windows, uint8 (n, crop, crop, 3)."""
    return fixed_crop_pairs([(x, x) for x in images], crop, per_image)[0]


def write_train_val(
    input_dir: str | Path, output_dir: str | Path, train_frac: float = 0.8, seed: int = 0
) -> list[Path]:
    """The book's tools/split.py: the images of input_dir copied into output_dir/train and output_dir/val, a
    random `train_frac` of them (at least one each when there are two or more) to train/."""
    import shutil

    if not 0.0 < train_frac < 1.0:
        raise UserError(f"train_frac={train_frac} is invalid: it must be in (0, 1)")
    files = image_files(input_dir)
    order = np.random.default_rng(seed).permutation(len(files))
    n_train = min(max(1, round(train_frac * len(files))), max(1, len(files) - 1))
    written = []
    for rank, k in enumerate(order):
        dest = Path(output_dir) / ("train" if rank < n_train else "val") / files[k].name
        dest.parent.mkdir(parents=True, exist_ok=True)
        written.append(Path(shutil.copyfile(files[k], dest)))
    return written
