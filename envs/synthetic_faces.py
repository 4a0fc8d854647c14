"""Generated face identities, offline: as many identities as asked, each with its own face, many images each.

An identity is a seeded draw of 9 shape parameters (face width and height, eye spacing, height and size,
nose length, mouth width, height and curve) and a skin and hair tone; each image of it re-draws the nuisances
a photo has: position (+-2 px), scale (+-8%), a small jitter of every shape parameter, a lighting gradient
and pixel noise. Rendered as grey 24x24 uint8 (N, 1, 24, 24). Identity k is the same face for every call
(its parameters come from seed * 1,000,003 + k), so the training and held-out identities of
rlkit.envs.identities are disjoint by their numbers.
"""

from __future__ import annotations

import numpy as np

SIZE = 24


def identity_params(identity: int, seed: int = 0) -> np.ndarray:
    """The 11 parameters of one identity, each in [0, 1]."""
    return np.random.default_rng(seed * 1_000_003 + identity).random(11)


def _ellipse(yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0


def render_face(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One (SIZE, SIZE) float image in [0, 1] of parameters p with this image's nuisances from rng."""
    q = np.clip(p + rng.normal(0, 0.04, p.shape), 0, 1)  # the face changes a little from photo to photo
    s = 1 + rng.uniform(-0.08, 0.08)
    cy, cx = SIZE / 2 + rng.uniform(-2, 2), SIZE / 2 + rng.uniform(-2, 2)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    yy, xx = (yy - cy) / s, (xx - cx) / s  # face coordinates: 0 at its center
    img = np.full((SIZE, SIZE), 0.15)
    fh, fw = 8 + 3 * q[0], 6 + 3 * q[1]
    skin, hair = 0.55 + 0.35 * q[9], 0.05 + 0.3 * q[10]
    img[_ellipse(yy, xx, 0, 0, fh, fw)] = skin
    img[_ellipse(yy, xx, -fh * 0.75, 0, fh * 0.45, fw * 1.02) & (yy < -fh * 0.55)] = hair
    ey, ex, er = -2 - 2 * q[3], 2 + 2 * q[2], 0.8 + 0.9 * q[4]
    for side in (-1, 1):
        img[_ellipse(yy, xx, ey, side * ex, er, er * 1.3)] = 0.05
    nose = 1.5 + 3 * q[5]
    img[(np.abs(xx) < 0.7) & (yy > ey + 1) & (yy < ey + 1 + nose)] = skin * 0.6
    my, mw, curve = 2.5 + 2.5 * q[7], 1.5 + 3 * q[6], (q[8] - 0.5) * 2.5
    mouth_y = my + curve * (1 - (xx / mw) ** 2)
    img[(np.abs(xx) <= mw) & (np.abs(yy - mouth_y) < 0.7)] = 0.1
    light = 1 + rng.uniform(-0.25, 0.25) * (xx + yy) / SIZE
    return np.clip(img * light + rng.normal(0, 0.04, img.shape), 0, 1)


def make_faces(identities: list[int], per_identity: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 1, SIZE, SIZE), labels 0..len(identities)-1): `per_identity` images of each."""
    images, labels = [], []
    for k, identity in enumerate(identities):
        p, rng = identity_params(identity, seed), np.random.default_rng([seed, identity, 7])
        for _ in range(per_identity):
            images.append(render_face(p, rng))
            labels.append(k)
    x = (np.stack(images)[:, None] * 255).round().astype(np.uint8)
    return x, np.array(labels, dtype=np.int64)
