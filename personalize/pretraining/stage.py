"""`personalize pretrain` as a library function: a T5 1.1-shaped model pre-trained from scratch on the training
users' documents, written where an experiment's `initial_checkpoint` imports it.

OUTPUT_DIR layout:
  spm.model                              the SentencePiece vocabulary (training users' documents)
  examples/span_corruption, examples/denoising   the two objectives' examples (train / validation)
  model/checkpoints/, model/metrics.jsonl        the trainer's resumable state and its log
  checkpoint/                            the result: config.json + model.safetensors (or T5X layout) + spm.model
  start.gin                              bindings that make `personalize experiment` start from it
  report.md, report.json                 corpus, throughput, validation loss and the copy probe

Every step is resumable: finished artifacts are kept, and the trainer continues from its last checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import time
from typing import Any

from personalize.pretraining.corpus import register_pretraining_mixture, training_corpus, write_objective_examples
from personalize.pretraining.denoising import document_text

MIXTURE = "personalize_pretrain_v1"
CHECKPOINT_DIR = "checkpoint"
MODEL_DIR = "model"


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def padded_model_config(*, model_config: Any, vocab_size: int) -> Any:
    """`model_config` with the vocabulary's rows padded to a multiple of 128, as T5 (and the experiment) pads."""
    return dataclasses.replace(model_config, vocab_size=-(-vocab_size // 128) * 128)


def _training_summary(metrics_path: str) -> dict[str, Any]:
    """The last train and validation records of the trainer's metrics log, and the mean examples/s."""
    records = []
    if os.path.exists(metrics_path):
        with open(metrics_path, encoding="utf-8") as handle:
            records = [json.loads(line) for line in handle if line.strip()]
    train = [r for r in records if r.get("split") == "train"]
    validation = [r for r in records if r.get("split") == "validation"]
    # The first window includes compilation; the mean throughput is taken over the later ones.
    rates = [r["examples_per_second"] for r in train[1:] or train if "examples_per_second" in r]
    return {"last_train": train[-1] if train else None, "validation": validation,
            "examples_per_second": sum(rates) / len(rates) if rates else None}


def write_start_gin(*, path: str, model_config: Any, checkpoint_dir: str, checkpoint_format: str,
                    vocabulary_path: str) -> None:
    """Bindings for `personalize experiment --gin_file=PATH`: this shape, checkpoint and vocabulary."""
    fields = ("emb_dim", "num_heads", "head_dim", "mlp_dim", "num_encoder_layers", "num_decoder_layers",
              "mlp_activations", "logits_via_embedding", "relative_attention_num_buckets",
              "relative_attention_max_distance", "dropout_rate", "dtype")
    lines = ["# Written by `personalize pretrain`: start every model of an experiment from this pre-training.",
             "from __gin__ import dynamic_registration", "from personalize.experiment import runner",
             "from personalize.models.t5 import config", "", "MODEL_CONFIG = @config.T5Config()", "config.T5Config:"]
    lines += [f"  {name} = {getattr(model_config, name)!r}" for name in fields]
    lines += ["", f"runner.run_experiment.initial_checkpoint = {os.path.abspath(checkpoint_dir)!r}",
              f"runner.run_experiment.initial_checkpoint_format = {checkpoint_format!r}",
              f"runner.run_experiment.vocabulary_path = {os.path.abspath(vocabulary_path)!r}",
              "runner.run_experiment.pretraining = None", ""]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))


def _report_markdown(report: dict[str, Any]) -> str:
    corpus, training, probe = report["corpus"], report["training"], report["copy_probe"]["scores"]
    chosen = [r for r in training["validation"] if r["step"] == report["steps"]]
    validation = (chosen or training["validation"] or [None])[-1]  # the exported step's, when it was evaluated
    lines = [f"# Pre-training report: {report['prepared_dir']}", "",
             f"- corpus: {corpus['users']} users ({corpus.get('selection', 'training')}), {corpus['train_documents']} "
             "documents trained on, "
             f"{corpus['held_out_documents']} held out (validation loss, copy probe)",
             f"- objective: span corruption (noise density {report['settings']['noise_density']}, mean span "
             f"{report['settings']['mean_noise_span_length']}) mixed with whole-document denoising at rate "
             f"{report['settings']['denoising_rate']}"
             + (f" (inputs prefixed {report['settings']['denoising_prefix']!r})"
                if report['settings'].get('denoising_prefix') else ""),
             f"- model: {report['parameters']:,} parameters; the best validation step {report['steps']} of "
             f"{report['last_step']} trained, batch "
             f"{report['settings']['batch_size']} x {report['settings']['inputs_length']}/"
             f"{report['settings']['targets_length']} tokens (packed)",
             f"- throughput: {training['examples_per_second'] or 0:.1f} examples/s; wall time of this run "
             f"{report['wall_seconds']:.0f}s",
             f"- final train loss: {training['last_train']['loss']:.4f}" if training["last_train"] else
             "- final train loss: (not logged)",
             f"- validation loss (held-out training-user documents): {validation['loss']:.4f} "
             f"(accuracy {validation['accuracy']:.3f}) at step {validation['step']}" if validation else
             "- validation loss: (not evaluated)",
             "", "## Copy probe", "",
             f"Greedy decodes of {probe['examples']} held-out passages (first {report['settings']['probe_tokens']} "
             "pieces) given as the input:", "",
             "| exact match | token accuracy | ROUGE-L | mean target pieces | mean predicted pieces |",
             "|---|---|---|---|---|",
             f"| {probe['exact_match']:.3f} | {probe['token_accuracy']:.3f} | {probe['rougeL']:.2f} | "
             f"{probe['mean_target_tokens']:.1f} | {probe['mean_predicted_tokens']:.1f} |", ""]
    for sample in report["copy_probe"]["samples"]:
        lines += [f"- target: {sample['target'][:200]!r}", f"  prediction: {sample['prediction'][:200]!r}"]
    lines += ["", "## Use it", "", "```", f"personalize experiment ... --gin_file={report['start_gin']}", "```", ""]
    return "\n".join(lines)


