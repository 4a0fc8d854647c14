"""Translation quality: BLEU on the held-out toy-language test set by source length, attention against none,
greedy against beam search, over seeds (issue 16; Bahdanau et al. 2015's finding: attention helps most on
long sentences).

For each seed and attention variant, the seq2seq agent (rlkit.agents.seq2seq) trains on
``env=translation``'s train split with its own update() (teacher forcing, Adam), for `--steps` minibatches of
64 pairs, in this process; then it translates the first `--test` sentences of the test split greedily and
with beam search, and sacreBLEU scores them (corpus BLEU, all and per source-length bucket). The model is
smaller than the book's (`--units`, `--layers`) so that the whole grid fits a shared 2-core CPU.

    .venv/bin/python benchmarks/seq2seq.py            # the table in benchmarks/README.md
    .venv/bin/python benchmarks/seq2seq.py --steps 200 --seeds 0 --out results.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlkit.agents.seq2seq import Seq2SeqAgent, Seq2SeqConfig
from rlkit.core.tokens import words_of
from rlkit.core.types import AgentContext, Transition
from rlkit.envs.translation import TranslationEnv, corpus_bleu

BUCKETS = ((1, 10), (11, 20), (21, 30), (31, 50))


def train(attention: str, seed: int, args: argparse.Namespace, env: TranslationEnv) -> Seq2SeqAgent:
    """The agent after `args.steps` teacher-forced updates on the train split (zero actions: no decoding)."""
    cfg = Seq2SeqConfig(attention=attention, units=args.units, num_layers=args.layers, lr=args.lr, beam=1)
    agent = Seq2SeqAgent(cfg, AgentContext(env.observation_space, env.action_space, seed=seed))
    obs, _ = env.reset(seed=seed)
    zeros = np.zeros(env.action_space.shape, dtype=np.int64)
    for _ in range(args.steps):
        next_obs, reward, term, trunc, info = env.step(zeros)
        agent.observe(Transition(obs[None], zeros[None], np.array([reward]), next_obs[None],
                                 np.array([term]), np.array([trunc]), [info]))  # fmt: skip
        agent.update()
        obs = env.reset()[0] if term else next_obs
    return agent


def bleu_by_bucket(agent: Seq2SeqAgent, test: TranslationEnv, n: int, beam: int) -> dict[str, float]:
    """Corpus BLEU of the first `n` test sentences, all and by source length."""
    agent.cfg.beam = beam
    hyps = []
    for start in range(0, n, 50):
        src = test.inputs[start : min(n, start + 50)]
        pred = agent.act(src[None], explore=False)[0]
        hyps += [" ".join(words_of(p, test.tgt_vocab)) for p in pred]
    refs, lengths = test.references[:n], [len(s.split()) for s in test.sources[:n]]
    out = {"all": corpus_bleu(hyps, refs)}
    for lo, hi in BUCKETS:
        keep = [k for k, m in enumerate(lengths) if lo <= m <= hi]
        out[f"{lo}-{hi}"] = corpus_bleu([hyps[k] for k in keep], [refs[k] for k in keep])
    return out


def speed(args: argparse.Namespace) -> None:
    """Steps/s of `rlkit train` (runner, env protocol, greedy decoding of one training batch in
    `agent.decode_every`, logging, set-up) against the bare update loop of `train` on the same model (its
    timing includes generating the training corpus, as `rlkit train`'s includes building its envs), for each
    of `--decode-every` (1: every training batch decoded, the behaviour before issue 16's speed change),
    alternated `--rounds` times."""
    import tempfile

    from rlkit.frontend.cli import main as rlkit

    ratios = {k: [] for k in args.decode_every}
    for r in range(args.rounds):
        t0 = time.perf_counter()
        env = TranslationEnv(split="train")  # both sides build their data (the 20,000 pairs: about 3 s)
        train("luong", r, args, env)
        bare = args.steps / (time.perf_counter() - t0)
        for every in args.decode_every:
            runner = rlkit_speed(args, every, rlkit, tempfile)
            ratios[every].append(runner / bare)
            print(f"round {r}: bare {bare:.2f} steps/s, rlkit train (decode_every={every}) {runner:.2f} "
                  f"steps/s, ratio {ratios[every][-1]:.2f}", flush=True)  # fmt: skip
    for every, values in ratios.items():
        print(f"decode_every={every}: median ratio rlkit / bare: {statistics.median(values):.2f}")


def rlkit_speed(args: argparse.Namespace, every: int, rlkit: Any, tempfile: Any) -> float:
    """Steps/s of one `rlkit train` run, set-up included."""
    with tempfile.TemporaryDirectory() as tmp:
        overrides = [
            "agent=seq2seq",
            "env=translation",
            "ui=none",
            "num_threads=1",
            "agent.attention=luong",
            f"agent.decode_every={every}",
        ]
        overrides += [
            f"agent.units={args.units}",
            f"agent.num_layers={args.layers}",
            f"total_steps={args.steps}",
        ]
        overrides += [
            f"eval.every={10 * args.steps}",
            "env.eval_kwargs.n_test=64",
            f"hydra.run.dir={tmp}/run",
        ]
        t0 = time.perf_counter()
        assert rlkit(["train", *overrides]) == 0
        return args.steps / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--attention", nargs="+", default=["none", "luong"])
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.005)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--test", type=int, default=300)
    parser.add_argument("--out", default=None)
    parser.add_argument("--speed", action="store_true", help="rlkit train vs the bare loop, steps/s")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--decode-every", type=int, nargs="+", default=[1, 8], help="with --speed")
    parser.add_argument("--report", nargs="+", default=None, help="print the table of these --out files")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.speed:
        return speed(args)
    if args.report:  # runs split over processes (e.g. two at a time on two cores), joined here
        saved = [json.loads(Path(path).read_text()) for path in args.report]
        runs = [r for s in saved for r in s["runs"]]
        return table(runs, saved[0]["counts"], argparse.Namespace(**saved[0]["args"]))
    env, test = TranslationEnv(split="train"), TranslationEnv(split="test")
    results = []
    for seed in args.seeds:
        for attention in args.attention:
            t0 = time.perf_counter()
            agent = train(attention, seed, args, env)
            train_s = time.perf_counter() - t0
            row = {"seed": seed, "attention": attention, "train_s": train_s}
            row["greedy"] = bleu_by_bucket(agent, test, args.test, 1)
            row[f"beam{args.beam}"] = bleu_by_bucket(agent, test, args.test, args.beam)
            results.append(row)
            print(json.dumps(row), flush=True)
    lengths = [len(s.split()) for s in test.sources[: args.test]]
    counts = {f"{lo}-{hi}": sum(lo <= m <= hi for m in lengths) for lo, hi in BUCKETS}
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"args": vars(args), "counts": counts, "runs": results}, f, indent=1)
    table(results, counts, args)


def table(results: list[dict], counts: dict[str, int], args: argparse.Namespace) -> None:
    """The markdown table: BLEU mean ± std over seeds per attention and decoding, all and per bucket, and
    attention's gain over none per bucket."""
    cols, seeds = ["all", *counts], sorted({r["seed"] for r in results})
    print(
        f"\n{args.steps} steps x 64 pairs, {args.units} units x {args.layers} layer(s), lr {args.lr}, "
        f"seeds {seeds}, {args.test} test sentences {counts}; {platform.machine()}"
    )
    print("| attention | decoding | " + " | ".join(f"BLEU {c}" for c in cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    attentions = list(dict.fromkeys(r["attention"] for r in results))
    for attention in attentions:
        for dec in ("greedy", f"beam{args.beam}"):
            rows = [r[dec] for r in results if r["attention"] == attention]
            mean = [statistics.mean(r[c] for r in rows) for c in cols]
            std = [statistics.pstdev(r[c] for r in rows) for c in cols]
            cells = [f"{m:.1f} ± {s:.1f}" for m, s in zip(mean, std)]
            print(f"| {attention} | {dec} | " + " | ".join(cells) + " |")
    for attention in attentions[1:]:  # the gain over the first (none), paired by seed
        for dec in ("greedy", f"beam{args.beam}"):
            gains = []
            for seed in seeds:
                pair = {r["attention"]: r[dec] for r in results if r["seed"] == seed}
                if attention in pair and attentions[0] in pair:
                    gains.append([pair[attention][c] - pair[attentions[0]][c] for c in cols])
            if gains:
                cells = [f"{statistics.mean(g[k] for g in gains):+.1f}" for k in range(len(cols))]
                print(f"| {attention} - {attentions[0]} | {dec} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
