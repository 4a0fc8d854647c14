"""Where a backbone's weights come from: a torchvision-layout file, an earlier rlkit run, or rlkit's cache.

* a file (`agent.backbone_weights=PATH`): a state_dict saved by torch.save, e.g. torchvision's
  `squeezenet1_1-b8a52dc0.pth`, read with torch's weights-only loader (no pickled code);
* a run (`agent.backbone_run=<run dir>`): the network in that run's newest good checkpoint. A finetune run
  brings its architecture; a supervised image run (agent mnist_cnn or cifar_cnn) brings its convolutional
  layers, and a fresh pooled linear head is put on them;
* by default, for `small_cnn`: rlkit pre-trains it once on the digits 0-4 of scikit-learn's bundled 8x8
  digits (all 901 of them; no download ever) and caches the weights in
  `$RLKIT_CACHE/backbones/` (default `$XDG_CACHE_HOME/rlkit`, else `~/.cache/rlkit`). The recipe is fixed
  (seed 0, Adam 1e-3, 400 steps of 64 images), so a rebuilt cache holds the same network on the same
  machine; its name carries the recipe's version.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from rlkit.agents.backbones import Backbone, Classifier, build_backbone
from rlkit.agents.supervised_models import MODELS
from rlkit.core.checkpoint import Checkpointer, load_checkpoint, save_checkpoint
from rlkit.core.errors import UserError
from rlkit.core.seeding import seeded

PRETRAIN_CLASSES = (0, 1, 2, 3, 4)
PRETRAIN_RECIPE = {"seed": 0, "lr": 1e-3, "steps": 400, "batch": 64, "version": 1}
RUN_MODELS = ("mnist_cnn", "cifar_cnn")  # supervised models whose conv layers serve as a backbone


def cache_dir() -> Path:
    """rlkit's cache folder: $RLKIT_CACHE, else $XDG_CACHE_HOME/rlkit, else ~/.cache/rlkit."""
    if os.environ.get("RLKIT_CACHE"):
        return Path(os.environ["RLKIT_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "rlkit"


def digits_subset(classes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits of `classes` as uint8 (N, 1, 8, 8) in 0-255, labels 0..len(classes)-1."""
    from sklearn.datasets import load_digits  # scikit-learn: only when the cache is built

    data = load_digits()
    keep = np.isin(data.target, classes)
    images = np.rint(data.images[keep] * (255.0 / 16.0)).astype(np.uint8)[:, None]
    labels = np.searchsorted(np.asarray(classes), data.target[keep]).astype(np.int64)
    return images, labels


def pretrain_small_cnn() -> dict[str, torch.Tensor]:
    """small_cnn trained on digits 0-4 with PRETRAIN_RECIPE; returns its net's state_dict."""
    r = PRETRAIN_RECIPE
    images, labels = digits_subset(PRETRAIN_CLASSES)
    with seeded(r["seed"]):
        model = build_backbone("small_cnn", len(PRETRAIN_CLASSES))
        opt = torch.optim.Adam(model.parameters(), lr=r["lr"])
        order = np.random.default_rng(r["seed"])
        model.train()
        for _ in range(r["steps"]):
            rows = order.choice(len(labels), r["batch"], replace=False)
            loss = nn.functional.cross_entropy(
                model(torch.as_tensor(images[rows])), torch.as_tensor(labels[rows])
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
    return {k: v.detach().clone() for k, v in model.net.state_dict().items()}


def pretrained_small_cnn() -> tuple[dict[str, torch.Tensor], Path]:
    """(state_dict, cache file) of the cached pre-trained small_cnn, building the cache on first use."""
    path = cache_dir() / "backbones" / f"small_cnn-digits0to4-v{PRETRAIN_RECIPE['version']}.pt"
    if path.is_file():
        try:
            return load_checkpoint(path)["net"], path
        except UserError:
            pass  # damaged: built again below
    state = pretrain_small_cnn()
    save_checkpoint(path, {"net": state, "recipe": dict(PRETRAIN_RECIPE), "classes": list(PRETRAIN_CLASSES)})
    return state, path


def read_weights_file(path: str) -> dict[str, torch.Tensor]:
    """A state_dict saved by torch.save (torchvision's .pth files), loaded weights-only."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise UserError(
            f"agent.backbone_weights={path}: no such file (give a state_dict saved by torch.save)"
        )
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise UserError(
            f"agent.backbone_weights={path} cannot be read as a torch state_dict: {first}"
        ) from err
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    return state


def run_network(run: str, obs_shape: tuple[int, ...], num_classes: int) -> tuple[Backbone, dict[str, Any]]:
    """(a fresh backbone shaped like run `run`'s network, that network's weights) for `num_classes` classes.

    A finetune run gives its architecture (weights without the `net.` prefix); a supervised mnist_cnn or
    cifar_cnn run gives its conv layers as `features` and a pooled linear `classifier.2` head.
    """
    from omegaconf import OmegaConf  # the run's saved config

    run_dir = Path(run).expanduser()
    config = run_dir / ".hydra" / "config.yaml"
    if not config.is_file():
        raise UserError(f"agent.backbone_run={run}: not an rlkit run directory (no .hydra/config.yaml)")
    agent_cfg = OmegaConf.load(config).agent
    state = Checkpointer(run_dir / "checkpoints").load_latest()[0]["agent"]["model"]
    if "backbone" in agent_cfg:
        net = build_backbone(str(agent_cfg.backbone), num_classes, obs_shape[0])
        return net, {k.removeprefix("net."): v for k, v in state.items()}
    model_name = str(agent_cfg.get("model", ""))
    if model_name not in RUN_MODELS:
        raise UserError(
            f"agent.backbone_run={run} is a run of agent '{agent_cfg.get('name')}' "
            f"(model {model_name or '-'}); "
            f"a backbone comes from a finetune run or a supervised image run (model {', '.join(RUN_MODELS)})"
        )
    source = MODELS[model_name](obs_shape, (num_classes,), agent_cfg, True)
    conv = source.body[0][:-1]  # ScaledInput(Sequential(conv + Flatten, head)): the convs without Flatten
    with torch.no_grad():
        width = conv(torch.zeros(1, *obs_shape)).shape[1]
    head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes))
    c = obs_shape[0]
    net = Backbone(f"run:{model_name}", Classifier(conv, head), "classifier.2", (0.0,) * c, (1.0,) * c)
    prefix = "body.0."
    weights = {"features." + k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    return net, weights
