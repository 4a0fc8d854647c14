"""The embedding agent (book chapter 6, FaceNet): a network maps an image to an L2-normalised embedding.

`agent=embedding` with `agent.loss=`:

* ``softmax``: a linear classifier over the training identities on the network's features (prelogits),
  cross-entropy: the identities are separable, but nothing asks one identity's features to be compact;
* ``center``: softmax + `center_weight` (lambda) x center loss (rlkit.agents.embedding_losses: each identity's
  center moved 1 - `center_alpha` of the way to each of its embeddings after a batch, the book's alfa 0.9).
  Unlike the book's code (center loss on the raw prelogits), the center loss here is on the L2-normalised
  embedding, as later work does (e.g. normalised-feature variants of Wen et al.): on raw features it
  shrinks every feature toward the centers' start at 0, and the normalised embeddings of tiny features are
  noise (measured: lambda 0.1 / 1 on raw features lost 0.2 / 0.25 verification accuracy to softmax alone);
* ``triplet``: FaceNet's triplet loss with margin `margin` on the L2-normalised embeddings, triplets mined in
  the batch (`mining=semihard` the paper's choice, `hardest` or `random`); no classifier.

act() answers with the L2-normalised embedding of each image (zero-padded to the env's action width: the
distances do not change), which is what verification compares (rlkit.envs.identities). The classifier has
`num_classes` outputs, at least the number of training identities (an identity beyond raises one line);
unused outputs only learn to stay low. Batches: the env's random minibatches (100 images of 6 digits hold
many positives); FaceNet's sampling of k images per identity for many identities is not done here.
The network is a model of rlkit.agents.supervised_models by name (`model`, `hidden`, `dropout`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import nn

from rlkit.agents.embedding_losses import center_loss, mine_triplets, triplet_loss, update_centers
from rlkit.agents.model_agent import ModelCheckpointMixin, flat_batch, masked_mean
from rlkit.agents.supervised_models import MODELS
from rlkit.core.errors import IncompatibleError, UserError, check_ranges, describe_space
from rlkit.core.seeding import RandomStream
from rlkit.core.types import AgentContext

LOSSES = ("softmax", "center", "triplet")
MINING = {"semihard": "semi_hard", "hardest": "hardest", "random": "random"}


@dataclass
class EmbeddingConfig:
    """Hyperparameters of the embedding agent.

    Attributes:
        name: agent name (the `agent=` token).
        loss: softmax, center or triplet (module docstring).
        embedding_dim: size of the embedding (2 for the book's Fig 6-10 plot; <= the env's action width).
        num_classes: classifier outputs (softmax, center): at least the number of training identities.
        center_weight: lambda, the center loss weight, on unit embeddings (the book: 0.01 on raw features).
            1.0 and alpha 0.9 won a sweep of lambda 0.1-10 x alpha 0.5/0.9 on validation identities
            (benchmarks/faces.py --sweep: not the test pairs; benchmarks/README.md, round 2).
        center_alpha: the book's alfa: each center moves 1 - alpha of the way to a feature per example.
        margin: the triplet loss's margin alpha (squared distances of unit vectors lie in [0, 4]).
        mining: semihard, hardest or random negatives for the triplet loss.
        model: the network (rlkit.agents.supervised_models: mnist_cnn, mlp).
        hidden: width of the network's hidden layer.
        dropout: dropout probability of the network's hidden layer.
        lr: Adam's learning rate.
        weight_decay: L2 penalty.
    """

    name: str = "embedding"
    loss: str = "softmax"
    embedding_dim: int = 64
    num_classes: int = 1000
    center_weight: float = 1.0
    center_alpha: float = 0.9
    margin: float = 0.2
    mining: str = "semihard"
    model: str = "mnist_cnn"
    hidden: int = 128
    dropout: float = 0.0
    lr: float = 1e-3
    weight_decay: float = 0.0

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        checks = [
            ("loss", self.loss in LOSSES, f"one of {', '.join(LOSSES)}"),
            ("embedding_dim", self.embedding_dim >= 1, ">= 1"),
            ("num_classes", self.num_classes >= 2, ">= 2"),
            ("center_weight", self.center_weight >= 0, ">= 0"),
            ("center_alpha", 0 <= self.center_alpha <= 1, "in [0, 1]"),
            ("margin", self.margin > 0, "> 0"),
            ("mining", self.mining in MINING, f"one of {', '.join(MINING)}"),
            ("model", self.model in ("mnist_cnn", "mlp"), "one of mnist_cnn, mlp"),
            ("hidden", self.hidden >= 1, ">= 1"),
            ("dropout", 0 <= self.dropout < 1, "in [0, 1)"),
            ("lr", self.lr > 0, "> 0"),
            ("weight_decay", self.weight_decay >= 0, ">= 0"),
        ]
        check_ranges("agent.", checks, lambda key: repr(getattr(self, key)))


class EmbeddingNet(nn.Module):
    """The feature network, the identity classifier on its features and the (non-trained) centers."""

    def __init__(self, body: nn.Module, dim: int, num_classes: int):
        super().__init__()
        self.body, self.classifier = body, nn.Linear(dim, num_classes)
        self.register_buffer("centers", torch.zeros(num_classes, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The features (prelogits) of a batch of images."""
        return self.body(x)


