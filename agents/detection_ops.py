"""Object-detection building blocks (book chapter 5): anchors, box coding, IoU, NMS, RoI pooling/align, SPP.

Boxes are (x1, y1, x2, y2) in pixels, x to the right, y down, as float tensors of shape (N, 4). Each function
is small, pure and checked against hand-computed values in tests/agents/test_detection_ops.py. torchvision
has most of these (torchvision.ops.nms, roi_align, ...), but it is not a dependency of rlkit: these few lines
are plain torch, and the tests pin them down.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SCALES = (32.0, 64.0, 128.0)  # the chapter's RPN uses 128, 256, 512 px on ~600 px images; ours are smaller
RATIOS = (0.5, 1.0, 2.0)  # height / width
BBOX_CLIP = 4.135166556742356  # log(1000 / 16): torchvision's cap on dw, dh before exp()


def anchor_shapes(scales: tuple[float, ...] = SCALES, ratios: tuple[float, ...] = RATIOS) -> torch.Tensor:
    """(len(scales) * len(ratios), 2) widths and heights: area scale**2, height/width = ratio."""
    out = [(s / r**0.5, s * r**0.5) for s in scales for r in ratios]
    return torch.tensor(out, dtype=torch.float32)


def make_anchors(
    feat_h: int,
    feat_w: int,
    stride: float,
    scales: tuple[float, ...] = SCALES,
    ratios: tuple[float, ...] = RATIOS,
) -> torch.Tensor:
    """Anchors of every feature-map cell, (feat_h * feat_w * A, 4), centred on the cell centres.

    Cell (i, j) has centre ((j + 0.5) * stride, (i + 0.5) * stride); its A = len(scales) * len(ratios) anchors
    come consecutively (row-major cells, then anchors), matching a head's output permuted to (H, W, A).
    """
    wh = anchor_shapes(scales, ratios)
    ys = (torch.arange(feat_h, dtype=torch.float32) + 0.5) * stride
    xs = (torch.arange(feat_w, dtype=torch.float32) + 0.5) * stride
    cy, cx = torch.meshgrid(ys, xs, indexing="ij")
    centres = torch.stack([cx, cy, cx, cy], dim=-1).reshape(-1, 1, 4)
    half = torch.cat([-wh / 2, wh / 2], dim=1).reshape(1, -1, 4)
    return (centres + half).reshape(-1, 4)


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Areas of (N, 4) boxes (0 for empty ones)."""
    return (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(N, M) intersection over union of boxes a (N, 4) and b (M, 4)."""
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=-1)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return inter / union.clamp(min=1e-9)


def _centre_size(boxes: torch.Tensor) -> tuple[torch.Tensor, ...]:
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + w / 2, boxes[:, 1] + h / 2, w, h


def encode_boxes(boxes: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """Faster R-CNN's scale-invariant offsets of `boxes` from `anchors` (both (N, 4)): (N, 4) as
    tx = (x - xa) / wa, ty = (y - ya) / ha, tw = log(w / wa), th = log(h / ha) (x, y: centres)."""
    x, y, w, h = _centre_size(boxes)
    xa, ya, wa, ha = _centre_size(anchors)
    return torch.stack([(x - xa) / wa, (y - ya) / ha, torch.log(w / wa), torch.log(h / ha)], dim=1)


def decode_boxes(deltas: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """The inverse of encode_boxes: boxes (N, 4) from offsets (N, 4) and anchors (N, 4); tw, th are capped
    at log(1000/16) so an untrained head cannot overflow exp()."""
    xa, ya, wa, ha = _centre_size(anchors)
    x, y = xa + deltas[:, 0] * wa, ya + deltas[:, 1] * ha
    w = wa * torch.exp(deltas[:, 2].clamp(max=BBOX_CLIP))
    h = ha * torch.exp(deltas[:, 3].clamp(max=BBOX_CLIP))
    return torch.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], dim=1)


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression: indices of the kept boxes, highest score first.

    The best box is kept and every remaining box overlapping it by IoU > iou_threshold is dropped; repeat.
    """
    order = torch.argsort(scores, descending=True, stable=True)
    iou = box_iou(boxes[order], boxes[order])
    removed = torch.zeros(len(order), dtype=torch.bool)
    keep = []
    for i in range(len(order)):
        if removed[i]:
            continue
        keep.append(i)
        removed |= iou[i] > iou_threshold
    return order[torch.tensor(keep, dtype=torch.long)]


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, labels: torch.Tensor, iou: float) -> torch.Tensor:
    """NMS within each class separately (boxes of different labels never suppress each other)."""
    if len(boxes) == 0:
        return torch.zeros(0, dtype=torch.long)
    offset = labels.to(boxes.dtype)[:, None] * (boxes.max() + 1)  # move each class to its own region
    return nms(boxes + offset, scores, iou)


