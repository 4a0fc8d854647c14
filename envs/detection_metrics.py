"""Detection metrics: VOC-style average precision at one IoU threshold and COCO's mAP@[.5:.95], in numpy.

Our own implementation (torchmetrics' MeanAveragePrecision needs pycocotools or faster-coco-eval as a
backend, neither of which rlkit depends on); tests/test_detection.py checks it on a hand-made case whose
answer is worked out by hand. Definitions, as the two benchmarks define them:

* A detection (image, class, score, box) is a true positive when its IoU with a not yet matched ground-truth
  box of its class in its image is >= the threshold (detections taken by falling score, each matching the
  unmatched ground truth it overlaps most); otherwise a false positive (duplicates included: so NMS matters).
* VOC (2010 and later) AP: the area under the precision-recall curve after precision is made monotone
  (precision at recall r = the best precision at any recall >= r), all points.
* COCO AP: the same monotone precision read at 101 recall points 0, 0.01, ..., 1 and averaged; mAP@[.5:.95]
  averages it over IoU thresholds 0.5, 0.55, ..., 0.95.
* The mean is over the classes that have ground truth in the set (a class with ground truth but no
  detection scores 0). VOC's "difficult" objects are not modelled: a loader leaves them out.
"""

from __future__ import annotations

import numpy as np

