"""Metric sinks: TensorBoard files that TensorBoard reads back, JSONL that stays valid JSON."""

from __future__ import annotations

import json

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rlkit.loggers import JsonlLogger, MultiLogger, TensorBoardLogger


def test_tensorboard_and_jsonl_round_trip(tmp_path) -> None:
    logger = MultiLogger([TensorBoardLogger(tmp_path), JsonlLogger(tmp_path / "metrics.jsonl")])
    for step in range(1, 4):
        logger.log({"train/episode_return": step * 1.5, "time/sps": 1000.0 + step}, step)
    logger.log({"eval/return_mean": float("nan")}, 4)
    logger.close()
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("train/episode_return")] == [
        (1, 1.5),
        (2, 3.0),
        (3, 4.5),
    ]
    assert [e.value for e in events.Scalars("time/sps")] == [1001.0, 1002.0, 1003.0]
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert rows[0] == {"step": 1, "train/episode_return": 1.5}
    assert rows[-1] == {"step": 4, "eval/return_mean": "nan"}
