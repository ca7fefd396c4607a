"""Gin at the edge: parse run + model + partitioning gin files, run train/eval/infer, keep the config beside it."""

import pathlib

import gin

from personalize import gin_config
from personalize.preflight import raise_problems, run_problems
from personalize.training import evaluation, finetune, inference

GIN_DIR = gin_config.GIN_DIR
MODES = {"train": finetune.train, "eval": evaluation.evaluate, "infer": inference.infer}
CONFIG_FILES = {"train": "config.gin", "eval": "eval_config.gin", "infer": "infer_config.gin"}


def _model_dir() -> pathlib.Path:
    try:
        value = gin.query_parameter("%MODEL_DIR")
    except ValueError as error:
        raise ValueError("the gin configuration does not set MODEL_DIR (e.g. --gin.MODEL_DIR=\"'runs/x'\")") from error
    return pathlib.Path(value)


def _path_macro(name: str) -> str | None:
    """A gin macro's value when it is set to a path (a string), else None."""
    try:
        value = gin.query_parameter(f"%{name}")
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def run_gin(mode: str, gin_files: list[str], gin_bindings: list[str]):
    """Runs `mode` ('train', 'eval' or 'infer') as configured; returns what the run returns.

    Gin files are looked up relative to the working directory, then the repository's `gin/` folder. The full
    configuration is written to MODEL_DIR/config.gin (eval_config.gin, infer_config.gin for the other modes, so
    they do not overwrite the training record) before the run and replaced by the operative configuration
    (every value the run actually used) once it finishes. A macro that no binding uses (`--gin.NOT_A_T5X_MACRO=3`)
    stops the run before any work (SystemExit naming it), and so do missing inputs that the configuration names
    (INITIAL_CHECKPOINT_PATH, VOCABULARY, RANKED_DIR, PREPARED_DIR; MODEL_DIR for eval and infer), all listed in
    one PreflightError.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {sorted(MODES)}, got {mode!r}")
    gin_config.parse_gin(gin_files, gin_bindings)
    model_dir = _model_dir()
    raise_problems(run_problems(
        mode=mode, model_dir=str(model_dir), initial_checkpoint=_path_macro("INITIAL_CHECKPOINT_PATH"),
        vocabulary=_path_macro("VOCABULARY"), ranked_dir=_path_macro("RANKED_DIR"),
        prepared_dir=_path_macro("PREPARED_DIR")))
    if "register_datasets" in gin.config_str():  # gin/tasks/register.gin: the datasets whose tasks the run reads
        import tasks

        gin.get_configurable(tasks.register_datasets)()
    model_dir.mkdir(parents=True, exist_ok=True)
    config_file = model_dir / CONFIG_FILES[mode]
    config_file.write_text(gin.config_str(), encoding="utf-8")
    result = gin.get_configurable(MODES[mode])()
    config_file.write_text(gin.operative_config_str(), encoding="utf-8")
    return result
