"""A grouped bar plot of the context-quality rows (recall and precision side by side), written as PNG.

Uses `matplotlib.figure.Figure` directly, not pyplot, so no global backend or figure state is touched.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib.figure import Figure


def bar_plot(*, rows: Sequence[dict[str, Any]], columns: Sequence[str], labels: Sequence[str], title: str,
             path: str) -> None:
    names = [row["context"] for row in rows]
    positions = np.arange(len(names))
    width = 0.8 / len(columns)
    figure = Figure(figsize=(max(8.0, 1.4 * len(names)), 4.5))
    axes = figure.subplots()
    for index, (column, label) in enumerate(zip(columns, labels)):
        axes.bar(positions + (index - (len(columns) - 1) / 2) * width, [row[column] for row in rows], width,
                 label=label)
    axes.set_xticks(positions, names, rotation=20, ha="right")
    axes.set_ylabel("%")
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=7, ncols=3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
