"""The output features every personalize task shares (T5's: inputs and targets, EOS appended after trimming),
and trimming by priority: an input too long for its feature length loses whole past-passage entries from the end,
never the instruction, x_t, summary or keywords."""

from __future__ import annotations

HEAD, ENTRIES = "inputs_head", "inputs_entries"  # from tasks.sources: the inputs before the past passages; the entries


def output_features(vocabulary) -> dict:
    import seqio

    return {
        "inputs": seqio.Feature(vocabulary=vocabulary, add_eos=True, required=False),
        "targets": seqio.Feature(vocabulary=vocabulary, add_eos=True),
    }


def trim_past_passages_by_priority(dataset, sequence_length, output_features):
    """Inputs longer than `sequence_length['inputs']` (EOS included) keep their head and the first past-passage
    entries that fit; an input that fits keeps its tokens as they are. Without a length (inspection counts untrimmed
    lengths) nothing is trimmed. Examples without entries (author pairs, stage models) pass unchanged, and a head
    longer than the budget is left to the usual trim at the end (append_eos_after_trim)."""
    import tensorflow as tf

    length = (sequence_length or {}).get("inputs")
    feature = output_features.get("inputs")

    def trim(example):
        example = dict(example)
        if ENTRIES not in example:
            return example
        head_text, entries_text = example.pop(HEAD), example.pop(ENTRIES)
        if length is None or feature is None:
            return example
        budget = length - (1 if feature.add_eos else 0)
        inputs = example["inputs"]
        head = tf.cast(feature.vocabulary.encode_tf(head_text), inputs.dtype)
        entries = tf.map_fn(  # ragged [entries, tokens], whatever a vocabulary returns for a batch of strings
            lambda text: tf.RaggedTensor.from_tensor(
                tf.expand_dims(tf.cast(feature.vocabulary.encode_tf(text), inputs.dtype), 0))[0],
            entries_text, fn_output_signature=tf.RaggedTensorSpec(shape=[None], dtype=inputs.dtype))
        ends = tf.cumsum(entries.row_lengths())
        room = tf.cast(budget - tf.size(head), ends.dtype)
        kept = tf.reduce_sum(tf.cast(ends <= room, tf.int32))
        trimmed = tf.concat([head, entries[:kept].flat_values], axis=0)
        example["inputs"] = tf.cond(tf.size(inputs) <= budget, lambda: inputs, lambda: trimmed)
        return example

    return dataset.map(trim, num_parallel_calls=tf.data.AUTOTUNE)


def preprocessors() -> list:
    """Text pairs come formatted from the source; tokenize, the cache point, trimming by priority, then EOS."""
    import seqio

    return [seqio.preprocessors.tokenize, seqio.CacheDatasetPlaceholder(), trim_past_passages_by_priority,
            seqio.preprocessors.append_eos_after_trim]
