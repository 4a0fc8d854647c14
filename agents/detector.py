"""A one-stage anchor-based detector (book chapter 5's RPN made a detector, as SSD/RetinaNet do).

A small conv stack (stride 8) feeds one 3x3 conv head that predicts, for each of the 9 anchors of every cell
(3 sizes x 3 ratios, rlkit.agents.detection_ops), class logits (background + the task's classes) and the 4
Faster R-CNN box offsets. Training matches anchors to ground truth as the RPN does (IoU >= 0.5 positive,
< 0.4 background, each object's best anchor positive too), and minimises cross-entropy over the positives and
the hardest negatives (3 per positive: SSD's hard-negative mining, where the book's RPN samples 256 anchors at
random) plus smooth-L1 on the positives' offsets (scaled by 0.1/0.2, the usual box-coder variances).
Inference (explore=False) decodes every class score above `score_threshold`, keeps the best 200 and applies
per-class NMS at `nms_iou` (1.0: no NMS), up to 100 boxes per image. While training, act() reuses the
training forward pass and answers the top 20 (anchor, class) pairs without NMS (a cheap, rough training mAP).

The conv stack is our own, small enough to train on a 2-core CPU in minutes; a pretrained backbone (the
pretrained-vision issue's agents/backbones.py) can replace `features` later without changing the head.
Works with any detection task env (rlkit.envs.detection: shapes_detection, voc).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import nn

from rlkit.agents.detection_ops import batched_nms, box_iou, decode_boxes, encode_boxes, make_anchors
from rlkit.agents.model_agent import ModelCheckpointMixin, flat_batch
from rlkit.core.errors import IncompatibleError, check_ranges, describe_space
from rlkit.core.seeding import RandomStream
from rlkit.core.types import AgentContext

STRIDE = 8
RATIOS = (0.5, 1.0, 2.0)
BOX_STD = torch.tensor([0.1, 0.1, 0.2, 0.2])  # offsets are divided by these before the loss
PRE_NMS = 200
TRAIN_DETECTIONS = 20  # answered per image while training (the rough training mAP; cheap to score)


@dataclass
class DetectorConfig:
    """Hyperparameters of the detector.

    Attributes:
        name: agent name (the `agent=` token).
        lr: Adam's learning rate (> 0).
        weight_decay: Adam's L2 penalty (>= 0).
        width: channels of the first conv layers (doubled twice on the way down).
        anchor_min, anchor_max: the smallest and largest of the 3 anchor sizes (pixels; the middle one is
            their geometric mean), each with height/width ratios 0.5, 1, 2.
        pos_iou, neg_iou: an anchor is an object's at IoU >= pos_iou, background below neg_iou.
        neg_per_pos: hard negatives per positive anchor in the classification loss.
        score_threshold: class scores below it are not answered (inference).
        nms_iou: per-class NMS threshold at inference (1.0: no NMS).
    """

    name: str = "detector"
    lr: float = 1e-3
    weight_decay: float = 0.0
    width: int = 16
    anchor_min: float = 10.0
    anchor_max: float = 32.0
    pos_iou: float = 0.5
    neg_iou: float = 0.4
    neg_per_pos: int = 3
    score_threshold: float = 0.05
    nms_iou: float = 0.5

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        checks = [
            ("lr", self.lr > 0, "> 0"),
            ("weight_decay", self.weight_decay >= 0, ">= 0"),
            ("width", self.width >= 1, ">= 1"),
            ("anchor_min", self.anchor_min > 0, "> 0"),
            ("anchor_max", self.anchor_max >= self.anchor_min, f">= anchor_min ({self.anchor_min})"),
            ("pos_iou", 0 < self.pos_iou <= 1, "in (0, 1]"),
            ("neg_iou", 0 < self.neg_iou <= self.pos_iou, f"in (0, pos_iou={self.pos_iou}]"),
            ("neg_per_pos", self.neg_per_pos >= 1, ">= 1"),
            ("score_threshold", 0 <= self.score_threshold < 1, "in [0, 1)"),
            ("nms_iou", 0 < self.nms_iou <= 1, "in (0, 1] (1: no NMS)"),
        ]
        check_ranges("agent.", checks, lambda key: repr(getattr(self, key)))

    def scales(self) -> tuple[float, float, float]:
        """The 3 anchor sizes: anchor_min, their geometric mean, anchor_max."""
        return self.anchor_min, (self.anchor_min * self.anchor_max) ** 0.5, self.anchor_max


def conv_block(cin: int, cout: int, stride: int) -> nn.Sequential:
    """3x3 conv, batch norm, ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class DetectorNet(nn.Module):
    """Conv stack to stride 8, then per anchor (num_classes + 1) logits and 4 offsets: (N, HWA, C + 5)."""

    def __init__(self, num_classes: int, width: int, anchors_per_cell: int = 9):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            conv_block(3, w, 2), conv_block(w, w, 1), conv_block(w, 2 * w, 2), conv_block(2 * w, 2 * w, 1),
            conv_block(2 * w, 4 * w, 2), conv_block(4 * w, 4 * w, 1),
        )  # fmt: skip
        self.outputs = num_classes + 5
        self.head = nn.Conv2d(4 * w, anchors_per_cell * self.outputs, 3, 1, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.head(self.features(images.float() / 255.0 - 0.5))
        n, _, h, w = x.shape
        return x.permute(0, 2, 3, 1).reshape(n, h * w * (x.shape[1] // self.outputs), self.outputs)


def anchor_targets(
    anchors: torch.Tensor, objects: torch.Tensor, pos_iou: float, neg_iou: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(class target per anchor: 0 background, c + 1 object class c, -1 ignored; encoded offsets (A, 4)) of
    one image's objects (G, 5: box, class; class < 0 rows are padding)."""
    objects = objects[objects[:, 4] >= 0]
    labels = torch.zeros(len(anchors), dtype=torch.long)
    if len(objects) == 0:
        return labels, torch.zeros(len(anchors), 4)
    iou = box_iou(anchors, objects[:, :4])  # (A, G)
    best_iou, best = iou.max(dim=1)
    own = iou.argmax(dim=0)  # each object's best anchor is its own
    best[own], best_iou[own] = torch.arange(len(objects)), 1.0
    labels[(best_iou >= neg_iou) & (best_iou < pos_iou)] = -1
    pos = best_iou >= pos_iou
    labels[pos] = objects[best[pos], 4].long() + 1
    return labels, encode_boxes(objects[best, :4], anchors) / BOX_STD


def detection_loss(
    out: torch.Tensor, labels: torch.Tensor, offsets: torch.Tensor, neg_per_pos: int
) -> tuple[torch.Tensor, dict[str, float]]:
    """Cross-entropy on positives and hard negatives (neg_per_pos per positive, per image) plus smooth-L1
    on positives' offsets, each divided by the number of positives; out (N, A, C + 5), labels (N, A)."""
    logits, deltas = out[..., :-4], out[..., -4:]
    ce = F.cross_entropy(logits.flatten(0, 1), labels.clamp(min=0).flatten(), reduction="none")
    ce = ce.view_as(labels)
    pos, neg = labels > 0, labels == 0
    n_pos = pos.sum(dim=1, keepdim=True)
    hardness = torch.where(neg, ce.detach(), torch.full_like(ce, -1.0))
    rank = hardness.argsort(dim=1, descending=True).argsort(dim=1)
    hard_neg = neg & (rank < (neg_per_pos * n_pos).clamp(min=neg_per_pos))
    norm = n_pos.sum().clamp(min=1).float()
    cls_loss = ce[pos | hard_neg].sum() / norm
    box_loss = F.smooth_l1_loss(deltas[pos], offsets[pos], reduction="sum", beta=1 / 9) / norm
    return cls_loss + box_loss, {"cls_loss": float(cls_loss.detach()), "box_loss": float(box_loss.detach())}


class DetectorAgent(ModelCheckpointMixin):
    """The one-stage detector trained on a detection task env's revealed boxes (module docstring)."""

    Config = DetectorConfig
    model_name = "detector"

    def __init__(self, cfg: DetectorConfig, ctx: AgentContext):
        cfg.validate()
        obs, act = ctx.observation_space, ctx.action_space
        if not (
            isinstance(obs, spaces.Box) and len(obs.shape) == 4 and obs.shape[1] == 3
            and isinstance(act, spaces.Box) and len(act.shape) == 3 and act.shape[2] == 6
        ):  # fmt: skip
            raise IncompatibleError(
                f"agent '{ctx.agent_name}' detects objects and needs a detection task env (observation: "
                f"images (batch, 3, H, W); action: boxes (batch, K, 6)), but env '{ctx.env_name}' has "
                f"observation space {describe_space(obs)} and action space {describe_space(act)}. Use "
                "env=shapes_detection or env=voc."
            )
        self.cfg, self.device = cfg, torch.device(ctx.device)
        self.num_classes, self.max_dets = int(act.high[0, 0, 5]) + 1, act.shape[1]
        self.rng = RandomStream(ctx.seed, self.device)
        with self.rng:
            self.model = DetectorNet(self.num_classes, cfg.width).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.updates, self._batch, self._forward = 0, None, None
        self._anchors: dict[tuple[int, int], torch.Tensor] = {}

    def anchors(self, height: int, width: int) -> torch.Tensor:
        """The anchors of an image of this size (cached), on the CPU."""
        key = (height, width)
        if key not in self._anchors:
            fh, fw = -(-height // STRIDE), -(-width // STRIDE)
            self._anchors[key] = make_anchors(fh, fw, STRIDE, self.cfg.scales(), RATIOS)
        return self._anchors[key]

    def _output(self, obs: np.ndarray) -> torch.Tensor:
        with self.rng:
            return self.model(flat_batch(obs, self.device))

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """Detections for each env's minibatch: (num_envs, batch, max_detections, 6); NMS when greedy."""
        n, b = obs.shape[:2]
        dets = self._act_with(obs, explore, partial(self.detect, hw=obs.shape[-2:], nms=not explore))
        return dets.reshape(n, b, self.max_dets, 6)

    def detect(self, out: torch.Tensor, hw: tuple[int, int], nms: bool) -> np.ndarray:
        """(N, max_dets, 6) boxes, score, class from the net's output; class -1 marks empty rows."""
        out = out.float().cpu()
        n = len(out)
        # softmax over the C + 1 logits of each anchor, taken along dim 1 of the (N, C + 1, A) view: torch's
        # CPU softmax along a last dim of 5 was 10x slower (2 ms a 32-image batch, 3% of a training step)
        probs = out[..., :-4].transpose(1, 2).softmax(dim=1)[:, 1:].transpose(1, 2).flatten(1)  # (N, A * C)
        k = min(PRE_NMS if nms else min(TRAIN_DETECTIONS, self.max_dets), probs.shape[1])
        scores, flat = probs.topk(k, dim=1)  # the best (anchor, class) pairs of each image
        a, cls = flat // self.num_classes, flat % self.num_classes
        deltas = out[..., -4:].gather(1, a[..., None].expand(-1, -1, 4))
        boxes = decode_boxes(deltas.flatten(0, 1) * BOX_STD, self.anchors(*hw)[a.flatten()]).view(n, k, 4)
        boxes[..., 0::2] = boxes[..., 0::2].clamp(0, hw[1])
        boxes[..., 1::2] = boxes[..., 1::2].clamp(0, hw[0])
        result = np.zeros((n, self.max_dets, 6), dtype=np.float32)
        result[..., 5] = -1
        if not nms:  # training: the top k pairs as they are, those under the threshold left empty
            k = min(k, self.max_dets)
            result[:, :k, :4], result[:, :k, 4] = boxes[:, :k], scores[:, :k]
            result[:, :k, 5] = torch.where(scores[:, :k] >= self.cfg.score_threshold, cls[:, :k], -1)
            return result
        for i in range(n):
            keep = torch.nonzero(scores[i] >= self.cfg.score_threshold).flatten()
            if self.cfg.nms_iou < 1.0:
                keep = keep[batched_nms(boxes[i, keep], scores[i, keep], cls[i, keep], self.cfg.nms_iou)]
            keep = keep[: self.max_dets]
            m = len(keep)
            result[i, :m, :4], result[i, :m, 4], result[i, :m, 5] = (
                boxes[i, keep],
                scores[i, keep],
                cls[i, keep],
            )
        return result

    def update(self) -> dict[str, float]:
        """One Adam step on the detection loss of the last observed minibatch (masked images ignored)."""
        tr, out, targets, mask = self._take_batch()
        if tr is None:
            return {}
        anchors = self.anchors(*tr.obs.shape[-2:])
        cfg = self.cfg
        pairs = [anchor_targets(anchors, t.float().cpu(), cfg.pos_iou, cfg.neg_iou) for t in targets]
        labels = torch.stack([p[0] for p in pairs])
        labels[mask.cpu() == 0] = -1
        labels = labels.to(self.device)
        offsets = torch.stack([p[1] for p in pairs]).to(self.device)
        loss, parts = detection_loss(out, labels, offsets, self.cfg.neg_per_pos)
        return {"loss": self._step(loss), **parts}
