"""Bare PyTorch loops of benchmarks/supervised.py's CIFAR stand-in and word2vec tasks (run_bare calls them).

What a user would write by hand in plain PyTorch + NumPy: the same model class, init seed, optimiser and
hyperparameters as the agent, the same minibatches in the same order, then one scoring pass over the test
split. No env is stepped, no runner, no logging, no checkpoints: the envs are built only to read their arrays,
and their modules' pure helpers make the batches.

- CIFAR (``agent=cifar_cnn env=cifar10``): the train env's NumPy stream is ``default_rng(seed)`` (Gymnasium's
  ``reset(seed=seed)``); per epoch it draws a permutation, then each minibatch's augmentation
  (rlkit.envs.cifar10.augment) in turn, so the loop draws both from one generator in that order. The last
  minibatch of an epoch holds only the real rows (the env pads it with zeros and masks them: the same mean
  loss; after 45 steps, one epoch boundary crossed, the weights were still bit-identical to rlkit's).
- word2vec (``agent=word2vec env=word2vec``): the book's ``generate_batch`` (rlkit.envs.word_corpus) on the
  same stream, from the corpus start each epoch; the agent's noise words: its ``counts`` (add-one, plus every
  revealed context word) ** distortion, drawn by ``torch.multinomial`` on a ``torch.Generator`` seeded with
  the seed; SkipGram and sgns_loss of rlkit.agents.word2vec. The score: held-out context accuracy (the agent's
  ranking by u . v + log q over the whole vocabulary) and the planted synonyms' recall@1 (cosine nearest
  neighbour, the word itself left out), in the eval env's batches. The weights after 3000 steps (two epoch
  boundaries) were bit-identical to rlkit's, so were both metrics.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from rlkit.agents.supervised import SupervisedConfig
from rlkit.agents.supervised_models import MODELS
from rlkit.agents.word2vec import SkipGram, Word2VecConfig, log_uniform_probs, sgns_loss
from rlkit.envs.cifar10 import augment, center_crop, standardize
from rlkit.envs.factory import make_env
from rlkit.envs.word2vec_data import CONTEXT, NEIGHBOURS
from rlkit.envs.word_corpus import generate_batch


def run_bare_cifar(cfg, steps: int) -> dict:
    """A plain loop for the CIFAR CNN: the env's shuffling and augmentation replayed; test accuracy."""
    train_env, test_env = make_env(cfg.env).unwrapped, make_env(cfg.env, evaluation=True).unwrapped
    agent_cfg: SupervisedConfig = OmegaConf.to_object(cfg.agent)
    x_all, y_all, b = train_env.inputs, train_env.targets, train_env.batch_size
    x_test = standardize(center_crop(test_env.inputs).astype(np.float32))
    torch.manual_seed(cfg.seed)
    model = MODELS[agent_cfg.model]((3, *x_test.shape[2:]), (len(train_env.class_names),), agent_cfg, False)
    opt_cls = torch.optim.Adam if agent_cfg.optimizer == "adam" else torch.optim.SGD
    opt = opt_cls(model.parameters(), lr=agent_cfg.lr, weight_decay=agent_cfg.weight_decay)
    rng = np.random.default_rng(cfg.seed)
    t0, c0 = time.perf_counter(), time.process_time()
    model.train()
    done = 0
    while done < steps:
        order = rng.permutation(len(x_all))  # one epoch
        for start in range(0, len(order), b):
            if done == steps:
                break
            rows = order[start : start + b]
            x = torch.from_numpy(standardize(augment(x_all[rows], rng)))
            loss = F.cross_entropy(model(x), torch.from_numpy(y_all[rows]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
    model.eval()
    with torch.inference_mode():
        pred = torch.cat(
            [model(torch.from_numpy(x_test[i : i + b])).argmax(-1) for i in range(0, len(x_test), b)]
        )
    return {
        "steps": steps,
        "wall_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
        "accuracy": float((pred.numpy() == test_env.targets).mean()),
    }


def run_bare_word2vec(cfg, steps: int, metric: str = "synonym_recall_at_1") -> dict:
    """A plain skip-gram loop: the env's pairs, the agent's noise words; `metric` of the test split (both
    metrics under "metrics")."""
    env = make_env(cfg.env).unwrapped
    test_env = make_env(cfg.env, evaluation=True).unwrapped
    a: Word2VecConfig = OmegaConf.to_object(cfg.agent)
    data, b, vocab = env.train_ids, env.batch_size, len(env.vocab)
    per_epoch = env.batches_per_epoch
    if env.subsample > 0:
        raise NotImplementedError("the bare word2vec loop replays env.kwargs.subsample=0 only")
    torch.manual_seed(cfg.seed)
    model = SkipGram(vocab, a.embedding_size)
    noise_gen = torch.Generator().manual_seed(cfg.seed)
    params = list(model.parameters())
    opt = torch.optim.SparseAdam(params, lr=a.lr) if a.optimizer == "adam" else torch.optim.SGD(params, a.lr)
    rng, ones = np.random.default_rng(cfg.seed), torch.ones(b)
    t0, c0 = time.perf_counter(), time.process_time()
    index = 0
    for step in range(steps):
        if step % per_epoch == 0:
            index = 0  # a new epoch starts at the corpus start
        centers, labels, index = generate_batch(data, index, b, env.num_skips, env.skip_window, rng)
        targets = torch.from_numpy(labels[:, 0])
        with torch.no_grad():
            model.counts.index_add_(0, targets, torch.ones(b, dtype=torch.float64))
        noise = torch.multinomial(noise_probs(model, a), a.num_sampled, True, generator=noise_gen)
        v = model.inp(torch.from_numpy(centers))
        loss = sgns_loss(v, model.out(targets), model.out(noise), noise[None] == targets[:, None], ones)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    scores = score_word2vec(model, test_env, noise_probs(model, a))
    return {
        "steps": steps,
        "wall_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
        "accuracy": scores[metric],
        "metrics": scores,
    }


def noise_probs(model: SkipGram, a: Word2VecConfig) -> torch.Tensor:
    """The agent's noise distribution (float64, V): counts ** distortion normalised, or TF's log-uniform."""
    if a.negatives == "log_uniform":
        return log_uniform_probs(len(model.counts))
    p = model.counts.detach() ** a.distortion
    return p / p.sum()


def score_word2vec(model: SkipGram, test_env, q: torch.Tensor) -> dict:
    """accuracy (held-out context words: top-1 of u . v + log q) and synonym_recall_at_1 (cosine nearest
    neighbour) over the eval env's questions (its held-out pairs and planted synonyms), batch by batch."""
    log_q = q.log().float()
    hits = {CONTEXT: [], NEIGHBOURS: []}
    with torch.inference_mode():
        unit = F.normalize(model.inp.weight, dim=1)
        for ids, targets, kind in test_env._questions:  # (word ids, targets, kind) of each eval batch
            ids, targets = torch.from_numpy(ids), torch.from_numpy(targets)
            if kind == NEIGHBOURS:
                sims = unit[ids] @ unit.T
                sims[torch.arange(len(ids)), ids] = -float("inf")  # not the word itself
                answer = sims.argmax(1)
            else:
                answer = (model.inp.weight[ids] @ model.out.weight.T + log_q).argmax(1)
            real = targets >= 0  # probe words (no synonyms planted) have no target
            hits[kind].append((answer == targets)[real])
    out = {"accuracy": float(torch.cat(hits[CONTEXT]).float().mean())}
    if hits[NEIGHBOURS] and len(torch.cat(hits[NEIGHBOURS])):
        out["synonym_recall_at_1"] = float(torch.cat(hits[NEIGHBOURS]).float().mean())
    return out
