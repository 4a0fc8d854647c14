"""Face verification metrics as the book's validate_on_lfw prints them (FaceNet's lfw.evaluate).

Given the distances of N pairs and whether each pair is the same identity: accuracy over 10 folds (each
fold's threshold chosen on the other nine, among 0, 0.01, ..., 4: squared distances of unit vectors lie in
[0, 4]), the validation rate (true accept rate) at a fixed false accept rate (the threshold giving that FAR
on the nine training folds, found by linear interpolation, applied to the held-out fold), the area under the
ROC curve and the equal error rate (where the false accept and false reject rates meet). Folds are
contiguous and unshuffled, as scikit-learn's KFold(10, shuffle=False) in the book's code: the LFW pairs file
lists its 10 folds in order. Building blocks for the faces part of issue 18 (not wired to an env yet).
"""

from __future__ import annotations

import numpy as np

THRESHOLDS = np.arange(0, 4, 0.01)


def folds(n: int, k: int = 10) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train indices, test indices) of k contiguous folds of n items (the first n % k folds one longer)."""
    sizes = np.full(k, n // k) + (np.arange(k) < n % k)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    idx = np.arange(n)
    return [
        (np.concatenate([idx[: bounds[i]], idx[bounds[i + 1] :]]), idx[bounds[i] : bounds[i + 1]])
        for i in range(k)
    ]


def rates(threshold: float, dist: np.ndarray, same: np.ndarray) -> tuple[float, float, float]:
    """(true positive rate, false positive rate, accuracy) of 'same when dist < threshold'."""
    pred = dist < threshold
    tp, fp = np.sum(pred & same), np.sum(pred & ~same)
    tpr = tp / max(np.sum(same), 1)
    fpr = fp / max(np.sum(~same), 1)
    return float(tpr), float(fpr), float(np.mean(pred == same))


def kfold_accuracy(dist: np.ndarray, same: np.ndarray, k: int = 10) -> tuple[float, float]:
    """(mean, std) over k folds of the test-fold accuracy at the threshold best on the other folds."""
    accs = []
    for train, test in folds(len(dist), k):
        best = max(THRESHOLDS, key=lambda t: rates(t, dist[train], same[train])[2])
        accs.append(rates(best, dist[test], same[test])[2])
    return float(np.mean(accs)), float(np.std(accs))


def val_at_far(
    dist: np.ndarray, same: np.ndarray, far_target: float = 1e-3, k: int = 10
) -> tuple[float, float]:
    """(mean validation rate, mean false accept rate) over k folds at the threshold whose training-fold FAR
    is far_target (0 when no threshold reaches it), as FaceNet's calculate_val."""
    vals, fars = [], []
    for train, test in folds(len(dist), k):
        far_train = np.array([rates(t, dist[train], same[train])[1] for t in THRESHOLDS])
        if far_train.max() >= far_target:  # FAR rises with the threshold: for each FAR its largest threshold
            _, from_end = np.unique(far_train[::-1], return_index=True)
            last = len(THRESHOLDS) - 1 - from_end
            threshold = float(np.interp(far_target, far_train[last], THRESHOLDS[last]))
        else:
            threshold = 0.0
        tpr, fpr, _ = rates(threshold, dist[test], same[test])
        vals.append(tpr)
        fars.append(fpr)
    return float(np.mean(vals)), float(np.mean(fars))


def roc_auc_eer(dist: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """(area under the ROC curve, equal error rate) over all pairs, the ROC traced by THRESHOLDS (extended
    to the distances' maximum, so it ends at (1, 1))."""
    ts = np.concatenate([THRESHOLDS, [max(4.0, float(dist.max()) + 1e-6)]])
    tpr, fpr = np.array([rates(t, dist, same)[:2] for t in ts]).T
    fpr_full, tpr_full = np.concatenate([[0.0], fpr]), np.concatenate([[0.0], tpr])
    auc = float(np.trapezoid(tpr_full, fpr_full))
    # EER: where the false reject rate 1 - tpr equals the false accept rate fpr (linear between thresholds)
    gap = (1 - tpr_full) - fpr_full
    i = int(np.argmax(gap <= 0))
    if i == 0:
        return auc, float(fpr_full[0])
    w = gap[i - 1] / (gap[i - 1] - gap[i])
    return auc, float(fpr_full[i - 1] + w * (fpr_full[i] - fpr_full[i - 1]))


def verification_metrics(dist: np.ndarray, same: np.ndarray, far_target: float = 1e-3) -> dict[str, float]:
    """accuracy (10-fold mean), accuracy_std, val (at far_target), far, auc, eer: validate_on_lfw's lines."""
    same = np.asarray(same, dtype=bool)
    acc, acc_std = kfold_accuracy(dist, same)
    val, far = val_at_far(dist, same, far_target)
    auc, eer = roc_auc_eer(dist, same)
    return {"accuracy": acc, "accuracy_std": acc_std, "val": val, "far": far, "auc": auc, "eer": eer}
