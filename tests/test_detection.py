"""Issue 18 (detection): mAP on a hand-made case, the scenes, the detection env, the detector agent through
`rlkit train` (with resume), env=voc on a fixture, and `rlkit play run= input=`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rlkit.agents.detection_ops import encode_boxes, make_anchors
from rlkit.agents.detector import DetectorAgent, anchor_targets, detection_loss
from rlkit.core.checkpoint import load_checkpoint
from rlkit.envs.detection import ShapesDetectionEnv
from rlkit.envs.detection_metrics import detection_metrics, mean_ap
from rlkit.envs.shapes_scenes import CLASSES, make_scenes
from rlkit.envs.voc import VocEnv, read_annotation
from rlkit.frontend.cli import main
from tests.conftest import ctrl_c_at_update, one_line_error, read_metrics

SMALL = [
    "agent=detector",
    "env=shapes_detection",
    "ui=none",
    "num_threads=1",
    "agent.width=4",
    "env.kwargs.size=16",
    "env.kwargs.batch_size=8",
    "env.eval_kwargs.size=8",
]


# ----- the metric -------------------------------------------------------------------------------------------
def hand_case() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Two images, one object each (class 0); three detections: TP 0.9, a duplicate 0.8 (FP), TP 0.7."""
    gts = [np.array([[0, 0, 10, 10, 0]], float), np.array([[0, 0, 10, 10, 0]], float)]
    dets = [
        np.array([[0, 0, 10, 10, 0.9, 0], [1, 0, 10, 10, 0.8, 0]], float),  # IoU 1 and 0.9
        np.array([[0, 0, 10, 11, 0.7, 0]], float),  # IoU 100/110 = 0.909
    ]
    return dets, gts


def test_map_of_a_hand_made_case() -> None:
    dets, gts = hand_case()
    # precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1: the monotone curve is 1 up to recall 1/2, then 2/3
    assert math.isclose(mean_ap(dets, gts, 1, 0.5), 0.5 * 1 + 0.5 * 2 / 3)
    # COCO's 101 points: recall 0..0.50 (51 points) at 1, 0.51..1 (50 points) at 2/3
    assert math.isclose(mean_ap(dets, gts, 1, 0.5, coco=True), (51 + 50 * 2 / 3) / 101)
    # at IoU 0.95 the second image's box (0.909) misses: precision 1, 1/2, 1/3 at recall 1/2: AP 51/101
    assert math.isclose(mean_ap(dets, gts, 1, 0.95, coco=True), 51 / 101)
    m = detection_metrics(dets, gts, 1)
    expected = ((51 + 50 * 2 / 3) / 101 * 9 + 51 / 101) / 10  # thresholds 0.5 .. 0.9 all match, 0.95 not
    assert math.isclose(m["map"], expected) and math.isclose(m["map50"], 5 / 6)


def test_map_counts_classes_with_ground_truth_and_zero_for_missed_ones() -> None:
    dets, gts = hand_case()
    gts[1] = np.array([[20, 20, 30, 30, 1]], float)  # class 1 never detected: AP 0
    dets[1] = np.zeros((0, 6))
    # class 0: 1 object, TP 0.9 then FP 0.8: AP 1; class 1: 0; class 2 has no objects: not counted
    assert math.isclose(mean_ap(dets, gts, 3, 0.5), 0.5)


# ----- scenes and the env ----------------------------------------------------------------------------------
def test_scenes_are_seeded_with_one_to_six_objects_inside_the_image() -> None:
    images, objects = make_scenes(40, seed=3)
    again, _ = make_scenes(40, seed=3)
    assert images.shape == (40, 3, 64, 64) and images.dtype == np.uint8 and np.array_equal(images, again)
    counts = [len(o) for o in objects]
    assert min(counts) >= 1 and max(counts) <= 6
    boxes = np.concatenate(objects)
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:4] <= 64).all() and (boxes[:, 2:4] > boxes[:, :2]).all()
    assert set(boxes[:, 4].astype(int)) == set(range(len(CLASSES)))
    other, _ = make_scenes(40, seed=4)
    assert not np.array_equal(images, other)


def answers(env: ShapesDetectionEnv, rows: np.ndarray) -> np.ndarray:
    """The ground truth of `rows` as a perfect detector's action."""
    act = np.zeros(env.action_space.shape, dtype=np.float32)
    act[..., 5] = -1
    for i, r in enumerate(rows):
        obj = env.objects[r]
        act[i, : len(obj), :4], act[i, : len(obj), 4], act[i, : len(obj), 5] = obj[:, :4], 1.0, obj[:, 4]
    return act


