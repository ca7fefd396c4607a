"""SeqIO tasks and mixtures for every experiment row of the paper (the T5X MIXTURE_OR_TASK_MODULE).

Importing `tasks` registers the datasets listed in the environment variable PERSONALIZE_DATASETS (a JSON list
of `register_dataset` keyword arguments: name, ranked_dir, vocabulary, and optionally additions, prepared_dir,
...); none by default. `register_dataset` / `register_datasets` (bindable from gin) can be called any number
of times. Task names: `task_name(dataset=..., row=...)`, e.g. personalize_demo_sumctx_v1.
"""

from __future__ import annotations

import json
import os

from tasks.registration import (AUTHOR_DISTINCTION, register_dataset, register_datasets, task_name,
                                unregister_dataset)

ENVIRONMENT_VARIABLE = "PERSONALIZE_DATASETS"


def register_from_environment() -> list[str]:
    value = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if not value:
        return []
    try:
        datasets = json.loads(value)
    except json.JSONDecodeError as error:
        raise ValueError(f"${ENVIRONMENT_VARIABLE} is not valid JSON ({error.msg})") from None
    if not isinstance(datasets, list):
        raise ValueError(f"${ENVIRONMENT_VARIABLE} must be a JSON list of dataset entries")
    return register_datasets(datasets=datasets)


register_from_environment()

__all__ = ["AUTHOR_DISTINCTION", "register_dataset", "register_datasets", "register_from_environment", "task_name",
           "unregister_dataset"]