def roi_pool(features: torch.Tensor, rois: torch.Tensor, size: int, scale: float) -> torch.Tensor:
    """Fast R-CNN's RoI max pooling: (R, C, size, size) from features (N, C, H, W) and rois (R, 5) as
    (batch index, x1, y1, x2, y2) in image pixels; `scale` maps pixels to feature cells (1 / stride).

    As Fast R-CNN's (and torchvision's) layer: the RoI is rounded to whole cells, x1..x2 inclusive (the
    quantisation RoI align removes), split into size x size bins [floor(i * bin), ceil((i + 1) * bin)), and
    each bin is the max of its cells (0 for a bin wholly outside the map).
    """
    _, c, h, w = features.shape
    out = features.new_zeros(len(rois), c, size, size)
    for r, (b, x1, y1, x2, y2) in enumerate(rois.tolist()):
        x1, y1, x2, y2 = (round(v * scale) for v in (x1, y1, x2, y2))
        bin_w, bin_h = max(x2 - x1 + 1, 1) / size, max(y2 - y1 + 1, 1) / size
        for i in range(size):
            top = min(max(y1 + math.floor(i * bin_h), 0), h)
            bottom = min(max(y1 + math.ceil((i + 1) * bin_h), 0), h)
            for j in range(size):
                left = min(max(x1 + math.floor(j * bin_w), 0), w)
                right = min(max(x1 + math.ceil((j + 1) * bin_w), 0), w)
                if bottom > top and right > left:
                    out[r, :, i, j] = features[int(b), :, top:bottom, left:right].amax(dim=(1, 2))
    return out


def roi_align(
    features: torch.Tensor, rois: torch.Tensor, size: int, scale: float, samples: int = 2
) -> torch.Tensor:
    """Mask R-CNN's RoI align (aligned=True): (R, C, size, size), each bin the mean of samples x samples
    bilinear samples at exact (unrounded) positions; rois as in roi_pool. A pixel's centre is at +0.5."""
    n = len(rois)
    if n == 0:
        return features.new_zeros(0, features.shape[1], size, size)
    _, _, h, w = features.shape
    box = rois[:, 1:] * scale - 0.5
    steps = (torch.arange(size * samples, dtype=features.dtype) + 0.5) / (size * samples)  # in [0, 1]
    xs = box[:, 0:1] + steps[None] * (box[:, 2:3] - box[:, 0:1])  # (R, size*samples) feature coordinates
    ys = box[:, 1:2] + steps[None] * (box[:, 3:4] - box[:, 1:2])
    gx = (xs + 0.5) / w * 2 - 1  # grid_sample with align_corners=False: -1 and 1 are the outer edges
    gy = (ys + 0.5) / h * 2 - 1
    grid = torch.stack(torch.broadcast_tensors(gx[:, None, :], gy[:, :, None]), dim=-1)
    sampled = F.grid_sample(features[rois[:, 0].long()], grid, align_corners=False, padding_mode="zeros")
    return F.avg_pool2d(sampled, samples)


def spp(features: torch.Tensor, levels: tuple[int, ...] = (4, 2, 1)) -> torch.Tensor:
    """Spatial pyramid pooling (SPP-net): max over an l x l grid for each level, concatenated:
    (N, C * sum(l*l)) = 21 C for levels 4, 2, 1, whatever the input's height and width."""
    return torch.cat([F.adaptive_max_pool2d(features, lv).flatten(1) for lv in levels], dim=1)
