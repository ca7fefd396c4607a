"""Gin at the edge: parse gin files and `--gin.X=Y` flags, and write the operative config beside outputs."""

from __future__ import annotations

import logging
import os
import pathlib
import re
from typing import Callable, Sequence, TypeVar

import gin

GIN_DIR = pathlib.Path(__file__).resolve().parents[1] / "gin"
F = TypeVar("F", bound=Callable)


def split_gin_flags(argv: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """Separates `--gin_file=F` / `--gin_file F` and `--gin.X=Y` from the other arguments, T5X-style."""
    rest: list[str] = []
    files: list[str] = []
    bindings: list[str] = []
    items = list(argv)
    index = 0
    while index < len(items):
        arg = items[index]
        if arg.startswith("--gin_file="):
            files.append(arg.split("=", 1)[1])
        elif arg == "--gin_file" and index + 1 < len(items):
            files.append(items[index + 1])
            index += 1
        elif arg.startswith("--gin."):
            key, sep, value = arg[len("--gin."):].partition("=")
            if not sep:
                raise SystemExit(f"gin override {arg!r} must look like --gin.NAME=VALUE")
            bindings.append(f"{key} = {value}")
        elif arg == "--gin_bindings" and index + 1 < len(items):
            bindings.append(items[index + 1])
            index += 1
        elif arg.startswith("--gin_bindings="):
            bindings.append(arg.split("=", 1)[1])
        else:
            rest.append(arg)
        index += 1
    return files, bindings, rest


def parse_gin(files: Sequence[str], bindings: Sequence[str]) -> None:
    """Parses gin files (searched in the working directory, then the repository's `gin/`) and bindings."""
    gin.clear_config()
    for path in (os.getcwd(), str(GIN_DIR)):
        gin.add_config_file_search_path(path)
    resolved = []
    for name in files:
        candidates = [name, os.path.join(GIN_DIR, name)]
        found = next((c for c in candidates if os.path.exists(c)), None)
        if found is None:
            raise SystemExit(f"gin file {name!r} not found (looked in the working directory and {GIN_DIR})")
        resolved.append(found)
    # gin logs an error for every search-path miss of an `include`; only the final failure matters.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.CRITICAL)
    try:
        gin.parse_config_files_and_bindings(resolved, [], finalize_config=False)
        parse_bindings(bindings)
    except (ValueError, KeyError, ImportError, SyntaxError, IOError) as error:
        raise SystemExit(f"gin configuration error: {error}") from None
    finally:
        root.setLevel(level)
    unused = sorted(unreferenced_macros() & macros_set_by(files=resolved, bindings=bindings))
    if unused:
        raise SystemExit(
            f"gin configuration error: {', '.join(unused)} {'is' if len(unused) == 1 else 'are'} set but nothing "
            f"in the configuration uses {'it' if len(unused) == 1 else 'them'} (a misspelt or obsolete name? "
            "T5X's names: INITIAL_CHECKPOINT_PATH, TRAIN_STEPS, Z_LOSS, LABEL_SMOOTHING, LOSS_NORMALIZING_FACTOR, ...)"
        )


def parse_bindings(bindings: Sequence[str]) -> None:
    """Parses `--gin.X=Y` bindings after the gin files, with the modules those files import in scope.

    gin parses a bindings string on its own, without the files' `from personalize.experiment import runner`: a
    selector there resolves only against configurables some file has already registered. So
    `runner.run_experiment.pretraining = @runner.PretrainingSettings()` works in a gin file that imports the runner
    but fails on the command line, because no file happens to mention PretrainingSettings. A binding that fails so
    is parsed again under the files' imports (with dynamic registration, as a gin file would be); anything else, and
    a binding that fails both ways, reports the first error. Bindings that bring their own imports
    (`--gin_bindings='import m'`) are parsed together, as one string, in the context they set up.
    """
    if any(re.match(r"\s*(import|from)\s", binding) for binding in bindings):
        gin.parse_config(list(bindings))
        return
    imports = {statement.format(): statement for statement in gin.config._IMPORTS}  # gin keeps no public list
    dynamic = any(statement.module == "__gin__.dynamic_registration" for statement in imports.values())
    header = ["from __gin__ import dynamic_registration"] + sorted(
        line for line, statement in imports.items() if not statement.module.startswith("__gin__."))
    for binding in bindings:
        try:
            gin.parse_config(binding)
        except ValueError as error:
            if not dynamic or "No configurable matching" not in str(error):
                raise
            try:
                gin.parse_config([*header, binding])
            except (ValueError, NameError, AttributeError, ImportError):
                raise error from None


def macros_set_by(*, files: Sequence[str], bindings: Sequence[str]) -> set[str]:
    """The macros a user sets: every `--gin.X=Y` binding and the top-level macros of gin files outside the
    repository's gin/ folder (whose run files set defaults for the model files, such as DROPOUT_RATE)."""
    texts = list(bindings)
    for path in files:
        if not pathlib.Path(path).resolve().is_relative_to(GIN_DIR):
            texts.append(pathlib.Path(path).read_text(encoding="utf-8"))
    names = set()
    for text in texts:
        for statement in gin.config_parser.ConfigParser(text, gin.config.ParserDelegate(skip_unknown=True)):
            if isinstance(statement, gin.config_parser.BindingStatement) and not statement.arg_name:
                names.add(f"{statement.scope}/{statement.selector}" if statement.scope else statement.selector)
    return names


def unreferenced_macros() -> set[str]:
    """Macros of the parsed configuration that no binding reaches, directly or through other macros.

    gin accepts any macro name (`--gin.ANYTHING=3`) without a word; an unused one is a setting the run silently
    ignores, such as an obsolete or misspelt name, so the gin-taking commands refuse it before doing any work.
    Bindings of configurables need no such check: gin already rejects an unknown configurable or parameter.
    """
    config = gin.config._CONFIG  # gin has no public view of the parsed (not yet operative) bindings
    macro_selector = "gin.macro"
    macros = {scope: values for (scope, selector), values in config.items() if selector == macro_selector}
    frontier = [values for (_, selector), values in config.items() if selector != macro_selector]
    used: set[str] = set()
    while frontier:
        names = {
            ref.scoped_selector.rsplit("/", 1)[0]
            for ref in gin.config.iterate_references(frontier)
            if ref.configurable.selector == macro_selector
        }
        names -= used
        used |= names
        frontier = [macros[name] for name in names if name in macros]
    return set(macros) - used


def configured(function: F) -> F:
    """The gin-configured version of a plain library function (registered by a gin file's import)."""
    try:
        return gin.get_configurable(function)
    except ValueError:
        return function


def write_operative_config(directory: str, *, name: str = "config.gin") -> str:
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(gin.operative_config_str())
    return path


def run_stage_command(*, stages: dict[str, Callable[..., dict]], argv: Sequence[str], description: str) -> int:
    """`python -m personalize.<stage>.run --stage=NAME --output_dir=D [--gin_file=F] [--gin.X=Y]`.

    Runs the gin-configured stage function with `output_dir`, writes the operative config beside its output and
    prints the variant, files and shards it reports.
    """
    import argparse

    gin_files, gin_bindings, rest = split_gin_flags(argv)
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--stage", required=True, choices=sorted(stages))
    parser.add_argument("--output_dir", required=True)
    args = parser.parse_args(rest)
    parse_gin(gin_files, gin_bindings)
    result = configured(stages[args.stage])(output_dir=args.output_dir)
    write_operative_config(args.output_dir)
    print({key: result[key] for key in ("variant", "files", "shards") if key in result})
    return 0