def test_an_oracle_scores_map_1_at_the_epochs_last_step_only() -> None:
    env = ShapesDetectionEnv(split="test", size=10, batch_size=4)
    assert env.action_space.shape == (4, 25, 6) and env.action_space.high[0, 0, 5] == 3
    obs, _ = env.reset(seed=0)
    rewards = []
    for _ in range(env.batches_per_epoch):  # 4 + 4 + 2 (padded, masked)
        rows = env._rows()
        obs, reward, terminated, _, info = env.step(answers(env, rows))
        rewards.append(reward)
        assert np.array_equal(info["targets"][: len(rows)], env.targets[rows])
    assert terminated and rewards[:-1] == [0.0, 0.0] and info["mask"].tolist() == [True, True, False, False]
    assert info["metrics"]["map50"] == 1.0 and info["metrics"]["map"] == 1.0 and rewards[-1] == 1.0


def test_test_scenes_are_held_out() -> None:
    train = ShapesDetectionEnv(split="train", size=8)
    test = ShapesDetectionEnv(split="test", size=8)
    assert not np.array_equal(train.images, test.images)


# ----- the agent's matching and loss ---------------------------------------------------------------------
def test_anchor_targets_label_the_matching_anchor_and_encode_its_offsets() -> None:
    anchors = make_anchors(2, 2, 8, scales=(8.0,), ratios=(1.0,))  # four 8x8 anchors at (4,4), (12,4), ...
    obj = torch.tensor([[9.0, 1, 17, 9, 2], [0, 0, 0, 0, -1]])  # one object of class 2 near anchor 1
    labels, offsets = anchor_targets(anchors, obj, 0.5, 0.4)
    assert labels.tolist() == [0, 3, 0, 0]  # class 2 -> 3 (0 is background)
    expected = encode_boxes(obj[:1, :4], anchors[1:2])[0] / torch.tensor([0.1, 0.1, 0.2, 0.2])
    assert torch.allclose(offsets[1], expected)


def test_detection_loss_is_finite_without_objects_and_hard_negatives_are_counted() -> None:
    out = torch.zeros(1, 10, 1 + 1 + 4)  # 10 anchors, 1 class: equal logits, CE log 2 each
    labels, offsets = torch.zeros(1, 10, dtype=torch.long), torch.zeros(1, 10, 4)
    loss, _ = detection_loss(out, labels, offsets, neg_per_pos=3)
    assert math.isclose(float(loss), 3 * math.log(2), rel_tol=1e-6)  # 3 negatives, no positive (norm 1)
    labels[0, 0] = 1
    loss, parts = detection_loss(out, labels, offsets, neg_per_pos=3)
    assert math.isclose(parts["cls_loss"], 4 * math.log(2), rel_tol=1e-6) and parts["box_loss"] == 0.0


