"""Metric sinks: TensorBoard files that TensorBoard reads back, JSONL that stays valid JSON."""

from __future__ import annotations

import json

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rlkit.core.loggers import JsonlLogger, MultiLogger, TensorBoardLogger


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


def test_scalar_events_are_encoded_exactly_as_protobuf_does() -> None:
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary

    from rlkit.core.loggers import scalar_event_bytes

    cases = [
        ({"train/episode_return": 1.5, "train/episode_length": 7}, 0),
        ({"eval/return_mean": float("nan"), "x": -0.0, "big": 1e39, "é/ü" * 50: 3.25}, 300),
        ({}, 2**40 + 3),
    ]
    for metrics, step in cases:
        values = [Summary.Value(tag=tag, simple_value=float(v)) for tag, v in metrics.items()]
        event = Event(wall_time=1764000000.25, step=step, summary=Summary(value=values))
        assert scalar_event_bytes(metrics, step, 1764000000.25) == event.SerializeToString()


def test_jsonl_lines_match_json_dumps(tmp_path) -> None:
    logger = JsonlLogger(tmp_path / "m.jsonl")
    metrics = {"a": 0.1, 'b"q': 3, "c": float("inf"), "time/sps": 5.0, "d": -2.5e-300}
    logger.log(metrics, 12)
    logger.log({"time/sps": 1.0}, 13)  # nothing but wall-clock tags: no line
    logger.close()
    (line,) = (tmp_path / "m.jsonl").read_text().splitlines()
    expected = {"step": 12, "a": 0.1, 'b"q': 3.0, "c": "inf", "d": -2.5e-300}
    assert line == json.dumps(expected)
