"""Image captioning as a task env (the book's chapter 17, CS231n assignment 3): generated scenes of coloured
shapes, five template captions each, BLEU-1..4 (sacreBLEU, against all five) at the end of each epoch.

A scene is a 32x32 RGB picture of one or two shapes (circle, square or triangle; red, green, blue or yellow;
small or large) on a grey background, two shapes side by side. Its captions come from templates with
synonyms ("a small red circle left of a big blue square", "a little red disc to the left of a large blue
box", "there is a large blue square right of a small red circle", ...). The observation is a minibatch of
images (uint8), the action the agent's captions (ids in the layout of rlkit.core.tokens), `info["targets"]`
one reference caption per image for teacher forcing (a new random one of the five each training epoch; the
first at test). The epoch's last step reports bleu1..bleu4 and pays bleu4, the headline. On the training
split a row of padding only is "no answer" (rlkit.core.tokens.answered), left out of the scores: the
captioning agent captions one training minibatch in `decode_every`, so the training BLEU is that sample's.
`nearest_neighbour_captions` is the baseline a model must beat: each test image gets the first caption of
the closest training image in pixel space.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from rlkit.core.headline import Headline
from rlkit.core.tokens import SPECIALS, scored, sentence, words_of
from rlkit.envs.caption_attention import attention_panels
from rlkit.envs.supervised import SPLITS, SupervisedEnv, check_choice, check_positive, save_png
from rlkit.envs.translation_data import encode

COLORS = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 220), "yellow": (230, 200, 30)}
SHAPES = {"circle": ("circle", "disc"), "square": ("square", "box"), "triangle": ("triangle",)}
SIZES = {"small": ("small", "little"), "large": ("large", "big")}
SIDE = 32
CAPTIONS = 5


def _phrase(rng: random.Random, obj: tuple[str, str, str]) -> str:
    size, color, shape = obj
    return f"a {rng.choice(SIZES[size])} {color} {rng.choice(SHAPES[shape])}"


def scene_captions(rng: random.Random, objects: list[tuple[str, str, str]]) -> list[str]:
    """Five captions of a scene: objects are (size, colour, shape), left to right."""
    out: list[str] = []
    while len(out) < CAPTIONS:
        if len(objects) == 1:
            templates = ["{a}", "there is {a}", "{a} on a grey background", "a picture of {a}"]
            text = rng.choice(templates).format(a=_phrase(rng, objects[0]))
        else:
            a, b = _phrase(rng, objects[0]), _phrase(rng, objects[1])
            templates = ["{a} left of {b}", "{a} to the left of {b}", "{b} right of {a}",
                         "{b} to the right of {a}", "{a} and {b}"]  # fmt: skip
            text = rng.choice(templates).format(a=a, b=b)
        if text not in out or rng.random() < 0.2:
            out.append(text)
    return out


def caption_vocabulary() -> list[str]:
    """Every word a caption can hold, after the four specials."""
    words = ["a", "there", "is", "on", "grey", "background", "picture", "of", "left", "right", "to", "the"]
    words.append("and")
    words += [*COLORS, *(w for s in SHAPES.values() for w in s), *(w for s in SIZES.values() for w in s)]
    return [*SPECIALS, *dict.fromkeys(words)]


def draw_scene(objects: list[tuple[str, str, str]], rng: random.Random) -> np.ndarray:
    """(3, 32, 32) uint8 picture of the objects, left to right, with some jitter of place."""
    yy, xx = np.mgrid[0:SIDE, 0:SIDE] + 0.5
    img = np.full((SIDE, SIDE, 3), 128, dtype=np.uint8)
    slots = [SIDE / 2] if len(objects) == 1 else [SIDE / 4, 3 * SIDE / 4]
    for (size, color, shape), cx in zip(objects, slots):
        r = (3.0 if size == "small" else 6.0) + rng.uniform(-0.5, 0.5)
        cx, cy = cx + rng.uniform(-2, 2), SIDE / 2 + rng.uniform(-8, 8)
        if shape == "circle":
            inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= r**2
        elif shape == "square":
            inside = (abs(xx - cx) <= r) & (abs(yy - cy) <= r)
        else:  # a triangle pointing up
            inside = (yy <= cy + r) & (yy >= cy - r) & (abs(xx - cx) <= (yy - (cy - r)) / 2)
        img[inside] = COLORS[color]
    return img.transpose(2, 0, 1).copy()


def shapes_dataset(
    n: int, seed: int, exclude: set[bytes] | None = None
) -> tuple[np.ndarray, list[list[str]]]:
    """`n` scenes from `seed`: images (n, 3, 32, 32) uint8 and five captions each; images whose bytes are in
    `exclude` are skipped (so a train split never holds a test picture)."""
    rng = random.Random(seed)
    images, captions = [], []
    while len(images) < n:
        objects = [(rng.choice(list(SIZES)), rng.choice(list(COLORS)), rng.choice(list(SHAPES)))
                   for _ in range(rng.choice((1, 2)))]  # fmt: skip
        image, caps = draw_scene(objects, rng), scene_captions(rng, objects)
        if exclude is None or image.tobytes() not in exclude:
            images.append(image)
            captions.append(caps)
    return np.stack(images), captions


def bleu_scores(hypotheses: list[str], references: list[list[str]]) -> dict[str, float]:
    """bleu1..bleu4: sacreBLEU corpus BLEU with n-grams up to 1..4, each hypothesis against its references."""
    from sacrebleu.metrics import BLEU  # only when BLEU is computed

    refs = [list(r) for r in zip(*references)]  # sacreBLEU: one list per reference position
    return {
        f"bleu{n}": float(BLEU(max_ngram_order=n, tokenize="none").corpus_score(hypotheses, refs).score)
        for n in range(1, 5)
    }


def nearest_neighbour_captions(train_images: np.ndarray, train_captions: list[list[str]],
                               test_images: np.ndarray) -> list[str]:  # fmt: skip
    """For each test image the first caption of the closest training image (Euclidean, in pixels)."""
    a = train_images.reshape(len(train_images), -1).astype(np.float32)
    out = []
    for img in test_images.reshape(len(test_images), -1).astype(np.float32):
        out.append(train_captions[int(((a - img) ** 2).sum(1).argmin())][0])
    return out


class CaptionsEnv(SupervisedEnv):
    """Images with five reference captions each: the scoring, teaching captions and pictures of a captioning
    task (subclasses load images and captions, then call `setup`)."""

    metadata = {"render_modes": ["ansi"], "render_fps": 1}
    reward_key = "exact_match"
    headline = Headline("BLEU-4", "bleu4", decimals=2)

    def setup(self, images: np.ndarray, captions: list[list[str]], vocab: list[str], split: str,
              max_len: int, batch_size: int, shuffle: Any, render_mode: Any) -> None:  # fmt: skip
        """Encodes the captions (each image's first five, cycled when it has fewer); starts the env."""
        check_positive("max_len", max_len)
        self.captions = [[c[k % len(c)] for k in range(CAPTIONS)] for c in captions]
        self.vocab, self.split = vocab, split
        self.all_ids = np.stack([encode(c, vocab, max_len, eos=True) for c in self.captions])  # (n, 5, L)
        if images.dtype == np.uint8:
            obs_space = spaces.Box(0, 255, (batch_size, *images.shape[1:]), np.uint8)
        else:  # feature vectors in place of pictures (coco_captions' CS231n features)
            obs_space = spaces.Box(-np.inf, np.inf, (batch_size, *images.shape[1:]), np.float32)
        act_space = spaces.Box(0, len(vocab) - 1, (batch_size, max_len), np.int64)
        self._pick = np.zeros(len(images), dtype=np.int64)
        self._epoch: list[tuple[str, list[str]]] = []
        shuffle = split == "train" if shuffle is None else shuffle
        super().__init__(images, self.all_ids[:, 0], batch_size, shuffle, obs_space, act_space, render_mode)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Starts an epoch; training picks each image's teaching caption anew."""
        obs = super().reset(seed=seed, options=options)
        if self.split == "train":
            self._pick = self.np_random.integers(0, CAPTIONS, size=len(self.inputs))
        self.targets = self.all_ids[np.arange(len(self.inputs)), self._pick]
        self._epoch = []
        return obs

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Scores the captions; the epoch's last step adds BLEU-1..4 and pays BLEU-4."""
        obs, _, terminated, truncated, info = super().step(action)
        reward = 0.0
        if terminated:
            hyps, refs = zip(*self._epoch) if self._epoch else ((), ())
            info["metrics"].update(bleu_scores(list(hyps), list(refs)) if hyps else {})
            reward = float(info["metrics"].get("bleu4", 0.0))
            self._epoch = []
        return obs, reward, terminated, truncated, info

    def score(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
        """exact_match: the share of captions equal to one of the image's five; keeps them for BLEU."""
        rows = self._rows()
        keep = scored(pred, len(rows), self.split == "train")
        rows = rows[keep]
        hyps = [sentence(pred[k], self.vocab) for k in np.flatnonzero(keep)]
        self._epoch += [(h, self.captions[r]) for h, r in zip(hyps, rows)]
        hits = [h in self.captions[r] for h, r in zip(hyps, rows)]
        return {"exact_match": float(np.mean(hits)) if hits else 0.0}

    def render(self) -> str | None:
        """The last scored batch's first 3 captions and one reference each (ansi)."""
        if self.render_mode != "ansi":
            return None
        obs, target, pred, mask = self._last or (self._current, self._target(), None, self._mask())
        lines = []
        for k in np.flatnonzero(mask)[:3]:
            out = "?" if pred is None else sentence(pred[k], self.vocab)
            lines += [f"ref: {sentence(target[k], self.vocab)}", f"out: {out}", ""]
        return "\n".join(lines)

    def rollout_files(self, agent: Any, out_dir: str | Path, prefix: str = "latest") -> list[Path]:
        """Writes <prefix>_captions.txt (the first 12 test images' captions and a reference each) and, for
        pictures, <prefix>_captions.png (the images with them) and, when the agent attends, one
        <prefix>_attention_<k>.png per image: its attention for each word of its caption (one panel a word,
        rlkit.envs.caption_attention); a caption without words has no figure."""
        out_dir, n = Path(out_dir), min(12, len(self.inputs))
        pred = agent.act(np.asarray(self.inputs[:n])[None], explore=False)[0]
        hyps, refs = [sentence(p, self.vocab) for p in pred], [c[0] for c in self.captions[:n]]
        out_dir.mkdir(parents=True, exist_ok=True)
        text = out_dir / f"{prefix}_captions.txt"
        text.write_text("".join(f"{k}: {h}\nref: {r}\n\n" for k, (h, r) in enumerate(zip(hyps, refs))))
        if self.inputs.dtype != np.uint8:  # feature vectors: no picture to draw
            return [text]
        sheet = caption_sheet(self.inputs[:n], hyps, refs)
        paths = [text, save_png(sheet, out_dir / f"{prefix}_captions.png")]
        for k in range(n if callable(getattr(agent, "translate", None)) else 0):
            ids, weights = agent.translate(self.inputs[k])
            if weights is None:
                break
            words = words_of(ids, self.vocab)
            if words:
                figure = attention_panels(self.inputs[k], weights, words)
                paths.append(save_png(figure, out_dir / f"{prefix}_attention_{k}.png"))
        return paths


class ShapesCaptionsEnv(CaptionsEnv):
    """Caption minibatches of generated scenes; an episode is one epoch, its return the epoch's BLEU-4.

    ## Observation Space
    Box(0, 255, (batch_size, 3, 32, 32), uint8).

    ## Action Space
    Box(0, vocab - 1, (batch_size, max_len), int64): caption ids, each ended by ``</s>``.

    ## Rewards
    0, and at the last step of an epoch the epoch's BLEU-4 (0-100).

    ## Arguments
    split ("train" | "test"), n_train (4000), n_test (500), data_seed (0: train from seed 0 without any test
    picture, test from 1000003), max_len (16), batch_size (64), shuffle (None: True for train), render_mode
    (None | "ansi").
    """

    def __init__(
        self,
        split: str = "train",
        n_train: int = 4000,
        n_test: int = 500,
        data_seed: int = 0,
        max_len: int = 16,
        batch_size: int = 64,
        shuffle: bool | None = None,
        render_mode: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        for key, value in (("n_train", n_train), ("n_test", n_test)):
            check_positive(key, value)
        images, captions = shapes_dataset(n_test, data_seed + 1_000_003)
        if split == "train":
            test = {img.tobytes() for img in images}
            images, captions = shapes_dataset(n_train, data_seed, exclude=test)
        self.setup(images, captions, caption_vocabulary(), split, max_len, batch_size, shuffle, render_mode)


def caption_sheet(images: np.ndarray, captions: list[str], references: list[str]) -> np.ndarray:
    """Images (n, 3, H, W) scaled 3x, each with its generated caption and a reference caption beside it."""
    from PIL import Image, ImageDraw  # Pillow: only when a picture is drawn

    scale, text_w = 3, 330
    h, w = images.shape[2] * scale, images.shape[3] * scale
    canvas = Image.new("RGB", (w + text_w, len(images) * (h + 4)), (255, 255, 255))
    pen = ImageDraw.Draw(canvas)
    for k, (img, cap, ref) in enumerate(zip(images, captions, references)):
        tile = Image.fromarray(img.transpose(1, 2, 0)).resize((w, h), Image.NEAREST)
        canvas.paste(tile, (0, k * (h + 4)))
        pen.text((w + 6, k * (h + 4) + h // 2 - 14), cap, fill=(0, 0, 0))
        pen.text((w + 6, k * (h + 4) + h // 2 + 2), f"ref: {ref}", fill=(120, 120, 120))
    return np.asarray(canvas)
