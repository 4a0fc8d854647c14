"""Issue 16, round 2 (captioning): Show, Attend and Tell's per-word attention figures written by `rlkit play`,
and env=coco_captions on CS231n's pre-extracted features (coco2014_captions.h5 + coco2014_vocab.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rlkit.core.errors import UserError
from rlkit.envs.caption_attention import GAP, LABEL, SCALE, attention_panels, grid_shape
from rlkit.frontend.cli import main

SMALL = ["agent=captioning", "env=shapes_captions", "ui=none", "num_threads=1", "agent.units=16"]
TINY = ["agent.channels=4", "env.kwargs.n_train=64", "env.eval_kwargs.n_test=40", "env.kwargs.batch_size=32"]


def test_each_word_panel_lights_the_cell_it_attends() -> None:
    image = np.full((3, 8, 8), 200, dtype=np.uint8)  # a 2x2 feature map over an 8x8 picture
    weights = np.array([[1.0, 0, 0, 0], [0, 0, 0, 1.0], [0.25, 0.25, 0.25, 0.25]])
    assert grid_shape(4, 8, 8) == (2, 2) and grid_shape(64, 32, 32) == (8, 8)
    assert grid_shape(5, 8, 8) == (1, 5)
    fig = attention_panels(image, weights, ["red", "box"])  # two words: the third row is not drawn
    side = 8 * SCALE
    assert fig.shape == (side + LABEL, 2 * (side + GAP), 3)
    first, second = fig[LABEL:, :side], fig[LABEL:, side + GAP : 2 * side + GAP]
    assert first[2, 2, 0] == 255 and first[-3, -3, 0] == 50  # top left attended: 200 + 64 (clipped); dimmed
    assert second[-3, -3, 0] == 255 and second[2, 2, 0] == 50  # bottom right attended


def test_play_writes_one_attention_panel_per_word_of_each_caption(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    args = [*SMALL, *TINY, "agent.attention=luong", "total_steps=6", "eval.every=100"]
    assert main(["train", *args, f"hydra.run.dir={run}"]) == 0
    out = tmp_path / "out"
    assert main(["play", f"run={run}", f"out={out}", "render=text", "speed=0"]) == 0
    printed = capsys.readouterr().out
    text = (out / "latest_captions.txt").read_text().split("\n\n")
    captions = [block.split("\n")[0].split(": ", 1)[1] for block in text if block.strip()]
    assert len(captions) == 12
    drawn = 0
    for k, caption in enumerate(captions):
        path = out / f"latest_attention_{k}.png"
        assert path.is_file() == bool(caption.split())
        if path.is_file():
            assert f"Wrote {path}" in printed
            with Image.open(path) as figure:  # panels of 32 * SCALE pixels and a gap each, side by side
                assert figure.size == (len(caption.split()) * (32 * SCALE + GAP), 32 * SCALE + LABEL)
            drawn += 1
    assert drawn > 0
    plain = tmp_path / "plain"  # without attention: the captions, no attention figure
    assert main(["train", *SMALL, *TINY, "total_steps=2", f"hydra.run.dir={plain}"]) == 0
    assert main(["play", f"run={plain}", f"out={out / 'plain'}", "render=text", "speed=0"]) == 0
    assert (out / "plain" / "latest_captions.png").is_file()
    assert not list((out / "plain").glob("*attention*"))


CS231N_WORDS = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "dog", "cat", "runs", "sits"]


def write_cs231n(folder: Path, split_features: bool = False) -> Path:
    """A tiny coco_captioning folder as CS231n ships it: 3 train and 2 val images with 8-d features."""
    import h5py

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"idx_to_word": CS231N_WORDS, "word_to_idx": {w: i for i, w in enumerate(CS231N_WORDS)}}
    (folder / "coco2014_vocab.json").write_text(json.dumps(vocab))
    ids = {w: i for i, w in enumerate(CS231N_WORDS)}

    def caption(words: str) -> list[int]:
        row = [ids["<START>"], *(ids[w] for w in words.split()), ids["<END>"]]
        return row + [ids["<NULL>"]] * (17 - len(row))

    rng = np.random.default_rng(0)
    data = {
        "train_captions": [
            caption("a dog runs"),
            caption("a cat sits"),
            caption("a <UNK> dog"),
            caption("a dog sits"),
            caption("cat"),
        ],  # fmt: skip
        "train_image_idxs": [0, 1, 2, 0, 1],
        "train_features": rng.normal(size=(3, 8)),
        "val_captions": [caption("a cat runs"), caption("dog")],
        "val_image_idxs": [1, 0],
        "val_features": rng.normal(size=(2, 8)),
    }
    path = folder / "coco2014_captions.h5"
    with h5py.File(path, "w") as f:
        for key, value in data.items():
            if split_features and key.endswith("_features"):  # the 2017 layout: features in their own files
                with h5py.File(folder / f"{key.split('_')[0]}2014_vgg16_fc7_pca.h5", "w") as g:
                    g["features"] = np.asarray(value, np.float32)
            else:
                f[key] = np.asarray(value, np.float32 if key.endswith("_features") else np.int32)
    return path


@pytest.mark.parametrize("split_features", [False, True])
def test_coco_captions_reads_cs231n_features(tmp_path: Path, split_features: bool) -> None:
    pytest.importorskip("h5py", reason="h5py is the coco extra (in dev): pip install -e '.[coco]'")
    from rlkit.envs.coco_captions import CocoCaptionsEnv

    path = write_cs231n(tmp_path, split_features)
    env = CocoCaptionsEnv(features=str(path), batch_size=2)
    assert env.inputs.shape == (3, 8) and env.inputs.dtype == np.float32
    assert env.observation_space.shape == (2, 8) and env.observation_space.dtype == np.float32
    assert env.vocab == ["<pad>", "<unk>", "<s>", "</s>", "a", "dog", "cat", "runs", "sits"]
    assert env.captions[0][:2] == ["a dog runs", "a dog sits"] and env.captions[2][0] == "a <unk> dog"
    assert env.all_ids[2, 0, :4].tolist() == [4, 1, 5, 3]  # <unk> and </s> in rlkit's ids
    test = CocoCaptionsEnv(features=str(path), split="test", batch_size=2)
    assert test.captions[0][0] == "dog" and test.captions[1][0] == "a cat runs"
    assert len(CocoCaptionsEnv(features=str(path), limit=2).inputs) == 2
    with pytest.raises(UserError, match="coco2014_vocab.json not found"):
        (tmp_path / "coco2014_vocab.json").unlink()
        CocoCaptionsEnv(features=str(path))


def test_both_captioning_agents_train_on_cs231n_features(tmp_path: Path, capsys) -> None:
    pytest.importorskip("h5py", reason="h5py is the coco extra (in dev): pip install -e '.[coco]'")
    path = write_cs231n(tmp_path / "data")
    env = ["env=coco_captions", f"env.kwargs.features={path}", "env.kwargs.batch_size=2", "ui=none"]
    for agent in (["agent=captioning", "agent.units=8"], ["agent=captioning_rnn", "agent.hidden_dim=8"]):
        run = tmp_path / agent[0].split("=")[1]
        assert main(["train", *agent, *env, "total_steps=4", f"hydra.run.dir={run}"]) == 0
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert any("eval/bleu4" in r for r in rows)
        assert main(["play", f"run={run}", "render=text", "speed=0"]) == 0
        assert (run / "videos" / "latest_captions.txt").is_file()
    capsys.readouterr()
    bad = ["agent=captioning", "agent.attention=luong", *env, "total_steps=2"]
    assert main(["train", *bad, f"hydra.run.dir={tmp_path / 'x'}"]) == 2
    assert "needs a spatial feature map" in capsys.readouterr().err


def test_a_missing_h5py_is_one_line_naming_the_extra(tmp_path: Path, monkeypatch) -> None:
    from rlkit.envs.coco_captions import CocoCaptionsEnv

    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py now raises ImportError
    with pytest.raises(UserError, match=r"needs h5py: pip install -e \".\[coco\]\""):
        CocoCaptionsEnv(features=str(tmp_path / "coco2014_captions.h5"))
