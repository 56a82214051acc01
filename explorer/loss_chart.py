"""The live loss chart of the Train and Compare pages: a Vega-Lite spec and its rows.

Vega-Lite, not Plotly (whose figures are in :mod:`explorer.charts`), for this one chart: it is
redrawn twice a second while training runs, and Streamlit remounts a Plotly chart whenever its
figure changes (its element id hashes the figure), so the chart went blank for a moment at about
every other redraw in our browser checks; a Vega-Lite chart whose spec stays the same gets its
new rows in place. :func:`loss_curves` is the entry point; the functions below it build the
rows (:func:`_rows`, :func:`_table`), the axes and the layers of one model or of several.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

MAX_CURVE_POINTS = 2000  # a live chart redrawn twice a second stays cheap to send
CELL_COLOURS = {"rnn": "#1f77b4", "lstm": "#ff7f0e", "gru": "#2ca02c"}  # one colour per cell
DASHES = ((6, 4), (2, 3), (8, 3, 2, 3), (1, 1))  # one per reference or extra curve
EXTRA_COLOURS = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2")
REFERENCE_GREYS = ("#333333", "#777777", "#333333", "#777777")
TRAIN_COLOUR, VALIDATION_COLOUR = "#1f77b4", "#d62728"  # one model's two curves

Sizer = Callable[[float], int]  # a size in points, scaled for presenter mode


def loss_curves(
    histories: dict[str, list[dict]],
    *,
    labels: dict[str, str] | None = None,
    references: tuple[tuple[str, float], ...] = (),
    extra: tuple[tuple[str, list[float]], ...] = (),
    log_y: bool = True,
    y_title: str = "loss",
    title: str = "Loss",
    height: int = 380,
    max_points: int = MAX_CURVE_POINTS,
    scale: float = 1.0,
) -> tuple[pd.DataFrame, dict]:
    """The live loss chart of the Train page (one model) and the Compare page (RNN vs LSTM vs
    GRU, overlaid), in ``y_title``'s unit against the optimiser step.

    ``histories``: ``{key: Trainer.history}`` (rows with ``step``, ``train_loss`` and, at
    evaluations, ``val_loss``); ``labels``: each key's name in the legend (default the key).
    One history: its training loss (one batch per step) in blue and its validation loss (one
    point per evaluation) in red. Several: each in its colour (``CELL_COLOURS`` for the keys
    "rnn", "lstm", "gru"), training thin and faded, validation bold. ``references``:
    ``(label, value)`` black horizontal lines, dashed then dotted (rules that need no training;
    non-finite values left out). ``extra``: ``(label, losses)`` further curves with one loss per
    step from step 1 (the tutorial's own loops), coloured and dashed. Above ``max_points`` steps
    a curve (training or validation) keeps every k-th point and the last.
    ``scale``: font and height factor (presenter mode). On a log axis, losses <= 0 are left out.

    Returns ``(data, spec)`` for ``st.vega_lite_chart(data, spec)``: a ``pandas.DataFrame`` in
    long form (``step``, ``loss``, ``cell``, ``curve``, ``kind`` = "train", "validation",
    "extra" or "reference") and a Vega-Lite spec that depends on the data only through whether
    the losses span a decade (the log axis's labels), so it changes at most a few times in a
    run (see the module docstring for why Vega-Lite).
    """
    labels = {c: (labels or {}).get(c, c) for c in histories}
    refs = [
        (label, value) for label, value in references if value is not None and np.isfinite(value)
    ]
    data = _table(_rows(histories, labels, extra, refs, max_points), log_y)

    def size(points: float) -> int:
        return round(points * scale)

    axis = _axis_style(size)
    x, y = _x_encoding(axis), _y_encoding(data, y_title, log_y, axis)
    tooltip = [
        {"field": "cell"},
        {"field": "curve"},
        {"field": "step"},
        {"field": "loss", "format": ".4g"},
    ]
    extra_names, ref_names = [label for label, _ in extra], [label for label, _ in refs]
    one = len(histories) == 1
    if one:
        names = ["train (batch)", "validation", *extra_names, *ref_names]
        # one model: the legend names the curves, so the tooltip need not name the cell
        axes = {"x": x, "y": y, "tooltip": tooltip[1:]}
        layers = _one_model_layers(names, len(extra_names), len(ref_names), axes, size)
        resolve, legend_rows = {}, len(names)
    else:
        axes = {"x": x, "y": y, "tooltip": tooltip}
        layers = _several_models_layers(labels, extra_names, ref_names, axes, size)
        resolve, legend_rows = _independent_legends(), 0
    # Streamlit fits legends and axes into the height: one model's legend rows get their own
    return data, _spec(title, one, size(height + 20 * legend_rows), layers, resolve, size)


# --------------------------------------------------------------------------- the rows


def _thinned(points: list, max_points: int) -> list:
    """At most ``max_points`` of ``points`` (every k-th), the last one always kept."""
    stride = max(1, -(-len(points) // max_points))
    return points[::stride] + ([points[-1]] if (len(points) - 1) % stride else [])


def _rows(
    histories: dict[str, list[dict]],
    labels: dict[str, str],
    extra: tuple[tuple[str, list[float]], ...],
    refs: list[tuple[str, float]],
    max_points: int,
) -> list[tuple]:
    """``(step, loss, cell, curve, kind)`` rows: each history's training and validation losses
    (thinned), the extra curves, and each reference as a line from step 0 to the last step."""
    rows, last = [], 1
    for key, history in histories.items():
        rows += [
            (r["step"], r["train_loss"], labels[key], "train (batch)", "train")
            for r in _thinned(history, max_points)
        ]
        rows += [
            (r["step"], r["val_loss"], labels[key], "validation", "validation")
            for r in _thinned([r for r in history if "val_loss" in r], max_points)
        ]
        last = max(last, history[-1]["step"] if history else 1)
    for label, losses in extra:
        rows += [(step, loss, "", label, "extra") for step, loss in enumerate(losses, 1)]
        last = max(last, len(losses))
    for label, value in refs:
        rows += [(0, value, "", label, "reference"), (last, value, "", label, "reference")]
    return rows


def _table(rows: list[tuple], log_y: bool) -> pd.DataFrame:
    """The rows as typed columns, built at once (typed even with no rows yet, before Start); the
    few labels repeated on every row as categories, which convert to Arrow quickly. Non-finite
    losses are left out, and losses <= 0 on a log axis."""
    steps, losses, cells, curves, kinds = zip(*rows) if rows else ((),) * 5
    loss = np.asarray(losses, dtype=np.float64)
    data = pd.DataFrame(
        {
            "step": np.asarray(steps, dtype=np.int64),
            "loss": loss,
            "cell": pd.Categorical(cells),
            "curve": pd.Categorical(curves),
            "kind": pd.Categorical(kinds),
        }
    )
    return data[np.isfinite(loss) & ((loss > 0) | (not log_y))]


# --------------------------------------------------------------------------- axes and legends


def _axis_style(size: Sizer) -> dict:
    """Sizes on the axes themselves: Streamlit's chart theme overrides ``config``."""
    return {"labelFontSize": size(14), "titleFontSize": size(15), "titleFontWeight": "normal"}


def _legend_style(size: Sizer) -> dict:
    """Legends under the plot, in rows: the plot keeps the full width on a 1024-px projector."""
    return {
        "orient": "bottom",
        "direction": "horizontal",
        "labelFontSize": size(14),
        "titleFontSize": size(14),
        "labelLimit": 0,
        "columnPadding": 16,
    }  # 0: never cut


def _x_encoding(axis: dict) -> dict:
    """The optimiser step, in whole numbers from 0."""
    return {
        "field": "step",
        "type": "quantitative",
        "title": "optimiser step",
        "scale": {"nice": False, "domainMin": 0},
        "axis": axis | {"format": "d", "tickMinStep": 1, "tickCount": 8},
    }


def _y_encoding(data: pd.DataFrame, y_title: str, log_y: bool, axis: dict) -> dict:
    """The loss, on a log or linear axis. Over a decade or more: labels at 1, 2 and 5 times a
    power of ten only (log paper's other lines stay unlabelled); within one, Vega's own ticks
    are already round numbers (2.2, 2.4)."""
    positive = data["loss"][data["loss"] > 0]
    decades = bool(len(positive)) and positive.max() >= 10 * positive.min()
    return {
        "field": "loss",
        "type": "quantitative",
        "title": y_title,
        "axis": axis
        | (
            {
                # plain numbers down to 0.001, then 1e-4, 2e-5 ... (never 0.000001)
                "labelExpr": "!test(/^[125]e/, format(datum.value, '.0e')) ? '' "
                ": datum.value >= 0.001 ? format(datum.value, '~g') : format(datum.value, '.0e')"
            }
            if log_y and decades
            else {}
        ),
        "scale": {"type": "log", "nice": False} if log_y else {"zero": False},
    }


def _dashes(n: int) -> list[list[int]]:
    """The first ``n`` dash patterns."""
    return [list(d) for d in DASHES[:n]]


def _layer(axes: dict, kind: str, mark: dict, **encoding) -> dict:
    """One layer: the rows of one ``kind``, drawn with ``mark``, clipped to the plot; ``axes``
    holds the encodings every layer shares (``x``, ``y``, ``tooltip``)."""
    return {
        "transform": [{"filter": f"datum.kind === '{kind}'"}],
        "mark": mark | {"clip": True},
        "encoding": axes | encoding,
    }


# --------------------------------------------------------------------------- one model


def _one_model_layers(
    names: list[str], n_extra: int, n_refs: int, axes: dict, size: Sizer
) -> list[dict]:
    """One model: every line is a curve of its own, named once in one legend (colour and dash
    on the same field and domain merge into one); ``names`` are the curves in legend order."""
    by_curve = _curve_legend(size)
    colours = [TRAIN_COLOUR, VALIDATION_COLOUR, *EXTRA_COLOURS[:n_extra], *REFERENCE_GREYS[:n_refs]]
    dashes = [[1, 0], [1, 0], *_dashes(n_extra), *_dashes(n_refs)]
    styled = dict(
        color=by_curve | {"scale": {"domain": names, "range": colours}},
        strokeDash=by_curve | {"scale": {"domain": names, "range": dashes}},
    )
    marks = {
        "train": {"type": "line", "strokeWidth": 1.5, "opacity": 0.9},
        "validation": {
            "type": "line",
            "strokeWidth": 2.5,
            "point": {"size": size(18), "filled": True},
        },
        "extra": {"type": "line", "strokeWidth": 2.5},
        "reference": {"type": "line", "strokeWidth": 1.5},
    }
    kinds = [
        "train",
        "validation",
        *(["extra"] if n_extra else []),
        *(["reference"] if n_refs else []),
    ]
    return [_layer(axes, kind, marks[kind], **styled) for kind in kinds]


def _curve_legend(size: Sizer) -> dict:
    """One model's legend: a curve per row, named once for colour and dash."""
    return {
        "field": "curve",
        "type": "nominal",
        "title": None,
        # one entry a row: the Train page's half-width column can be 320 px on a projector
        "legend": _legend_style(size)
        | {
            "orient": "top",
            "symbolType": "stroke",
            "symbolSize": 400,
            "symbolStrokeWidth": 2.5,
            "direction": "vertical",
            "columns": 1,
        },
    }


# --------------------------------------------------------------------------- several models


def _several_models_layers(
    labels: dict[str, str],
    extra_names: list[str],
    ref_names: list[str],
    axes: dict,
    size: Sizer,
) -> list[dict]:
    """Several models: the colour tells them apart (one legend, the validation layer's; the
    faded training layer shares its domain), a dash each rule that needs no training."""
    colour = {
        "field": "cell",
        "type": "nominal",
        "title": "cell",
        "scale": {
            "domain": list(labels.values()),
            "range": [CELL_COLOURS.get(c, "#555555") for c in labels],
        },
        "legend": _legend_style(size) | {"symbolStrokeWidth": 3},
    }
    layers = [
        _layer(
            axes,
            "train",
            {"type": "line", "strokeWidth": 1, "opacity": 0.35},
            color=colour | {"legend": None},
            detail={"field": "cell"},
        ),
        _layer(
            axes,
            "validation",
            {"type": "line", "strokeWidth": 3, "point": {"size": size(18), "filled": True}},
            color=colour,
            detail={"field": "cell"},
        ),
    ]
    if extra_names:
        layers.append(_extra_layer(extra_names, axes, size))
    if ref_names:
        layers.append(
            _layer(
                axes,
                "reference",
                {"type": "line", "strokeWidth": 1.5, "color": "#333333"},
                strokeDash=_dashed(ref_names, "no training", size),
            )
        )
    return layers


def _extra_layer(extra_names: list[str], axes: dict, size: Sizer) -> dict:
    """The extra curves beside several models: a colour and a dash each, one legend."""
    return _layer(
        axes,
        "extra",
        {"type": "line", "strokeWidth": 2.5},
        color={
            "field": "curve",
            "type": "nominal",
            "legend": None,
            "scale": {"domain": extra_names, "range": list(EXTRA_COLOURS[: len(extra_names)])},
        },
        strokeDash=_dashed(extra_names, "for comparison", size),
    )


def _dashed(domain: list[str], title: str, size: Sizer) -> dict:
    """A dash per curve of ``domain``, in a legend of its own titled ``title``."""
    return {
        "field": "curve",
        "type": "nominal",
        "title": title,
        "scale": {"domain": domain, "range": _dashes(len(domain))},
        "legend": _legend_style(size)
        | {
            "symbolType": "stroke",
            "symbolSize": 500,
            "symbolStrokeWidth": 2,
            "direction": "vertical",
            "columns": 1,
        },
    }


def _independent_legends() -> dict:
    """Colour and dash scales (and legends) of the layers kept apart."""
    return {
        "resolve": {
            "scale": {"color": "independent", "strokeDash": "independent"},
            "legend": {"color": "independent", "strokeDash": "independent"},
        }
    }


# --------------------------------------------------------------------------- the spec


def _spec(title: str, one: bool, height: int, layers: list, resolve: dict, size: Sizer) -> dict:
    """The whole spec: title (with a subtitle for several models), height, padding, layers."""
    subtitle = {
        "subtitle": "thin: each training batch · bold: validation",
        "subtitleFontSize": size(14),
    }
    return {
        "title": {"text": title, "fontSize": size(17), "anchor": "start"}
        | ({} if one else subtitle),
        "height": height,
        # room for the title's ascent and the rotated y-axis title (in presenter mode they
        # were drawn a few pixels outside the SVG and cut)
        "padding": {"top": size(8), "left": size(8), "right": 4, "bottom": 4},
        "layer": layers,
        **resolve,
    }
