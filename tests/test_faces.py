"""Issue 18 (faces): the identities env and its pairs, agent=embedding with each loss through `rlkit train`
(with resume), env=face_folder on a fixture, `rlkit play run=` (the 2-D plot) and `input=a,b,c` (the
distance matrix), and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rlkit.agents.embedding import EmbeddingAgent
from rlkit.core.checkpoint import load_checkpoint
from rlkit.envs.face_folder import FaceFolderEnv
from rlkit.envs.identities import IdentitiesEnv, make_pairs, nn_accuracy
from rlkit.envs.identities_plots import distance_report, to_2d
from rlkit.envs.synthetic_faces import make_faces
from rlkit.frontend.cli import main
from tests.conftest import ctrl_c_at_update, one_line_error, read_metrics

TINY = [
    "agent=embedding",
    "env=identities",
    "ui=none",
    "num_threads=1",
    "agent.hidden=16",
    "env.kwargs.train_identities=12",
    "env.kwargs.test_identities=6",
    "env.kwargs.images_per_identity=4",
    "env.kwargs.pairs=40",
    "env.kwargs.batch_size=16",
]


# ----- data, pairs, metrics ---------------------------------------------------------------------------------
def test_pairs_are_ten_balanced_folds_of_distinct_images() -> None:
    labels = np.repeat(np.arange(5), 3)
    rows, same = make_pairs(labels, 60, seed=1)
    assert rows.shape == (60, 2) and same.tolist() == ([True] * 3 + [False] * 3) * 10
    assert np.array_equal(labels[rows[:, 0]] == labels[rows[:, 1]], same)
    assert np.all(rows[:, 0] != rows[:, 1])
    assert np.array_equal(make_pairs(labels, 60, seed=1)[0], rows)  # seeded


def test_nn_accuracy_by_hand() -> None:
    emb = np.array([[0.0, 0], [0.1, 0], [5, 5], [5, 5.2]])
    assert nn_accuracy(emb, np.array([0, 0, 1, 1])) == 1.0
    assert nn_accuracy(emb, np.array([0, 1, 1, 1])) == 0.5  # rows 0 and 1 see each other: both wrong


def test_generated_identities_are_fixed_faces_and_train_and_test_are_disjoint() -> None:
    a, _ = make_faces([3, 4], 2)
    b, labels = make_faces([3], 2)
    assert a.shape == (4, 1, 24, 24) and a.dtype == np.uint8 and labels.tolist() == [0, 0]
    assert np.array_equal(a[:2], b)  # identity 3 is the same face whatever else is drawn
    assert not np.array_equal(a[0], a[1])  # two photos of one face differ
    train, test = IdentitiesEnv(split="train"), IdentitiesEnv(split="test")
    assert len(train.identity_names) == 200 and len(test.identity_names) == 100
    assert not set(train.identity_names) & set(test.identity_names)
    assert test.pairs.shape == (600, 2) and test.same.sum() == 300


def test_test_epoch_scores_an_oracle_perfectly_and_a_constant_at_chance() -> None:
    for answer, acc in (("oracle", 1.0), ("constant", 0.5)):
        env = IdentitiesEnv(split="test", dataset="digits", pairs=100, batch_size=64, embedding_width=8)
        env.reset(seed=0)
        done, step = False, 0
        while not done:
            labels = np.resize(env.targets[step * 64 : (step + 1) * 64], 64)
            action = np.eye(8, dtype=np.float32)[labels] if answer == "oracle" else np.ones((64, 8))
            _, reward, done, _, info = env.step(action)
            step += 1
        assert step == 4 and reward == pytest.approx(acc)  # 200 images in batches of 64
        m = info["metrics"]
        assert m["verification_accuracy"] == pytest.approx(acc)
        if answer == "oracle":
            assert m["auc"] == pytest.approx(1.0) and m["eer"] == pytest.approx(0.0)
            assert m["val_at_far"] == 1.0


def test_images_per_person_batches_runs_of_one_identity() -> None:
    env = IdentitiesEnv(train_identities=30, images_per_identity=6, images_per_person=3, batch_size=30)
    env.reset(seed=0)
    assert sorted(env._order) == list(range(180))  # every image once an epoch
    runs = env.targets[env._order].reshape(-1, 3)  # 6 images each: every run is 3 of one identity
    assert np.all(runs == runs[:, :1])
    assert np.all(np.bincount(env.targets[env._order[:30]]) % 3 == 0)  # a batch: whole runs of 3


def test_both_splits_pass_gymnasiums_env_checker() -> None:
    from gymnasium.utils.env_checker import check_env

    small = {"train_identities": 6, "test_identities": 4, "images_per_identity": 3, "pairs": 20}
    for split in ("train", "test"):
        check_env(IdentitiesEnv(split=split, batch_size=8, **small), skip_render_check=True)


# ----- the agent through rlkit train ------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["softmax", "center", "triplet"])
def test_each_loss_trains_and_reports_verification(tmp_path: Path, loss: str) -> None:
    run = tmp_path / "run"
    assert main(["train", *TINY, f"agent.loss={loss}", "total_steps=6", f"hydra.run.dir={run}"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["headline"]["key"] == "verification_accuracy"
    assert 0.0 <= summary["headline"]["value"] <= 1.0
    final = [m for m in read_metrics(run) if "eval/verification_accuracy" in m][-1]
    assert {"eval/auc", "eval/eer", "eval/val_at_far", "eval/far"} <= set(final)
    train = [m for m in read_metrics(run) if "train/loss" in m]
    extra = {"softmax": "train/accuracy", "center": "train/center_loss", "triplet": "train/triplets"}[loss]
    assert train and all(extra in m for m in train)


def test_embeddings_are_unit_length_and_padded_to_the_action_width() -> None:
    env = IdentitiesEnv(split="test", train_identities=4, test_identities=3, images_per_identity=3, pairs=20)
    from rlkit.core.types import AgentContext

    ctx = AgentContext(env.observation_space, env.action_space, agent_name="embedding", env_name="identities")
    agent = EmbeddingAgent(EmbeddingAgent.Config(embedding_dim=5, hidden=8), ctx)
    out = agent.act(env.reset(seed=0)[0][None], explore=False)[0]
    assert out.shape == (100, 128) and np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert np.all(out[:, 5:] == 0)


def test_center_loss_resume_after_ctrl_c_matches_an_uninterrupted_run(tmp_path: Path, monkeypatch) -> None:
    args = [*TINY, "agent.loss=center", "total_steps=6", "eval.every=3", "log_every=1", "checkpoint.every=0"]
    assert main(["train", *args, f"hydra.run.dir={tmp_path / 'ref'}"]) == 0
    run = tmp_path / "run"
    with ctrl_c_at_update(monkeypatch, EmbeddingAgent, 4):
        assert main(["train", *args, f"hydra.run.dir={run}"]) == 130
    assert main(["train", f"resume={run}"]) == 0
    assert read_metrics(run) == read_metrics(tmp_path / "ref")
    ref = load_checkpoint(tmp_path / "ref" / "checkpoints" / "latest.pt")["agent"]["model"]
    resumed = load_checkpoint(run / "checkpoints" / "latest.pt")["agent"]["model"]
    assert torch.count_nonzero(ref["centers"]) > 0  # the centers moved and are part of the checkpoint
    assert all(torch.equal(ref[k], resumed[k]) for k in ref)


# ----- rlkit play -------------------------------------------------------------------------------------------
def test_distance_report_and_2d_projection_by_hand() -> None:
    text = distance_report([Path("a.png"), Path("b.png")], np.array([[1.0, 0], [0, 1.0]]))
    assert text.splitlines()[:3] == ["Images:", "0: a.png", "1: b.png"]
    assert text.splitlines()[-1].split() == ["1", "1.4142", "0.0000"]
    points, how = to_2d(np.array([[1.0, 0, 0], [-1, 0, 0], [0, 0.5, 0], [0, -0.5, 0]]))
    assert how.startswith("PCA") and np.allclose(np.abs(points[:, 0]), [1, 1, 0, 0])


def test_play_writes_the_embedding_plot_and_the_distance_matrix(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", *TINY, "agent.embedding_dim=2", "total_steps=3", f"hydra.run.dir={run}"]) == 0
    assert main(["play", f"run={run}", f"out={tmp_path / 'out'}"]) == 0
    with Image.open(tmp_path / "out" / "latest_embeddings.png") as image:
        assert image.size[0] > 100
    faces, _ = make_faces([1, 1, 2], 1)
    for name, face in zip("abc", faces):
        Image.fromarray(face[0]).save(tmp_path / f"{name}.png")
    capsys.readouterr()
    inputs = ",".join(str(tmp_path / f"{n}.png") for n in "abc")
    assert main(["play", f"run={run}", f"input={inputs}", f"out={tmp_path / 'out'}"]) == 0
    out = capsys.readouterr().out
    assert "Distance matrix" in out and "distances.txt" in out
    lines = out.splitlines()
    start = lines.index("Distance matrix") + 2  # after the header row of column numbers
    dist = np.array([line.split()[1:] for line in lines[start : start + 3]], dtype=float)
    assert np.allclose(np.diag(dist), 0) and np.allclose(dist, dist.T, atol=1e-4) and dist.max() <= 2.0001


# ----- face_folder on a fixture -----------------------------------------------------------------------------
def write_lfw(root: Path) -> Path:
    """Three people (ann 3 images, bob 2, cid 1) as LFW names them, and a pairs file with a header."""
    faces, _ = make_faces([0, 0, 0, 1, 1, 2], 1)
    files = [("ann", 1), ("ann", 2), ("ann", 3), ("bob", 1), ("bob", 2), ("cid", 1)]
    for face, (name, k) in zip(faces, files):
        (root / name).mkdir(parents=True, exist_ok=True)
        Image.fromarray(face[0]).convert("RGB").save(root / name / f"{name}_{k:04d}.jpg")
    pairs = root / "pairs.txt"
    pairs.write_text("3 2\n" + "ann 1 2\nbob 1 2\nann 3 cid 1\nbob 2 ann 1\n" * 3)  # 12 pairs: 10 folds
    return pairs


def test_face_folder_reads_people_and_pairs(tmp_path: Path) -> None:
    pairs = write_lfw(tmp_path)
    train = FaceFolderEnv(root=str(tmp_path), image_size=16, batch_size=4)
    assert train.inputs.shape == (6, 3, 16, 16) and train.identity_names == ["ann", "bob", "cid"]
    assert train.targets.tolist() == [0, 0, 0, 1, 1, 2]
    test = FaceFolderEnv(root=str(tmp_path), pairs=str(pairs), split="test", image_size=16)
    assert test.same.tolist() == [True, True, False, False] * 3 and len(test.inputs) == 24
    names = test.identity_names
    assert [names[t] for t in test.targets[:4]] == ["ann", "ann", "bob", "bob"]


def test_face_folder_trains_through_the_cli_and_a_bad_root_fails_in_one_line(tmp_path: Path, capsys) -> None:
    pairs = write_lfw(tmp_path / "lfw")
    args = ["agent=embedding", "env=face_folder", "ui=none", "num_threads=1", "agent.hidden=8"]
    args += [f"env.kwargs.root={tmp_path / 'lfw'}", f"env.kwargs.pairs={pairs}", "env.kwargs.image_size=16"]
    assert main(["train", *args, "total_steps=2", f"hydra.run.dir={tmp_path / 'run'}"]) == 0
    final = [m for m in read_metrics(tmp_path / "run") if "eval/auc" in m][-1]
    assert 0 <= final["eval/verification_accuracy"] <= 1
    bad_root = f"env.kwargs.root={tmp_path / 'nope'}"
    err = one_line_error(capsys, ["train", *args[:5], bad_root, "total_steps=2"])
    assert "not found" in err


def test_bad_embedding_settings_fail_in_one_line(capsys) -> None:
    assert "agent.loss" in one_line_error(capsys, ["train", *TINY, "agent.loss=arcface"])
    assert "semihard" in one_line_error(capsys, ["train", *TINY, "agent.mining=easy"])
    assert "embedding_width" in one_line_error(capsys, ["train", *TINY, "agent.embedding_dim=500"])
    err = one_line_error(capsys, ["train", "agent=embedding", "env=digits", "ui=none"])
    assert "face-embedding task" in err
    err = one_line_error(capsys, ["train", *TINY, "agent.num_classes=3", "total_steps=2"])
    assert "agent.num_classes" in err


# ----- face detection in front (OpenCV's Haar cascade) ------------------------------------------------------
def test_haar_cascade_finds_the_astronauts_face_and_crop_feeds_face_folder(tmp_path: Path) -> None:
    from skimage import data

    from rlkit.envs.face_crop import crop_faces, face_boxes

    photo = data.astronaut()  # 512x512, Eileen Collins' face at about x 177-272, y 66-161
    boxes = face_boxes(photo)
    assert len(boxes) == 1
    x0, y0, x1, y1 = boxes[0]
    assert 150 < x0 < 200 and 250 < x1 < 300 and 40 < y0 < 90 and 140 < y1 < 190
    assert len(face_boxes(np.zeros((200, 200, 3), np.uint8))) == 0
    (crop,) = crop_faces(photo, size=32)
    assert crop.shape == (32, 32, 3) and crop.dtype == np.uint8
    for k in (1, 2):
        (tmp_path / "eileen").mkdir(exist_ok=True)
        Image.fromarray(photo).save(tmp_path / "eileen" / f"eileen_{k:04d}.jpg")
    env = FaceFolderEnv(root=str(tmp_path), image_size=32, crop=True, grayscale=True)
    assert env.inputs.shape == (2, 1, 32, 32)
    assert abs(float(env.inputs[0].mean()) - float(np.asarray(Image.fromarray(crop).convert("L")).mean())) < 8