# ----- through rlkit train, resume, play -------------------------------------------------------------------
def test_detector_trains_through_the_cli_and_reports_map(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(["train", *SMALL, "total_steps=4", "log_every=2", f"hydra.run.dir={run}"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["headline"]["key"] == "map50" and 0.0 <= summary["headline"]["value"] <= 1.0
    final = [m for m in read_metrics(run) if "eval/map50" in m][-1]
    assert {"eval/map", "eval/map50_coco"} <= set(final)
    assert any("train/loss" in m and "train/box_loss" in m for m in read_metrics(run))
    assert (run / "checkpoints" / "latest.pt").is_file()


def test_detector_resume_after_ctrl_c_matches_an_uninterrupted_run(tmp_path: Path, monkeypatch) -> None:
    args = [*SMALL, "total_steps=6", "eval.every=3", "log_every=1", "checkpoint.every=0"]
    assert main(["train", *args, f"hydra.run.dir={tmp_path / 'ref'}"]) == 0
    run = tmp_path / "run"
    with ctrl_c_at_update(monkeypatch, DetectorAgent, 4):
        assert main(["train", *args, f"hydra.run.dir={run}"]) == 130
    assert load_checkpoint(run / "checkpoints" / "latest.pt")["agent"]["updates"] == 4
    assert main(["train", f"resume={run}"]) == 0
    assert read_metrics(run) == read_metrics(tmp_path / "ref")
    ref = load_checkpoint(tmp_path / "ref" / "checkpoints" / "latest.pt")["agent"]["model"]
    resumed = load_checkpoint(run / "checkpoints" / "latest.pt")["agent"]["model"]
    assert all(torch.equal(ref[k], resumed[k]) for k in ref)


def test_play_input_draws_boxes_on_the_users_images(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", *SMALL, "total_steps=2", f"hydra.run.dir={run}"]) == 0
    folder = tmp_path / "pics"
    folder.mkdir()
    Image.fromarray(np.full((50, 80, 3), 200, np.uint8)).save(folder / "a.png")
    Image.fromarray(np.zeros((30, 30, 3), np.uint8)).save(folder / "b.jpg")
    capsys.readouterr()
    assert main(["play", f"run={run}", f"input={folder}", f"out={tmp_path / 'out'}"]) == 0
    out = capsys.readouterr().out
    for name, size in (("a", (80, 50)), ("b", (30, 30))):
        with Image.open(tmp_path / "out" / f"{name}_boxes.png") as image:
            assert image.size == size  # drawn at the image's own size
        assert f"{name}_boxes.png" in out
    err = one_line_error(capsys, ["play", f"run={run}", f"input={tmp_path / 'missing.png'}"])
    assert "does not exist" in err


def test_bad_detector_settings_fail_in_one_line(capsys) -> None:
    err = one_line_error(capsys, ["train", *SMALL, "agent.nms_iou=0"])
    assert "agent.nms_iou" in err
    err = one_line_error(capsys, ["train", "agent=detector", "env=digits", "ui=none"])
    assert "detection task env" in err


# ----- VOC on a fixture -------------------------------------------------------------------------------------
def write_voc(root: Path) -> None:
    """A two-image VOC year folder: img1 (40x20, a dog and a difficult cat), img2 (20x20, a person)."""
    objects = {
        "img1": ((40, 20), [("dog", 1, 1, 20, 10, 0), ("cat", 5, 5, 10, 10, 1)]),
        "img2": ((20, 20), [("person", 11, 11, 20, 20, 0)]),
    }
    for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (root / sub).mkdir(parents=True)
    for image_id, ((w, h), objs) in objects.items():
        Image.fromarray(np.full((h, w, 3), 128, np.uint8)).save(root / "JPEGImages" / f"{image_id}.jpg")
        xml = "".join(
            f"<object><name>{n}</name><difficult>{d}</difficult><bndbox><xmin>{a}</xmin><ymin>{b}</ymin>"
            f"<xmax>{c}</xmax><ymax>{e}</ymax></bndbox></object>"
            for n, a, b, c, e, d in objs
        )
        size = f"<size><width>{w}</width><height>{h}</height><depth>3</depth></size>"
        text = f"<annotation>{size}{xml}</annotation>"
        (root / "Annotations" / f"{image_id}.xml").write_text(text)
    (root / "ImageSets" / "Main" / "train.txt").write_text("img1\nimg2\n")
    (root / "ImageSets" / "Main" / "val.txt").write_text("img2\n")


def test_voc_reads_annotations_and_scales_boxes(tmp_path: Path) -> None:
    write_voc(tmp_path)
    (w, h), obj = read_annotation(tmp_path / "Annotations" / "img1.xml")
    assert (w, h) == (40, 20) and obj.tolist() == [[0, 0, 20, 10, 11]]  # difficult cat left out; dog = 11
    env = VocEnv(root=str(tmp_path), image_size=32, batch_size=2)
    assert env.images.shape == (2, 3, 32, 32) and env.class_names[11] == "dog"
    assert np.allclose(env.objects[0], [[0, 0, 16, 16, 11]])  # x * 32/40, y * 32/20
    assert np.allclose(env.objects[1], [[16, 16, 32, 32, 14]])
    assert len(VocEnv(root=str(tmp_path), split="test", image_size=32).images) == 1


def test_voc_trains_through_the_cli_and_a_wrong_root_fails_in_one_line(tmp_path: Path, capsys) -> None:
    write_voc(tmp_path / "voc")
    args = ["agent=detector", "env=voc", "ui=none", "num_threads=1", "agent.width=4"]
    args += [f"env.kwargs.root={tmp_path / 'voc'}", "env.kwargs.image_size=32", "total_steps=2"]
    assert main(["train", *args, f"hydra.run.dir={tmp_path / 'run'}"]) == 0
    err = one_line_error(capsys, ["train", *args[:-3], f"env.kwargs.root={tmp_path}", "total_steps=2"])
    assert "ImageSets" in err


@pytest.mark.parametrize("bad", ["split=dev", "image_size=8"])
def test_bad_scene_arguments_fail_in_one_line(capsys, bad: str) -> None:
    err = one_line_error(capsys, ["train", *SMALL, f"env.kwargs.{bad}", "total_steps=1"])
    assert f"env.kwargs.{bad.split('=')[0]}" in err


def test_shapes_detection_passes_gymnasiums_env_checker() -> None:
    from gymnasium.utils.env_checker import check_env

    with pytest.warns(UserWarning, match="infinity"):  # boxes and scores are unbounded
        check_env(ShapesDetectionEnv(size=8, batch_size=4), skip_render_check=True)
