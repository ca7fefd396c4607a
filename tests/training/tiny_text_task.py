"""A tiny SeqIO task (the first of three words; byte vocabulary, BLEU and ROUGE as metrics) and a tiny T5 that decodes it.

Its texts use lowercase ASCII only, so a model with 128 output ids (byte vocabulary ids 0..127) can write any of
them and every prediction decodes to text. Every sharded dimension divides by 4 (a 4-way model axis).
"""

from personalize.metrics.text_metrics import GENERATION_METRICS
from personalize.models.t5.config import T5Config

TASK = "personalize_tiny_copy_v1"
LENGTHS = {"inputs": 12, "targets": 8}
CONFIG = T5Config(vocab_size=128, emb_dim=32, num_heads=4, head_dim=8, mlp_dim=64, num_encoder_layers=1,
                  num_decoder_layers=1, mlp_activations=("gelu", "linear"), dropout_rate=0.0, dtype="float32",
                  relative_attention_num_buckets=8, relative_attention_max_distance=8)
WORDS = ("river", "garden", "engine", "letter", "market", "winter", "silver", "castle", "pencil", "orange")
SIZES = {"train": 16, "validation": 6, "test": 6}


def _texts(split: str) -> list[tuple[str, str, str]]:
    offset = {"train": 0, "validation": 3, "test": 7}[split]
    rows = []
    for index in range(SIZES[split]):
        words = [WORDS[(offset + 3 * index + k) % len(WORDS)] for k in (0, 1, 2)]
        rows.append((f"{split}-{index}", "first of " + " ".join(words), words[0]))
    return rows


def _dataset(split: str, shuffle_files: bool, seed: int | None = None):
    import tensorflow as tf

    ids, inputs, targets = zip(*_texts(split))
    return tf.data.Dataset.from_tensor_slices(
        {"example_id": list(ids), "inputs": list(inputs), "targets": list(targets)})


def config() -> T5Config:
    """The tiny model's config, for gin (`network.Transformer.config = @tiny_text_task.config()`)."""
    return CONFIG


def register() -> str:
    """Registers the task (again: safe to call twice); returns its name, so gin can set a task name with it."""
    import seqio

    vocabulary = seqio.ByteVocabulary()
    features = {name: seqio.Feature(vocabulary=vocabulary, add_eos=True) for name in ("inputs", "targets")}
    seqio.TaskRegistry.remove(TASK)
    seqio.TaskRegistry.add(
        TASK,
        source=seqio.FunctionDataSource(_dataset, splits=tuple(SIZES)),
        preprocessors=[seqio.preprocessors.tokenize, seqio.preprocessors.append_eos_after_trim],
        output_features=features,
        metric_fns=list(GENERATION_METRICS),
    )
    return TASK


# Meshes over four devices that the multi-host infer test decodes with: one model held by both processes, and
# one model per device (each process its own data-parallel groups). Values: num_partitions.
MESHES = {"model_across_processes": 4, "model_per_device": 1}
