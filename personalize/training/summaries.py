"""TensorBoard event files in MODEL_DIR/<split>/ (train/, validation/, eval/), as T5X writes them.

Scalars are written as `simple_value` summaries, which every TensorBoard reader (the legacy EventAccumulator as
well as the data server) shows as scalars; text (the operative gin config) uses the text plugin's string tensor.
TensorFlow's record writer is imported on the first write, so a run that logs nothing never loads TensorFlow.
"""

import dataclasses
import itertools
import os
import pathlib
import socket
import time
from collections.abc import Mapping
from typing import Any

_FILE_COUNTER = itertools.count()


def _event_protos():
    from tensorflow.core.framework import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorflow.core.util import event_pb2

    return event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2


@dataclasses.dataclass
class SummaryWriter:
    """One event file per split subfolder of `directory`, opened on the first write and flushed after each."""

    directory: pathlib.Path
    _writers: dict[str, Any] = dataclasses.field(default_factory=dict, init=False, repr=False)

    def _write(self, *, split: str, step: int, values: list) -> None:
        import tensorflow as tf

        event_pb2, summary_pb2, *_ = _event_protos()
        writer = self._writers.get(split)
        if writer is None:
            folder = self.directory / split
            folder.mkdir(parents=True, exist_ok=True)
            name = (f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}."
                    f"{next(_FILE_COUNTER)}.v2")
            writer = self._writers[split] = tf.io.TFRecordWriter(str(folder / name))
            writer.write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString())
        event = event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary_pb2.Summary(value=values))
        writer.write(event.SerializeToString())
        writer.flush()

    def scalars(self, *, split: str, step: int, metrics: Mapping[str, float]) -> None:
        _, summary_pb2, *_ = _event_protos()
        values = [summary_pb2.Summary.Value(tag=name, simple_value=float(value)) for name, value in metrics.items()]
        self._write(split=split, step=step, values=values)

    def text(self, *, split: str, step: int, tag: str, text: str) -> None:
        _, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2 = _event_protos()
        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                        string_val=[text.encode("utf-8")])
        metadata = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="text"))
        self._write(split=split, step=step, values=[summary_pb2.Summary.Value(tag=tag, metadata=metadata, tensor=tensor)])

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


def operative_gin_config() -> str:
    """The gin configuration the run has used so far, as Markdown (TensorBoard's text tab); '' without gin."""
    import gin

    config = gin.operative_config_str()
    return gin.markdown(config) if config.strip() else ""
