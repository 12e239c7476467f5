"""Tables for the terminal, sized to fit it: rich tables whose wide cells fold or shorten
instead of wrapping every cell (piped output gets 80 columns, as rich's default)."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text


def console() -> Console:
    """The console commands print to: the terminal's width, or 80 columns when piped."""
    return Console(highlight=False)


def compact_table(*, title: str | None = None, gap: int = 2) -> Table:
    """A table with a rule under its header and no borders: `gap` spaces between columns."""
    return Table(
        title=title,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, gap - 1, 0, 0),
        title_justify="left",
        min_width=len(title or ""),  # a title never wraps
    )


def metrics_table(metrics: dict) -> Table:
    """Test accuracy and loss in the title, one row per class, the macro average last."""
    table = compact_table(
        title=(
            f"Test accuracy {metrics['test_accuracy']:.2%}   loss {metrics['test_loss']:.4f}   "
            f"({metrics['num_test']} images)"
        )
    )
    table.add_column("class", overflow="fold")
    for column in ("precision", "recall", "F1", "support"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in metrics["per_class"]:
        table.add_row(
            row["class"],
            f"{row['precision']:.3f}",
            f"{row['recall']:.3f}",
            f"{row['f1']:.3f}",
            str(row["support"]),
        )
    macro = metrics["macro_avg"]
    table.add_section()
    table.add_row(
        "macro avg",
        f"{macro['precision']:.3f}",
        f"{macro['recall']:.3f}",
        f"{macro['f1']:.3f}",
        str(metrics["num_test"]),
    )
    return table


def calibration_table(temperature: float, scores: dict) -> Table:
    """Temperature in the title; per set of images, its ECE and NLL raw -> calibrated."""
    table = compact_table(title=f"Calibration: temperature T = {temperature:.3f}")
    table.add_column("images", no_wrap=True)
    for header in ("accuracy", "ECE raw", "calibrated", "NLL raw", "calibrated"):
        table.add_column(header, justify="right", no_wrap=True)
    for name, pair in scores.items():
        raw, calibrated = pair["raw"], pair["calibrated"]
        table.add_row(
            name,
            f"{raw['accuracy']:.2%}",
            f"{raw['ece']:.2%}",
            f"{calibrated['ece']:.2%}",
            f"{raw['nll']:.4f}",
            f"{calibrated['nll']:.4f}",
        )
    return table


def runs_table(rows: list[dict], title: str) -> Table:
    """`fashion-mlp runs`: one line per run, a sweep's trials under their sweep; the name (which
    holds the date) and the status never shorten, the architecture does first."""
    table = compact_table(title=title, gap=1)  # six columns in 80: one space apart
    lines = []
    for sweep, members in grouped_by_sweep(rows):
        if sweep:
            lines.append([Text(f"sweep {sweep}", style="bold"), f"{len(members)} trials"])
        lines += [run_cells(row, "  " if sweep else "") for row in members]
    widest_name = max((len(line[0]) for line in lines), default=4)
    table.add_column("name", no_wrap=True, min_width=widest_name)
    table.add_column("architecture")  # wrappable: the one column narrowed (its cells are not)
    for header in ("epochs", "test acc", "train s"):
        table.add_column(header, justify="right", no_wrap=True, min_width=len(header))
    widest_status = max((len(row["status"]) for row in rows), default=6)
    table.add_column("status", no_wrap=True, min_width=widest_status)
    for line in lines:
        table.add_row(*line)
    return table


def grouped_by_sweep(rows: list[dict]) -> list[tuple[str | None, list[dict]]]:
    """The rows in order, each sweep's trials gathered where its first trial is listed."""
    groups: dict[str | None, list[dict]] = {}
    order: list[tuple[str | None, list[dict]]] = []
    for row in rows:
        sweep = row.get("sweep")
        if sweep is None:
            order.append((None, [row]))
        elif sweep not in groups:
            groups[sweep] = [row]
            order.append((sweep, groups[sweep]))
        else:
            groups[sweep].append(row)
    return order


def run_cells(row: dict, indent: str) -> list:
    """A run's cells: epochs done of those planned while it is not finished, "—" when unknown
    for a reason (the row's note)."""
    epochs = cell(row["epochs"], "")
    if row.get("epochs_planned") is not None:
        epochs = f"{row['epochs']}/{row['epochs_planned']}"
    unknown = "—" if row.get("note") else ""
    return [
        indent + row["name"],
        Text(row["architecture"], no_wrap=True, overflow="ellipsis"),
        epochs or unknown,
        cell(row["test_accuracy"], ".2%"),
        cell(row["train_seconds"], ".1f") or unknown,
        row["status"],
    ]


def cell(value, spec: str) -> str:
    """value formatted with `spec`, or an empty cell when it is unknown."""
    return "" if value is None else format(value, spec)
