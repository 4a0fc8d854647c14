"""Training splits of the task envs score only their headline (the reward, and the live display's recent
value: all the runner reads from a training env's info["metrics"]); evaluation splits score everything.
The headline must be the number the full scoring gives (checked against the metric functions by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from rlkit.envs.cyclegan import UnpairedEnv
from rlkit.envs.detection import ShapesDetectionEnv
from rlkit.envs.detection_metrics import detection_metrics, mean_ap
from rlkit.envs.gan import DigitsGanEnv, GaussianMixtureEnv
from rlkit.envs.gan_metrics import image_metrics, mode_metrics
from rlkit.envs.image2image import Image2ImageEnv, image_scores
from rlkit.envs.image2image_pictures import hwc, to_uint8


def play_epoch(env, action_of) -> tuple[list[dict], float, list]:
    """Steps an epoch with action_of(obs, k); (infos' metrics, the last reward, the actions)."""
    obs, _ = env.reset(seed=3)
    metrics, actions, k = [], [], 0
    while True:
        action = action_of(obs, k)
        actions.append(action)
        obs, reward, terminated, _, info = env.step(action)
        metrics.append(info["metrics"])
        k += 1
        if terminated:
            return metrics, reward, actions


def test_ring_training_scores_only_the_epochs_modes_covered():
    rng = np.random.default_rng(0)
    env = GaussianMixtureEnv(split="train", batch_size=64, batches=3, min_per_mode=2)
    near_modes = lambda obs, k: (obs + rng.normal(0, 0.03, obs.shape)).astype(np.float32)  # noqa: E731
    metrics, reward, actions = play_epoch(env, near_modes)
    assert [set(m) for m in metrics] == [{"count"}, {"count"}, {"count", "modes_covered"}]
    expected = mode_metrics(np.concatenate(actions), env.modes, env.std, 2)["modes_covered"]
    assert reward == metrics[-1]["modes_covered"] == expected > 0
    test = GaussianMixtureEnv(split="test", batch_size=64, batches=3, min_per_mode=2)
    test_metrics, _, _ = play_epoch(test, near_modes)
    assert set(test_metrics[0]) == {"count", "high_quality"}
    assert set(test_metrics[-1]) == {"count", "high_quality", "modes_covered"}


def test_digits_gan_training_scores_only_the_epochs_frechet():
    env = DigitsGanEnv(split="train", batch_size=100, limit=300)
    noisy = lambda obs, k: np.clip(obs + 0.5 * np.sin(obs * 7 + k), -1, 1).astype(np.float32)  # noqa: E731
    metrics, reward, actions = play_epoch(env, noisy)
    assert [set(m) for m in metrics] == [{"count"}] * 2 + [{"count", "frechet"}]
    full = image_metrics(env.classifier, env.real_features, np.concatenate(actions))
    assert reward == -metrics[-1]["frechet"] == -full["frechet"]
    assert full["frechet"] > 1
    test = DigitsGanEnv(split="test", batch_size=100, limit=200)
    test_metrics, _, _ = play_epoch(test, noisy)
    assert set(test_metrics[-1]) == {"count", "frechet", "frechet_floor", "class_entropy", "classes_covered"}


def test_image2image_training_scores_only_psnr():
    env = Image2ImageEnv(task="colorize", split="train", batch_size=4, crop=32, crops_per_epoch=8)
    targets = []

    def answer(obs, k):  # a wrong colour: the grey input tinted
        targets.append(env.targets[k * 4 : (k + 1) * 4].copy())
        return np.clip(obs / 127.5 - 1 + np.array([0.2, 0, -0.2])[:, None, None], -1, 1).astype(np.float32)

    metrics, reward, actions = play_epoch(env, answer)
    assert [set(m) for m in metrics] == [{"count", "psnr"}] * 2
    by_hand = [
        image_scores(p, t)[0] for a, tg in zip(actions, targets) for p, t in zip(hwc(to_uint8(a)), hwc(tg))
    ]
    assert [m["psnr"] for m in metrics] == pytest.approx([np.mean(by_hand[:4]), np.mean(by_hand[4:])], abs=0)
    assert reward == pytest.approx(np.mean(by_hand), rel=1e-12)
    test = Image2ImageEnv(task="colorize", split="test", batch_size=4, crop=32, eval_crops_per_image=1)
    test_metrics, _, _ = play_epoch(test, lambda obs, k: (obs / 127.5 - 1).astype(np.float32))
    assert set(test_metrics[0]) == {"count", "psnr", "ssim", "baseline_psnr", "baseline_ssim"}


def test_cyclegan_training_scores_psnr_and_cycle_error_only():
    env = UnpairedEnv(split="train", batch_size=4, crop=32, crops_per_epoch=4)
    answer = lambda obs, k: np.concatenate([obs, obs], 1).astype(np.float32) / 127.5 - 0.9  # noqa: E731
    metrics, _, _ = play_epoch(env, answer)
    assert set(metrics[0]) == {"count", "psnr", "cycle_error"} and metrics[0]["psnr"] > 0
    test = UnpairedEnv(split="test", batch_size=4, crop=32, eval_crops_per_image=1)
    test_metrics, _, _ = play_epoch(test, answer)
    assert {"ssim", "baseline_psnr", "baseline_ssim"} <= set(test_metrics[0])


def jittered(objects: np.ndarray, rng: np.random.Generator, slots: int = 6) -> np.ndarray:
    """Detections near the true boxes (some shifted past IoU 0.5, some of the wrong class), random scores."""
    dets = np.full((slots, 6), -1.0, np.float32)
    for i, (box, label) in enumerate(zip(objects[:slots, :4], objects[:slots, 4])):
        side = box[2:] - box[:2]
        shift = rng.uniform(-0.35, 0.35, 2) * side
        wrong = rng.random() < 0.2
        dets[i] = [*(box[:2] + shift), *(box[2:] + shift), rng.random(), (label + wrong) % 4]
    return dets


def test_map50_alone_equals_detection_metrics_map50():
    rng = np.random.default_rng(1)
    env = ShapesDetectionEnv(split="test", size=24)
    dets = [jittered(o, rng) for o in env.objects]
    dets = [d[d[:, 5] >= 0] for d in dets]
    full = detection_metrics(dets, env.objects, 4)
    assert mean_ap(dets, env.objects, 4, 0.5) == full["map50"]
    assert 0.1 < full["map50"] < 0.95 and full["map"] < full["map50"]


def test_detection_training_scores_only_map50():
    rng = np.random.default_rng(2)
    env = ShapesDetectionEnv(split="train", size=12, batch_size=4)
    seen = []

    def answer(obs, k):
        rows = env._order[k * 4 : (k + 1) * 4]
        seen.extend(env.objects[r] for r in rows)
        dets = np.full((4, 25, 6), -1.0, np.float32)
        dets[:, :6] = [jittered(env.objects[r], rng) for r in rows]
        return dets

    metrics, reward, actions = play_epoch(env, answer)
    assert [set(m) for m in metrics] == [{"count"}] * 2 + [{"count", "map50"}]
    found = [d[d[:, 5] >= 0] for a in actions for d in a]
    assert reward == metrics[-1]["map50"] == detection_metrics(found, seen, 4)["map50"] > 0.1
    test = ShapesDetectionEnv(split="test", size=4, batch_size=4)
    test_metrics, _, _ = play_epoch(test, lambda obs, k: np.full((4, 25, 6), -1.0, np.float32))
    assert set(test_metrics[-1]) == {"count", "map50", "map", "map50_coco"}
