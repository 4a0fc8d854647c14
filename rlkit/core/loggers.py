"""Metric sinks: TensorBoard event files and metrics.jsonl, fanned out from one `log` call.

metrics.jsonl holds only what a seeded CPU run reproduces exactly: wall-clock tags (`time/...`) go to
TensorBoard and the console, not to the JSONL file, so two runs with the same seed write identical files.
"""

from __future__ import annotations

import functools
import json
import math
import os
import socket
import struct
import time
from pathlib import Path

import google_crc32c
import numpy as np

from rlkit.core.diskio import AppendFile
from rlkit.core.gif import gif_bytes
from rlkit.core.types import Logger


def resume_advice(run_dir: Path) -> str:
    """What to do after a failed write of a run file (a full disk)."""
    return f"training stopped and the last checkpoint is kept: free space, then rlkit train resume={run_dir}"


class JsonlLogger:
    """Appends one JSON object per call: {"step": N, "tag": value, ...}, flushed at each periodic log."""

    def __init__(self, path: Path):
        self._file = AppendFile(path, resume_advice(Path(path).parent))

        self._keys: dict[str, str] = {}  # tag -> its JSON string, encoded once

    def log(self, metrics: dict[str, float], step: int) -> None:
        """Writes the non-wall-clock metrics: json.dumps's text at a third of its cost."""
        keys, fields = self._keys, [f'{{"step": {int(step)}']
        for tag, value in metrics.items():
            if tag.startswith("time/"):
                continue
            if tag not in keys:
                keys[tag] = json.dumps(tag)
            value = float(value)
            fields.append(f"{keys[tag]}: {value!r}" if math.isfinite(value) else f'{keys[tag]}: "{value}"')
        if len(fields) > 1:
            self._file.write((", ".join(fields) + "}\n").encode())

    def flush(self) -> None:
        """Pushes buffered lines to disk."""
        self._file.flush()

    def close(self) -> None:
        """Flushes and closes the file."""
        self._file.close()


class TensorBoardLogger:
    """Scalars into a TensorBoard event file in the run directory, one event per `log` call.

    Why not torch's SummaryWriter? Its record checksums are computed in pure Python (about 100 us a scalar),
    which costs more than a tabular agent's whole step. This writer builds the same protobuf events and
    checksums them with google-crc32c (C): a few microseconds per call. The file format is TFRecord:
    length, masked CRC-32C of the length, the serialized Event, masked CRC-32C of the Event.
    """

    def __init__(self, log_dir: Path, suffix: str = "rlkit"):
        # tensorboard's protobufs (~0.5 s to import): only a run that writes events pays for them
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        self._event, self._summary = Event, Summary
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.{suffix}"
        self.path = Path(log_dir) / name
        self._file = AppendFile(self.path, resume_advice(Path(log_dir)))
        self._write(Event(wall_time=time.time(), file_version="brain.Event:2"))

    def log(self, metrics: dict[str, float], step: int) -> None:
        """One event holding every metric of this call."""
        self._write_record(scalar_event_bytes(metrics, step, time.time()))

    def log_summary(self, summary, step: int) -> None:
        """One event holding a ready-made Summary protobuf (e.g. tensorboard's hparams summaries)."""
        self._write(self._event(wall_time=time.time(), step=int(step), summary=summary))

    def purge_from(self, step: int) -> None:
        """Tells TensorBoard to drop earlier files' events at `step` and after (used when a run resumes)."""
        from tensorboard.compat.proto.event_pb2 import SessionLog  # protobufs: as in __init__

        self._write(self._event(wall_time=time.time(), step=int(step), session_log=SessionLog(status=1)))

    def log_video(self, tag: str, frames: np.ndarray, step: int, fps: float) -> None:
        """(T, H, W, 3) uint8 frames as an animated GIF image summary: TensorBoard's Images tab plays it."""
        _, height, width, channels = frames.shape
        image = self._summary.Image(
            height=height, width=width, colorspace=channels, encoded_image_string=gif_bytes(frames, fps)
        )
        value = self._summary.Value(tag=tag, image=image)
        self._write(self._event(wall_time=time.time(), step=int(step), summary=self._summary(value=[value])))

    def _write(self, event) -> None:
        self._write_record(event.SerializeToString())

    def _write_record(self, data: bytes) -> None:
        header = struct.pack("<Q", len(data))
        self._file.write(header + _masked_crc32c(header) + data + _masked_crc32c(data))

    def flush(self) -> None:
        """Writes buffered events to disk."""
        self._file.flush()

    def close(self) -> None:
        """Flushes and closes the event file."""
        self._file.close()


def scalar_event_bytes(metrics: dict[str, float], step: int, wall_time: float) -> bytes:
    """The serialized Event protobuf of scalar summaries, encoded directly (a quarter of the cost of building
    protobuf objects; tests check it equals Event(...).SerializeToString()). Fields by number, as protobuf
    writes them: Event.wall_time (1, double), Event.step (2, varint), Event.summary (5, message) holding
    one Summary.value (1, message) per metric: Value.tag (1, string) and Value.simple_value (2, float).
    """
    values = b"".join(_value_prefix(tag) + _float32(float(value)) for tag, value in metrics.items())
    step_field = b"\x10" + _varint(int(step)) if step else b""  # protobuf omits a zero int field
    return b"\x09" + struct.pack("<d", wall_time) + step_field + b"\x2a" + _varint(len(values)) + values


@functools.cache
def _value_prefix(tag: str) -> bytes:
    """A Summary.value entry up to its float: its key and length, then the tag field and the float's key."""
    name = tag.encode()
    body = b"\x0a" + _varint(len(name)) + name + b"\x15"
    return b"\x0a" + _varint(len(body) + 4) + body


def _float32(value: float) -> bytes:
    """A float32, little-endian; beyond float32's range it is +-inf (as protobuf stores it)."""
    try:
        return struct.pack("<f", value)
    except OverflowError:
        return struct.pack("<f", math.copysign(math.inf, value))


def _varint(n: int) -> bytes:
    """Protobuf's base-128 varint of a non-negative int."""
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _masked_crc32c(data: bytes) -> bytes:
    """TFRecord's masked CRC-32C, packed little-endian."""
    crc = google_crc32c.value(data)
    return struct.pack("<I", (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF)


class MultiLogger:
    """Fans one call out to several loggers."""

    def __init__(self, loggers: list[Logger]):
        self.loggers = loggers

    def log(self, metrics: dict[str, float], step: int) -> None:
        """Logs to every sink."""
        for logger in self.loggers:
            logger.log(metrics, step)

    def log_video(self, tag: str, frames: np.ndarray, step: int, fps: float) -> None:
        """Sends a video to every sink that takes videos (TensorBoard)."""
        for logger in self.loggers:
            if hasattr(logger, "log_video"):
                logger.log_video(tag, frames, step, fps)

    def flush(self) -> None:
        """Flushes every sink that can."""
        for logger in self.loggers:
            getattr(logger, "flush", lambda: None)()

    def close(self) -> None:
        """Closes every sink."""
        for logger in self.loggers:
            logger.close()