class EmbeddingAgent(ModelCheckpointMixin):
    """Learns an embedding of images from the identities a face-embedding task reveals."""

    Config = EmbeddingConfig  # the schema of the agent YAMLs whose _target_ is this class

    @property
    def model_name(self) -> str:
        """The network's config name (for messages)."""
        return self.cfg.model

    def __init__(self, cfg: EmbeddingConfig, ctx: AgentContext):
        cfg.validate()
        obs, act = ctx.observation_space, ctx.action_space
        fits = isinstance(obs, spaces.Box) and isinstance(act, spaces.Box) and len(act.shape) == 2
        if not fits or obs.shape[0] != act.shape[0]:
            raise IncompatibleError(
                f"agent 'embedding' needs a face-embedding task (observation: images (batch, C, H, W); "
                f"action: embeddings (batch, width)), but env '{ctx.env_name}' has observation space "
                f"{describe_space(obs)} and action space {describe_space(act)}. Use env=identities or "
                "face_folder."
            )
        self.width = int(act.shape[1])
        if cfg.embedding_dim > self.width:
            raise UserError(
                f"agent.embedding_dim={cfg.embedding_dim} is invalid: env '{ctx.env_name}' takes embeddings "
                f"of at most {self.width} dimensions (env.kwargs.embedding_width)"
            )
        self.cfg, self.device = cfg, torch.device(ctx.device)
        self.rng = RandomStream(ctx.seed, self.device)  # initialisation, dropout and random mining
        with self.rng:
            body = MODELS[cfg.model](tuple(obs.shape[1:]), (cfg.embedding_dim,), cfg, obs.dtype == np.uint8)
            self.model = EmbeddingNet(body, cfg.embedding_dim, cfg.num_classes).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.updates = 0
        self._batch = None
        self._forward: tuple[np.ndarray, torch.Tensor] | None = None

    def _output(self, obs: np.ndarray) -> torch.Tensor:
        """Features of (num_envs, batch, ...) observations, as (num_envs * batch, dim)."""
        with self.rng:
            return self.model(flat_batch(obs, self.device))

    def _answer(self, feats: torch.Tensor) -> np.ndarray:
        emb = F.normalize(feats.detach(), dim=1)
        return F.pad(emb, (0, self.width - emb.shape[1])).cpu().numpy()

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """L2-normalised embeddings of each env's minibatch: (num_envs, batch, width)."""
        n, b = obs.shape[:2]
        return self._act_with(obs, explore, self._answer).reshape(n, b, self.width)

    def features(self, images: np.ndarray) -> np.ndarray:
        """The features (before normalisation) of (N, C, H, W) images: what the book's Fig 6-10 plots."""
        self.model.eval()
        with torch.inference_mode():
            return self._output(np.asarray(images)[None]).cpu().numpy()

    def embed(self, images: np.ndarray) -> np.ndarray:
        """The L2-normalised embeddings (N, embedding_dim) of (N, C, H, W) images."""
        feats = torch.as_tensor(self.features(images))
        return F.normalize(feats, dim=1).numpy()

    def update(self) -> dict[str, float]:
        """One Adam step on the chosen loss over the last observed minibatch's real images."""
        tr, out, targets, mask = self._take_batch()
        if tr is None:
            return {}
        keep = mask.bool()
        feats, labels = out[keep], targets[keep].long()
        if len(labels) and int(labels.max()) >= self.cfg.num_classes:
            raise UserError(
                f"identity {int(labels.max())} is beyond agent.num_classes={self.cfg.num_classes}: set "
                "agent.num_classes to at least the number of training identities"
            )
        cfg, metrics = self.cfg, {}
        if cfg.loss == "triplet":
            emb = F.normalize(feats, dim=1)
            with self.rng:
                triplets = mine_triplets(emb, labels, cfg.margin, MINING[cfg.mining])
            loss = triplet_loss(emb, triplets, cfg.margin)
            metrics["triplets"] = float(len(triplets))
        else:
            logits = self.model.classifier(feats)
            loss = F.cross_entropy(logits, labels)
            metrics["accuracy"] = masked_mean(logits.detach().argmax(1) == labels, torch.ones_like(labels))
            if cfg.loss == "center":  # on the unit embeddings that verification compares (docstring)
                emb = F.normalize(feats, dim=1)
                closs = center_loss(emb, labels, self.model.centers)
                loss = loss + cfg.center_weight * closs
                metrics["center_loss"] = float(closs.detach())
                update_centers(emb, labels, self.model.centers, cfg.center_alpha)
        return {"loss": self._step(loss), **metrics}