COCO_THRESHOLDS = tuple(np.round(np.arange(0.5, 0.951, 0.05), 2))
CHUNK = 2_000_000  # entries of the padded IoU array matched at once (images, detections, ground truths)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., N, M) IoU of (..., N, 4) and (..., M, 4) boxes (x1, y1, x2, y2): (N, M) for two lists of boxes,
    (I, N, M) for I images' lists at once."""
    lt = np.maximum(a[..., :, None, :2], b[..., None, :, :2])
    rb = np.minimum(a[..., :, None, 2:], b[..., None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=-1)
    area = lambda x: np.clip(x[..., 2] - x[..., 0], 0, None) * np.clip(x[..., 3] - x[..., 1], 0, None)  # noqa: E731
    return inter / np.maximum(area(a)[..., :, None] + area(b)[..., None, :] - inter, 1e-9)


def match_detections(
    dets: list[np.ndarray], gts: list[np.ndarray], num_classes: int, thresholds: tuple[float, ...]
) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """For each class 0..num_classes-1: (its detections' scores by falling score, their true-positive flags
    (T, D) at each IoU threshold, its number of ground-truth boxes), over all images. dets[i]: (K, 6)
    x1, y1, x2, y2, score, label; gts[i]: (G, 5) boxes, label.

    Greedy matching per image, detections by falling score (ties: first row first), each taking the free
    ground truth of its class it overlaps most (ties: first row). Vectorised across images: the images'
    k-th detections are matched together, in one step per rank k; classes share the step through an IoU
    matrix that is -1 between different classes (classes never compete, so the order of one class's
    detections is the same as if they were matched alone). The ranking of a class over the whole set is one
    sort of all detections by (falling score, image, row), what sorting each image and then all stably gives.
    """
    thr = np.asarray(thresholds, dtype=np.float64)
    classes = np.arange(num_classes)
    d_all, d_img = _stack([np.asarray(d).reshape(-1, 6) for d in dets], classes, 5)
    g_all, g_img = _stack([np.asarray(g).reshape(-1, 5) for g in gts], classes, 4)
    d_cls, g_cls = d_all[:, 5].astype(np.int64), g_all[:, 4].astype(np.int64)
    n = len(d_all)
    by_image = np.lexsort((np.arange(n), -d_all[:, 4], d_img))  # per image by falling score, ties by row
    start = np.searchsorted(d_img[by_image], d_img[by_image], side="left")
    rank = np.empty(n, dtype=np.int64)
    rank[by_image] = np.arange(n) - start
    tp = np.zeros((len(thr), n), dtype=bool)
    if n and len(g_all):
        _greedy(d_all, d_img, d_cls, rank, g_all, g_img, g_cls, thr, tp, len(dets))
    order = np.lexsort((np.arange(n), d_img, -d_all[:, 4]))  # the ranking over the set
    out = []
    for c in classes:
        sel = order[d_cls[order] == c]
        scores = d_all[sel, 4] if len(sel) else np.zeros(0)
        out.append((scores, tp[:, sel], int(np.sum(g_cls == c))))
    return out


def _stack(rows: list[np.ndarray], classes: np.ndarray, col: int) -> tuple[np.ndarray, np.ndarray]:
    """(the rows of all images whose label column is one of `classes`, their image index)."""
    if not rows:
        return np.zeros((0, col + 1)), np.zeros(0, dtype=np.int64)
    flat = np.concatenate(rows)
    img = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
    keep = np.isin(flat[:, col], classes)
    return flat[keep], img[keep]


def _greedy(d_all, d_img, d_cls, rank, g_all, g_img, g_cls, thr, tp, n_images) -> None:  # noqa: ANN001
    """Fills tp (T, D) in place: the greedy matching of match_detections, images in chunks whose padded
    (images, detections, ground truths) IoU array holds at most CHUNK entries."""
    k_max, g_per = int(rank.max()) + 1, np.bincount(g_img, minlength=n_images)
    g_rank = np.arange(len(g_all)) - np.searchsorted(g_img, g_img, side="left")  # gts keep their order
    g_max = max(int(g_per.max()), 1)
    step = max(1, CHUNK // (k_max * g_max))
    for lo in range(0, n_images, step):
        hi = min(lo + step, n_images)
        di, gi = (d_img >= lo) & (d_img < hi), (g_img >= lo) & (g_img < hi)
        m = hi - lo
        boxes = np.zeros((m, k_max, 4), dtype=d_all.dtype)
        boxes[d_img[di] - lo, rank[di]] = d_all[di, :4]
        dcls = np.full((m, k_max), -2, dtype=np.int64)
        dcls[d_img[di] - lo, rank[di]] = d_cls[di]
        truth = np.zeros((m, g_max, 4), dtype=g_all.dtype)
        truth[g_img[gi] - lo, g_rank[gi]] = g_all[gi, :4]
        gcls = np.full((m, g_max), -1, dtype=np.int64)
        gcls[g_img[gi] - lo, g_rank[gi]] = g_cls[gi]
        ious = np.where(dcls[:, :, None] == gcls[:, None, :], iou_matrix(boxes, truth), -1.0)
        hits = np.zeros((len(thr), m, k_max), dtype=bool)
        used = np.zeros((len(thr), m, g_max), dtype=bool)
        for k in range(k_max):
            rows = np.flatnonzero(ious[:, k].max(axis=1) >= thr.min())  # the others miss at every threshold
            if len(rows) == 0:
                continue
            free = np.where(used[:, rows], -1.0, ious[rows, k][None])  # (T, R, G)
            best = free.argmax(axis=2)
            hit = np.take_along_axis(free, best[..., None], axis=2)[..., 0] >= thr[:, None]
            hits[:, rows, k] = hit
            t, r = np.nonzero(hit)
            used[t, rows[r], best[t, r]] = True
        tp[:, di] = hits[:, d_img[di] - lo, rank[di]]


def precision_recall(tp: np.ndarray, n_gt: int) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall after each detection (tp sorted by falling score)."""
    hits = np.cumsum(tp)
    return hits / np.arange(1, len(tp) + 1), hits / max(n_gt, 1)


def voc_ap(precision: np.ndarray, recall: np.ndarray) -> float:
    """Area under the monotone precision-recall curve, all points (VOC 2010+)."""
    p = np.concatenate([[0.0], precision, [0.0]])
    r = np.concatenate([[0.0], recall, [recall[-1] if len(recall) else 0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    return float(np.sum((r[1:] - r[:-1]) * p[1:]))


def coco_ap(precision: np.ndarray, recall: np.ndarray) -> float:
    """Mean of the monotone precision at recall 0, 0.01, ..., 1 (0 beyond the highest recall reached)."""
    if len(precision) == 0:
        return 0.0
    p = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.searchsorted(recall, np.linspace(0, 1, 101), side="left")
    return float(np.where(idx < len(p), p[np.minimum(idx, len(p) - 1)], 0.0).mean())


def mean_ap(
    dets: list[np.ndarray],
    gts: list[np.ndarray],
    num_classes: int,
    threshold: float = 0.5,
    coco: bool = False,
) -> float:
    """Mean over classes with ground truth of AP at one IoU threshold (VOC's, or COCO's 101-point)."""
    aps = class_aps(dets, gts, num_classes, (threshold,))
    return float(np.mean([a[1 if coco else 0][0] for a in aps])) if aps else 0.0


def class_aps(
    dets: list[np.ndarray], gts: list[np.ndarray], num_classes: int, thresholds: tuple
) -> list[tuple[list[float], list[float]]]:
    """For each class with ground truth: (VOC APs, COCO APs), one per threshold."""
    out = []
    for _, tp, n_gt in match_detections(dets, gts, num_classes, thresholds):
        if n_gt == 0:
            continue
        curves = [precision_recall(tp[t], n_gt) for t in range(len(thresholds))]
        empty = tp.shape[1] == 0
        out.append(
            ([0.0 if empty else voc_ap(*c) for c in curves], [0.0 if empty else coco_ap(*c) for c in curves])
        )
    return out


def detection_metrics(dets: list[np.ndarray], gts: list[np.ndarray], num_classes: int) -> dict[str, float]:
    """{"map50": VOC mAP@0.5, "map": COCO mAP@[.5:.95], "map50_coco": COCO's 101-point AP at 0.5}."""
    aps = class_aps(dets, gts, num_classes, COCO_THRESHOLDS)
    if not aps:
        return {"map50": 0.0, "map": 0.0, "map50_coco": 0.0}
    voc, coco = np.mean([a[0] for a in aps], axis=0), np.mean([a[1] for a in aps], axis=0)
    return {"map50": float(voc[0]), "map": float(coco.mean()), "map50_coco": float(coco[0])}
