"""Image captioning on the runner (the book's chapter 17, Show and Tell; CS231n assignment 3): a CNN encoder
trained end to end, its feature map projected to the decoder's first state, an LSTM/GRU decoder, and
optionally soft attention over the CNN's spatial features (Show, Attend and Tell's idea, with the attention
of rlkit.agents.seq2seq_nets: `agent.attention=bahdanau|luong|scaled_luong`).

It is the seq2seq agent with an image encoder: the same teacher-forced update, greedy and beam-search
decoding (rlkit.agents.seq2seq_search; while training only one minibatch in `decode_every` is captioned,
the training BLEU scores those) and checkpoints; the decoder is seq2seq_nets.Decoder. The
numpy CaptioningRNN of the assignment is rlkit.agents.captioning_rnn. The book's im2txt starts from a
pretrained Inception v3; nothing pretrained is available offline, so the CNN learns from scratch here.
With CS231n's pre-extracted features (`env=coco_captions env.kwargs.features=...h5`: one VGG-16 fc7 vector
per image) there is no CNN: the vector is projected to the first state, as the assignment's W_proj, and
attention is refused (it needs positions to attend to).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from rlkit.agents.model_agent import flat_batch
from rlkit.agents.seq2seq import Seq2SeqAgent, check_sequence_spaces, decoder_checks
from rlkit.agents.seq2seq_nets import Decoder
from rlkit.core.errors import UserError, check_ranges
from rlkit.core.types import AgentContext


@dataclass
class CaptioningConfig:
    """Hyperparameters of the captioning agent.

    Attributes:
        name: agent name (the `agent=` token).
        cell: lstm or gru.
        units: word vector size and decoder units.
        num_layers: decoder layers.
        channels: channels of the CNN's first convolution (the second has twice as many).
        attention: none (Show and Tell: features only as the first state) or soft attention over the CNN's
            spatial features: bahdanau, luong or scaled_luong.
        dropout: dropout on word vectors and before the output layer, in [0, 1).
        lr: Adam learning rate.
        grad_clip: clip the gradient's global norm to this (None: no clipping).
        beam: beam width of evaluation (1: greedy).
        length_penalty: GNMT's alpha of beam search.
        decode_every: while training, greedy-decode one minibatch in this many (the others: no answer; the
            training BLEU scores the decoded ones); 1: every minibatch. Evaluation decodes all.
    """

    name: str = "captioning"
    cell: str = "lstm"
    units: int = 128
    num_layers: int = 1
    channels: int = 32
    attention: str = "none"
    dropout: float = 0.2
    lr: float = 0.002
    grad_clip: float | None = 5.0
    beam: int = 1
    length_penalty: float = 0.6
    decode_every: int = 8

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        middle = [
            ("units", self.units >= 1, ">= 1"),
            ("num_layers", self.num_layers >= 1, ">= 1"),
            ("channels", self.channels >= 1, ">= 1"),
        ]
        check_ranges("agent.", decoder_checks(self, middle), lambda key: repr(getattr(self, key)))


def caption_shapes(ctx: AgentContext) -> tuple[int, int]:
    """(vocabulary, caption length) of an image-captioning env (images, or feature vectors as CS231n's);
    IncompatibleError for any other env."""
    needs = (
        "an image-captioning env (observation: images (batch, C, H, W) or features (batch, D); action: "
        "caption ids (batch, length))"
    )
    obs = ctx.observation_space
    features = len(getattr(obs, "shape", None) or ()) == 2 and np.issubdtype(obs.dtype, np.floating)
    check_sequence_spaces(ctx, 2 if features else 4, False, needs, "env=shapes_captions")  # not token ids
    act = ctx.action_space
    return int(act.high.max()) + 1, int(act.shape[1])


class Captioner(nn.Module):
    """Images (B, C, H, W) uint8, or pre-extracted features (B, D) (CS231n's: no CNN), -> the decoder's first
    state and memo; forward() teacher-forces."""

    def __init__(self, image_shape: tuple[int, ...], vocab: int, cfg: CaptioningConfig):
        super().__init__()
        c, ch = image_shape[0], cfg.channels
        self.features = len(image_shape) == 1
        if self.features and cfg.attention != "none":
            raise UserError(
                f"agent.attention={cfg.attention} needs a spatial feature map, but the env gives one feature "
                "vector per image (env.kwargs.features): use agent.attention=none"
            )
        self.cnn = None if self.features else nn.Sequential(
            nn.Conv2d(c, ch, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(ch, 2 * ch, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )  # fmt: skip
        self.layers, self.cell, self.units = cfg.num_layers, cfg.cell, cfg.units
        size = c if self.features else 2 * ch * (image_shape[1] // 4) * (image_shape[2] // 4)
        self.to_state = nn.Linear(size, cfg.num_layers * cfg.units)  # Show and Tell / CS231n: image -> h0
        self.to_memory = nn.Linear(c if self.features else 2 * ch, cfg.units)  # a slot per map position
        self.decoder = Decoder(vocab, cfg.units, cfg.num_layers, cfg.cell, cfg.attention, cfg.dropout)

    def start(self, images: torch.Tensor) -> tuple[Any, tuple]:
        """(the decoder's first state, its memo) for a batch of images or feature vectors."""
        x = images.float()  # features (B, D) become a 1x1 map of D channels; else the CNN's (B, 2ch, h, w)
        feats = x[:, :, None, None] if self.features else self.cnn(x / 255.0)
        b = len(feats)
        h0 = torch.tanh(self.to_state(feats.flatten(1))).view(b, self.layers, self.units)
        h0 = h0.transpose(0, 1).contiguous()
        state = (h0, torch.zeros_like(h0)) if self.cell == "lstm" else h0
        memory = self.to_memory(feats.flatten(2).transpose(1, 2))
        mask = torch.ones(memory.shape[:2], dtype=torch.bool, device=memory.device)
        return state, self.decoder.memo(memory, mask)

    def forward(self, images: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        """Log-probabilities (B, T, V) of the next words given the images and the previous words."""
        state, memo = self.start(images)
        return self.decoder(prev, state, memo)[0]


class CaptioningAgent(Seq2SeqAgent):
    """A CNN encoder and a recurrent decoder trained with teacher forcing on the revealed captions."""

    Config = CaptioningConfig  # the schema of the agent YAMLs whose _target_ is this class

    model_name = "captioning"

    def build(self, cfg: CaptioningConfig, ctx: AgentContext) -> tuple[nn.Module, int]:
        """The captioner for an image-captioning env's spaces; IncompatibleError for another env."""
        vocab, answer_len = caption_shapes(ctx)
        return Captioner(ctx.observation_space.shape[1:], vocab, cfg), answer_len

    def inputs(self, obs: np.ndarray) -> torch.Tensor:
        """Images (num_envs * batch, C, H, W), still uint8 (the network scales them), or features (.., D)."""
        return flat_batch(obs, self.device)
