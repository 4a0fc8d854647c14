"""Issue 16 (captioning, torch part): the shapes_captions scenes and their splits, BLEU-1..4 and the
nearest-neighbour baseline, the captioning agent's decoding, and `rlkit train`/`play` with it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rlkit.agents.captioning import Captioner, CaptioningConfig
from rlkit.agents.seq2seq_search import beam_search, greedy
from rlkit.core.tokens import BOS
from rlkit.envs.shapes_captions import (
    COLORS,
    SHAPES,
    ShapesCaptionsEnv,
    bleu_scores,
    nearest_neighbour_captions,
    shapes_dataset,
)
from rlkit.frontend.cli import main

SMALL = ["agent=captioning", "env=shapes_captions", "ui=none", "num_threads=1", "agent.units=16"]
TINY = ["agent.channels=4", "env.kwargs.n_train=64", "env.eval_kwargs.n_test=40", "env.kwargs.batch_size=32"]


def test_scenes_are_seeded_with_disjoint_splits_and_true_captions() -> None:
    a, b = shapes_dataset(20, 5), shapes_dataset(20, 5)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    train, test = ShapesCaptionsEnv(split="train", n_train=300), ShapesCaptionsEnv(split="test")
    flat = {img.tobytes() for img in train.inputs}
    assert not any(img.tobytes() in flat for img in test.inputs)
    assert train.inputs.shape == (300, 3, 32, 32) and train.inputs.dtype == np.uint8
    for img, caps in zip(test.inputs, test.captions):
        assert len(caps) == 5
        colors = {c for c in COLORS if any(c in cap.split() for cap in caps)}
        for color in colors:  # every colour a caption names is in the picture
            assert (img.transpose(1, 2, 0) == COLORS[color]).all(-1).any()
        for cap in caps:
            assert any(s in cap.split() for shapes in SHAPES.values() for s in shapes)


def test_bleu_of_a_reference_caption_is_100_and_the_nearest_neighbour_baseline_copies_train() -> None:
    refs = [["a red circle", "a big red disc"], ["a blue box left of a small red circle", "a blue square"]]
    assert bleu_scores(["a big red disc", "a blue box left of a small red circle"], refs)[
        "bleu4"
    ] == pytest.approx(100.0)
    assert bleu_scores(["green", "yellow"], refs)["bleu1"] == 0.0
    env = ShapesCaptionsEnv(split="test", n_test=50)
    assert nearest_neighbour_captions(env.inputs, env.captions, env.inputs[:7]) == [
        c[0] for c in env.captions[:7]
    ]
    env.reset(seed=0)
    _, reward, done, _, info = env.step(env.targets[:64].copy())
    assert done and reward == pytest.approx(100.0) and info["metrics"]["exact_match"] == 1.0


def test_training_picks_a_new_reference_each_epoch() -> None:
    env = ShapesCaptionsEnv(split="train", n_train=200)
    env.reset(seed=0)
    first = env.targets.copy()
    env.reset(seed=1)
    assert not np.array_equal(first, env.targets)
    test = ShapesCaptionsEnv(split="test", n_test=30)
    test.reset(seed=3)
    assert np.array_equal(test.targets, test.all_ids[:, 0])


@pytest.mark.parametrize("attention", ["none", "bahdanau", "scaled_luong"])
def test_captioner_beam_of_width_one_is_greedy_and_teacher_forcing_matches_steps(attention: str) -> None:
    torch.manual_seed(0)
    cfg = CaptioningConfig(units=8, channels=4, attention=attention, dropout=0.0, num_layers=2)
    net = Captioner((3, 32, 32), 20, cfg).eval()
    images = torch.as_tensor(shapes_dataset(3, 0)[0])
    with torch.no_grad():
        ids = greedy(net, images, 8)[0]
        assert torch.equal(ids, beam_search(net, images, 8, width=1, alpha=0.6)[0][:, : ids.shape[1]])
        prev = torch.cat([torch.full((3, 1), BOS), ids[:, :-1].clamp(min=4)], 1)
        whole = net(images, prev)
        state, memo = net.start(images)
        steps = [net.decoder(prev[:, t : t + 1], state, memo) for t in range(1)]
        assert torch.allclose(whole[:, :1], steps[0][0], atol=1e-5)


def test_captioning_trains_evaluates_and_draws_its_captions(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    args = [*SMALL, *TINY, "agent.attention=luong", "agent.beam=2", "total_steps=4", "eval.every=2"]
    assert main(["train", *args, f"hydra.run.dir={run}"]) == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in rows if "eval/bleu4" in r]
    assert [r["step"] for r in evals] == [2, 4] and all(f"eval/bleu{n}" in evals[-1] for n in (1, 2, 3))
    assert all(r["eval/return_mean"] == r["eval/bleu4"] for r in evals)
    assert json.loads((run / "summary.json").read_text())["headline"]["key"] == "bleu4"
    out = tmp_path / "out"
    assert main(["play", f"run={run}", f"out={out}", "render=text", "speed=0"]) == 0
    assert f"Wrote {out / 'latest_captions.png'}" in capsys.readouterr().out
    with Image.open(out / "latest_captions.png") as image:
        assert image.format == "PNG" and image.size[1] == 12 * (96 + 4)
    assert main(["train", "agent=captioning", "env=translation", "ui=none"]) == 2


def write_coco(root: Path) -> None:
    """A tiny COCO 2014 layout: 3 train images, 2 val images, captions JSON files."""
    (root / "annotations").mkdir(parents=True)
    images, _ = shapes_dataset(5, 0)
    for split, ids in (("train2014", [1, 2, 3]), ("val2014", [4, 5])):
        (root / split).mkdir()
        records, anns = [], []
        for i in ids:
            name = f"COCO_{split}_{i:012d}.jpg"
            Image.fromarray(images[i - 1].transpose(1, 2, 0)).resize((48, 40)).save(root / split / name)
            records.append({"id": i, "file_name": name})
            anns += [
                {"image_id": i, "id": 10 * i + k, "caption": f"A Red shape, number {k}."} for k in range(6)
            ]
        anns.append({"image_id": ids[0], "id": 999, "caption": "zebra crossing"})
        data = {"images": records, "annotations": anns}
        (root / "annotations" / f"captions_{split}.json").write_text(json.dumps(data))


def test_coco_captions_reads_the_coco_layout(tmp_path: Path) -> None:
    from rlkit.core.errors import UserError
    from rlkit.envs.coco_captions import CocoCaptionsEnv

    write_coco(tmp_path)
    env = CocoCaptionsEnv(root=str(tmp_path), split="test", image_size=16, min_count=2, batch_size=2)
    assert env.inputs.shape == (2, 3, 16, 16) and env.inputs.dtype == np.uint8
    assert env.captions[0][:2] == ["a red shape number 0", "a red shape number 1"]
    assert "zebra" not in env.vocab and {"a", "red", "shape", "number"} <= set(env.vocab)  # seen once only
    train = CocoCaptionsEnv(root=str(tmp_path), image_size=16, min_count=1, limit=2, batch_size=2)
    assert len(train.inputs) == 2 and "zebra" in train.vocab
    with pytest.raises(UserError, match="needs env.kwargs.root"):
        CocoCaptionsEnv()
    with pytest.raises(UserError, match="captions_train2014.json not found"):
        CocoCaptionsEnv(root=str(tmp_path / "nowhere"))
    run = tmp_path / "run"
    args = [
        *SMALL,
        "agent.channels=4",
        "env=coco_captions",
        f"env.kwargs.root={tmp_path}",
        "env.kwargs.image_size=16",
    ]
    assert main(["train", *args, "env.kwargs.batch_size=2", "total_steps=2", f"hydra.run.dir={run}"]) == 0
    assert "eval/bleu4" in (run / "metrics.jsonl").read_text()


def test_numpy_captioning_rnn_trains_through_the_cli_and_resumes_exactly(tmp_path: Path, monkeypatch) -> None:
    from rlkit.agents.captioning_numpy import CaptioningRNNAgent
    from rlkit.core.checkpoint import load_checkpoint
    from tests.conftest import ctrl_c_at_update

    args = [
        "agent=captioning_rnn",
        "env=shapes_captions",
        "ui=none",
        "agent.wordvec_dim=8",
        "agent.hidden_dim=8",
    ]
    args += [
        "agent.cell=rnn",
        "env.kwargs.n_train=96",
        "env.eval_kwargs.n_test=40",
        "env.kwargs.batch_size=32",
    ]
    args += ["total_steps=6", "eval.every=3", "log_every=2", "checkpoint.every=0"]
    assert main(["train", *args, f"hydra.run.dir={tmp_path / 'ref'}"]) == 0
    rows = [json.loads(line) for line in (tmp_path / "ref" / "metrics.jsonl").read_text().splitlines()]
    assert any("eval/bleu4" in r for r in rows) and any("train/loss" in r for r in rows)
    run = tmp_path / "run"
    with ctrl_c_at_update(monkeypatch, CaptioningRNNAgent, 4):  # mid-epoch (3 batches per epoch)
        assert main(["train", *args, f"hydra.run.dir={run}"]) == 130
    assert main(["train", f"resume={run}"]) == 0
    assert (run / "metrics.jsonl").read_text() == (tmp_path / "ref" / "metrics.jsonl").read_text()
    ref = load_checkpoint(tmp_path / "ref" / "checkpoints" / "latest.pt")["agent"]["params"]
    resumed = load_checkpoint(run / "checkpoints" / "latest.pt")["agent"]["params"]
    assert all(torch.equal(ref[k], resumed[k]) for k in ref)