def run_pretraining(
    *,
    prepared_dir: str,
    output_dir: str,
    model_config: Any,
    train_steps: int,
    batch_size: int = 16,
    inputs_length: int = 256,
    targets_length: int = 256,
    learning_rate: float = 0.01,
    warmup_steps: int = 100,
    vocabulary_size: int = 2000,
    vocabulary_path: str | None = None,
    noise_density: float = 0.15,
    mean_noise_span_length: float = 3.0,
    denoising_rate: float = 0.5,
    copies: int = 2,
    denoising_span_start_rate: float = 0.05,
    denoising_max_span_words: int = 3,
    denoising_prefix: str = "",
    held_out_documents: int = 64,
    users: str = "training",
    validation_batches: int = 4,
    eval_period: int = 500,
    patience: int = 3,
    checkpoint_period: int = 200,
    log_period: int = 50,
    probe_tokens: int = 64,
    checkpoint_format: str = "hf",
    seed: int = 0,
) -> dict[str, Any]:
    """Pre-trains `model_config` from scratch (resuming if output_dir has a checkpoint); returns the report.

    denoising_rate: the share of whole-document denoising examples in the mixture (0: span corruption alone).
    denoising_prefix: text that starts every denoising input (and the copy probe's), so that the model can tell the
      two objectives apart; '' keeps the inputs as they were (the shipped demo checkpoint was trained so).
    users: whose documents are trained on: 'training' (the prepared dataset's training-only users) or
      'not_held_out' (every user of the source corpus without a validation or test example; see corpus.py).
    eval_period / patience: validation loss every eval_period steps; the best step is exported, and training stops
      after `patience` evaluations without improvement (the one recipe's rule, personalize.training.recipe).
    vocabulary_path: an existing SentencePiece model (default: one of `vocabulary_size` pieces trained here on the
      training users' documents). checkpoint_format: 'hf' (safetensors folder) or 't5x'.
    """
    import itertools

    import jax
    from flax.core import meta

    from personalize.models.t5.checkpoint_export import export_checkpoint
    from personalize.models.t5.network import Transformer
    from personalize.partitioning.partitioner import make_partitioner
    from personalize.pretraining.copy_probe import run_copy_probe
    from personalize.training.adafactor import Adafactor
    from personalize.training.data import SeqioBatches
    from personalize.training.early_stopping import EarlyStopping, restore_best_params
    from personalize.training.evaluation import abstract_params
    from personalize.training.finetune import train
    from personalize.training.schedules import warmup_rsqrt_decay
    from personalize.vocabulary.sentencepiece_vocabulary import load_vocabulary, train_vocabulary

    if train_steps < 1:
        raise ValueError(f"train_steps must be >= 1, got {train_steps}")
    started = time.perf_counter()
    os.makedirs(output_dir, exist_ok=True)
    corpus = training_corpus(prepared_dir=prepared_dir, held_out_documents=held_out_documents, seed=seed,
                             users=users)
    _log(f"pretrain: {corpus.users} users ({users}; none with a validation or test example), "
         f"{len(corpus.train)} documents to train on, "
         f"{len(corpus.held_out)} held out")
    spm_path = os.path.join(output_dir, "spm.model")
    if vocabulary_path is not None:
        if not os.path.exists(spm_path):
            shutil.copyfile(vocabulary_path, spm_path)
    elif not os.path.exists(spm_path):
        train_vocabulary(prepared_dir=prepared_dir, output_path=spm_path, vocab_size=vocabulary_size)
    vocabulary = load_vocabulary(path=spm_path)
    directories = write_objective_examples(
        corpus=corpus, output_dir=os.path.join(output_dir, "examples"), vocabulary=vocabulary,
        inputs_length=inputs_length, copies=copies, seed=seed, noise_density=noise_density,
        mean_noise_span_length=mean_noise_span_length, denoising_span_start_rate=denoising_span_start_rate,
        denoising_max_span_words=denoising_max_span_words, denoising_prefix=denoising_prefix)
    mixture = register_pretraining_mixture(name=MIXTURE, directories=directories, vocabulary=vocabulary,
                                           denoising_rate=denoising_rate)

    lengths = {"inputs": inputs_length, "targets": targets_length}
    config = padded_model_config(model_config=model_config, vocab_size=vocabulary.vocab_size)
    model = Transformer(config=config)
    partitioner = make_partitioner(num_partitions=1)
    validation = list(itertools.islice(SeqioBatches(
        mixture_or_task_name=mixture, task_feature_lengths=lengths, split="validation", batch_size=batch_size,
        shuffle=False, seed=seed, pack=True).iterate(), validation_batches))
    model_dir = os.path.join(output_dir, MODEL_DIR)
    state = train(
        model_dir=model_dir, model=model, partitioner=partitioner,
        optimizer=Adafactor(learning_rate=warmup_rsqrt_decay(base_learning_rate=learning_rate,
                                                             warmup_steps=warmup_steps)),
        train_data=SeqioBatches(mixture_or_task_name=mixture, task_feature_lengths=lengths, split="train",
                                batch_size=batch_size, shuffle=True, seed=seed, pack=True),
        task_feature_lengths=lengths, train_steps=train_steps, validation_data=validation,
        eval_period=eval_period, checkpoint_period=checkpoint_period, keep_checkpoints=2, log_period=log_period,
        random_seed=seed, early_stopping=EarlyStopping(patience=patience))
    # The best validation step's params (a small corpus is over-fitted long before train_steps), as every row does.
    abstract, _ = abstract_params(model=model, task_feature_lengths=lengths, partitioner=partitioner)
    params, step = restore_best_params(model_dir=model_dir, abstract_params=abstract)
    params = meta.unbox(jax.device_get(params))
    last_step = int(jax.device_get(state.step))

    checkpoint_dir = os.path.join(output_dir, CHECKPOINT_DIR)
    export_checkpoint(params=params, config=config, output_dir=checkpoint_dir, checkpoint_format=checkpoint_format,
                      step=step)
    shutil.copyfile(spm_path, os.path.join(checkpoint_dir, "spm.model"))
    start_gin = os.path.join(output_dir, "start.gin")
    write_start_gin(path=start_gin, model_config=model_config, checkpoint_dir=checkpoint_dir,
                    checkpoint_format=checkpoint_format, vocabulary_path=os.path.join(checkpoint_dir, "spm.model"))

    _log(f"pretrain: copy probe on {len(corpus.held_out)} held-out passages")
    probe = run_copy_probe(model=model, params=params, vocabulary=vocabulary, probe_tokens=probe_tokens,
                           texts=[document_text(d) for d in corpus.held_out], batch_size=batch_size,
                           prefix=denoising_prefix)
    report = {
        "prepared_dir": prepared_dir, "output_dir": output_dir, "checkpoint": checkpoint_dir,
        "checkpoint_format": checkpoint_format, "start_gin": start_gin, "steps": step, "last_step": last_step,
        "parameters": sum(int(x.size) for x in jax.tree_util.tree_leaves(params)),
        "model_config": dataclasses.asdict(config),
        "corpus": {"users": corpus.users, "selection": users, "train_documents": len(corpus.train),
                   "held_out_documents": len(corpus.held_out)},
        "settings": {"batch_size": batch_size, "inputs_length": inputs_length, "targets_length": targets_length,
                     "learning_rate": learning_rate, "warmup_steps": warmup_steps, "noise_density": noise_density,
                     "mean_noise_span_length": mean_noise_span_length, "denoising_rate": denoising_rate,
                     "denoising_prefix": denoising_prefix, "copies": copies, "probe_tokens": probe_tokens, "seed": seed},
        "training": _training_summary(os.path.join(model_dir, "metrics.jsonl")),
        "copy_probe": probe,
        "wall_seconds": time.perf_counter() - started,
    }
    with open(os.path.join(output_dir, "report.json"), "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, default=str)
    with open(os.path.join(output_dir, "report.md"), "w", encoding="utf-8") as handle:
        handle.write(_report_markdown(report))
    _log(f"pretrain: wrote {checkpoint_dir} and {os.path.join(output_dir, 'report.md')}")
    return report
