"""The benchmark tasks whose files this package writes, and how our example ids map to theirs.

LaMP questions carry an id; the LaMP loader (`personalize.corpus.loaders.lamp`) turns question Q of task T into user
`T/Q` whose current document is `T/Q/output`, so our example id `T/Q/output` is exported as `Q`. LongLaMP records carry
no id at all, so their exported id is our example id itself (`<user>/<text hash>`, from the LongLaMP loader): golds and
predictions must then both come from our files, which `personalize export --golds_output` writes together.
"""

from __future__ import annotations

from typing import Mapping

# task name as written in the files -> what a user writes there
TASKS: Mapping[str, str] = {
    "LaMP_4": "news headline generation",
    "LaMP_5": "scholarly title generation",
    "LaMP_6": "email subject generation",
    "LaMP_7": "tweet paraphrasing",
    "LongLaMP_1": "personalized email completion",
    "LongLaMP_2": "personalized abstract generation",
    "LongLaMP_3": "personalized review writing",
    "LongLaMP_4": "personalized topic writing",
}

_LAMP_SUFFIX = "/output"


def check_task(task: str) -> str:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    return task


def benchmark_id(*, example_id: str, task: str) -> str:
    """The id a benchmark file uses for one of our examples (see the module docstring)."""
    check_task(task)
    if task.startswith("LongLaMP_"):
        return example_id
    prefix = f"{task}/"
    if not (example_id.startswith(prefix) and example_id.endswith(_LAMP_SUFFIX)) or len(example_id) <= len(
        prefix
    ) + len(_LAMP_SUFFIX):
        raise ValueError(
            f"example {example_id!r} is not a {task} question: expected '{task}/<question id>/output', "
            "the example id the LaMP loader gives (was the dataset prepared with --format lamp?)"
        )
    return example_id[len(prefix) : -len(_LAMP_SUFFIX)]
