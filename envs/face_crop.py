"""Face detection in front of the embedding: OpenCV's bundled Haar cascade crops the faces of a photo.

The book aligns faces with MTCNN (align_dataset_mtcnn.py); MTCNN's weights are not available offline, so
this uses the practical detector a user already has: OpenCV's frontal-face Haar cascade (Viola-Jones), whose
XML ships in the opencv-python-headless wheels 4.x as ``cv2.data.haarcascades`` (the 5.0 wheel dropped
CascadeClassifier and the files: pyproject pins ``<5``). Each face is cropped square with a margin around the
detector's box, as the book's ``--margin`` (32 px of 160, i.e. 20%). No landmark alignment (MTCNN's five
points) is done: a Haar box is looser, so crops vary more in pose and scale than MTCNN's.
"""

from __future__ import annotations

import numpy as np

from rlkit.core.errors import UserError

CASCADE = "haarcascade_frontalface_default.xml"


def face_boxes(image: np.ndarray, min_size: int = 30) -> np.ndarray:
    """(N, 4) boxes x0, y0, x1, y1 of the frontal faces in an (H, W, 3) RGB or (H, W) grey uint8 image,
    largest first."""
    import cv2  # only when faces are detected

    if not hasattr(cv2, "CascadeClassifier"):
        raise UserError(
            f"OpenCV {cv2.__version__} has no Haar cascades: pip install 'opencv-python-headless>=4.8,<5'"
        )
    grey = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    detector = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)
    found = detector.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(min_size, min_size))
    boxes = np.array([(x, y, x + w, y + h) for x, y, w, h in found], dtype=np.int64).reshape(-1, 4)
    return boxes[np.argsort(-(boxes[:, 2] - boxes[:, 0]), kind="stable")]


def crop_faces(
    image: np.ndarray, size: int = 64, margin: float = 0.2, min_size: int = 30
) -> list[np.ndarray]:
    """Each detected face (largest first) cropped square with `margin` (a fraction of the box's side) on
    every side, clipped to the image, resized to (size, size): uint8 arrays shaped like the image's pixels."""
    from PIL import Image

    h, w = image.shape[:2]
    crops = []
    for x0, y0, x1, y1 in face_boxes(image, min_size):
        pad = int(round(margin * (x1 - x0)))
        box = (max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad))
        crop = Image.fromarray(np.ascontiguousarray(image)).crop(box).resize((size, size), Image.BILINEAR)
        crops.append(np.asarray(crop))
    return crops
