"""Checkpoints of a training run, bit-exact: a :class:`~explorer.training.Trainer` (or a
:class:`~explorer.compare.Comparison` of three) at a step boundary as JSON plus tensors.

``checkpoint`` splits a run into what a database can hold without pickle::

    meta, tensors = checkpoint(trainer, model=config, task_key="forecast", task_settings={})
    # meta: a JSON-able dict (configs, counters, status, the latest scores)
    # tensors: {name: torch.Tensor} (weights, optimiser state, the batch generator's state,
    #           the loss history as columns), ready for safetensors
    trainer = restore(meta, tensors)      # a new Trainer that goes on exactly as the old one

Training on from a restored trainer gives the same losses and weights, bit for bit, as a run
that was never interrupted (the tests check it for every optimiser and cell), because
everything the next step reads is kept: the model's ``state_dict``, the optimiser's
``state_dict`` tensors (Adam's ``exp_avg``, ``exp_avg_sq`` and ``step``, SGD's
``momentum_buffer``, RMSprop's ``square_avg``), the ``torch.Generator`` state that draws the
batches, the last weights with a finite loss (a divergence rolls back to them) and the
early-stopping counters. The task is rebuilt from its registry key and settings
(:func:`explorer.tasks.build_task`; a user's CSV series is stored with the run), the model from
its :class:`~explorer.config.CellConfig`.

Tensor names: ``model.<state_dict name>``, ``finite.<parameter>``, ``optim.<index>.<key>``,
``rng``, ``last_eval.<field>``, ``hidden_grads``, ``task.<setting>``; the columns that grow with
the run start with :data:`HISTORY` (``history/train_loss``, ``history/eval_steps`` …) so a
store can keep them apart from the weights and read a curve without them. A comparison
prefixes each trainer's names with its cell (``history/lstm/train_loss``, ``lstm/model.…``).

Not kept: timings' clock (``Trainer._clock``) and caches. ``elapsed`` and the diagnostics'
schedule (in seconds of training) are kept, so *when* the next hidden-gradient diagnostics are
taken follows the old run; as in an uninterrupted run, that depends on the clock and not the
weights or losses.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch

from .compare import Comparison
from .config import CellConfig
from .models import build_from_config
from .tasks import build_task
from .training import TrainConfig, Trainer

FORMAT = "rnn-explorer-run"
VERSION = 1
HISTORY = "history/"  # names of the tensors that grow with the run start with this
KINDS = ("train", "compare")


class CheckpointError(ValueError):
    """A checkpoint cannot be taken or restored; the message says what and why."""


# --------------------------------------------------------------------------- JSON values


def _json_float(x: float):
    """A float as strict JSON: non-finite ones as the strings "inf", "-inf", "nan"."""
    return x if math.isfinite(x) else str(x)


def _from_json_float(x) -> float:
    return float(x)  # float("inf") == inf; a number stays itself


def _split_value(name: str, value, arrays: dict[str, torch.Tensor]):
    """``value`` as JSON, or a marker ``{"$tensor": name}`` after putting it in ``arrays``."""
    if isinstance(value, (np.generic,)):
        value = value.item()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return {"$float": str(value)} if not math.isfinite(value) else value
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise CheckpointError(f"{name} holds Python objects; only numbers can be stored")
        arrays[name] = torch.from_numpy(np.array(value, copy=True, order="C"))
        return {"$tensor": name}
    if isinstance(value, torch.Tensor):
        arrays[name] = value.detach().cpu().clone().contiguous()
        return {"$tensor": name}
    if isinstance(value, pd.Index):
        return _split_index(name, value, arrays)
    if isinstance(value, (list, tuple)):
        return [_split_value(f"{name}.{i}", v, arrays) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        return {str(k): _split_value(f"{name}.{k}", v, arrays) for k, v in value.items()}
    raise CheckpointError(f"{name} is a {type(value).__name__}, which a checkpoint cannot store")


def _split_index(name: str, index: pd.Index, arrays: dict) -> dict:
    """A pandas index (a CSV's time stamps) as a tensor and a marker saying how to rebuild it."""
    label = None if index.name is None else str(index.name)
    if isinstance(index, pd.RangeIndex):
        return {"$index": "range", "range": [index.start, index.stop, index.step], "name": label}
    if isinstance(index, pd.DatetimeIndex):
        if index.tz is not None:
            raise CheckpointError(f"{name}: time stamps with a time zone are not supported")
        arrays[name] = torch.from_numpy(index.as_unit("ns").asi8.copy())
        return {"$index": "datetime", "$tensor": name, "name": label}
    values = index.to_numpy()
    if values.dtype.kind not in "iuf":
        raise CheckpointError(f"{name}: an index of {values.dtype} cannot be stored")
    arrays[name] = torch.from_numpy(np.array(values, copy=True, order="C"))
    return {"$index": "numeric", "$tensor": name, "name": label}


def _join_value(value, arrays: Mapping[str, torch.Tensor], numpy: bool = True):
    """The inverse of :func:`_split_value` (tensors come back as numpy arrays)."""
    if isinstance(value, list):
        return [_join_value(v, arrays, numpy) for v in value]
    if not isinstance(value, dict):
        return value
    if "$float" in value:
        return float(value["$float"])
    if "$index" in value:
        kind = value["$index"]
        if kind == "range":
            return pd.RangeIndex(*value["range"], name=value["name"])
        data = _tensor(arrays, value["$tensor"]).numpy()
        if kind == "datetime":
            return pd.DatetimeIndex(data.astype("datetime64[ns]"), name=value["name"])
        return pd.Index(data, name=value["name"])
    if "$tensor" in value:
        t = _tensor(arrays, value["$tensor"])
        return t.numpy() if numpy else t
    return {k: _join_value(v, arrays, numpy) for k, v in value.items()}


def _tensor(arrays: Mapping[str, torch.Tensor], name: str) -> torch.Tensor:
    try:
        return arrays[name]
    except KeyError:
        raise CheckpointError(f"the checkpoint has no tensor {name!r}") from None


# --------------------------------------------------------------------------- history columns


def _history_columns(records: list[dict], prefix: str, arrays: dict) -> dict:
    """The per-step records as one column per key, in ``arrays`` under ``prefix + key``.

    Lossless and compact: a float column whose values are all float32 numbers (a training
    loss from ``loss.item()``) is stored as float32, otherwise float64; an integer column
    that counts up by one (``step``) is stored as its first value only, other integers as
    int64; a key missing from some records (``val_loss``) keeps the rows that have it; a
    column of mixed types goes to the JSON as it is. Returns the JSON description.
    """
    gathered: dict[str, tuple[list[int], list]] = {}  # key -> (rows, values), one pass
    for i, r in enumerate(records):
        for key, value in r.items():
            rows_values = gathered.get(key)
            if rows_values is None:
                rows_values = gathered[key] = ([], [])
            rows_values[0].append(i)
            rows_values[1].append(value)
    columns = {}
    for key, (rows, values) in gathered.items():
        col: dict = {}
        if len(rows) != len(records):
            arrays[f"{prefix}{key}.rows"] = torch.tensor(rows, dtype=torch.int32)
            col["rows"] = f"{prefix}{key}.rows"
        kinds = set(map(type, values))
        if kinds == {int}:
            first = values[0]
            if values == list(range(first, first + len(values))):
                col["arange"] = first
            else:
                arrays[prefix + key] = torch.tensor(values, dtype=torch.int64)
        elif kinds == {float}:
            x = np.asarray(values, dtype=np.float64)  # (n,)
            with np.errstate(over="ignore"):  # a float64 beyond float32 is then not exact
                narrow = x.astype(np.float32)
            exact = np.array_equal(narrow.astype(np.float64), x, equal_nan=True)
            arrays[prefix + key] = torch.from_numpy(narrow if exact else x)
        else:  # mixed ints and floats, or anything else: kept as it is, in the JSON
            col["json"] = _split_value(prefix + key, values, arrays)
        columns[key] = col
    return {"n": len(records), "columns": columns}


def _history_records(spec: dict, prefix: str, arrays: Mapping[str, torch.Tensor]) -> list[dict]:
    n = spec["n"]
    records: list[dict] = [{} for _ in range(n)]
    for key, col in spec["columns"].items():
        rows = _tensor(arrays, col["rows"]).tolist() if "rows" in col else range(n)
        if "arange" in col:
            values = list(range(col["arange"], col["arange"] + len(rows)))
        elif "json" in col:
            values = _join_value(col["json"], arrays)
        else:
            values = _tensor(arrays, prefix + key).tolist()  # Python floats/ints, exact
        if len(values) != len(rows):
            raise CheckpointError(
                f"the history column {key!r} has {len(values)} values for {len(rows)} rows"
            )
        for i, v in zip(rows, values):
            records[i][key] = v
    return records


# --------------------------------------------------------------------------- one trainer


def _trainer_state(tr: Trainer, prefix: str, arrays: dict) -> dict:
    """Everything of ``tr`` that the next step reads or a page shows, as JSON + ``arrays``."""
    if tr._run_start is not None:
        raise CheckpointError(
            "the trainer is inside run(): checkpoint it between two slices "
            "of training, at a step boundary"
        )
    hist = HISTORY + prefix
    for name, t in tr.model.state_dict().items():
        arrays[f"{prefix}model.{name}"] = t.detach().cpu().clone().contiguous()
    for name, t in zip(tr._names, tr._finite):
        arrays[f"{prefix}finite.{name}"] = t.detach().cpu().clone().contiguous()
    arrays[f"{prefix}rng"] = tr.generator.get_state()
    opt = tr.optimizer.state_dict()
    other: dict = {}
    for index, state in opt["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                arrays[f"{prefix}optim.{index}.{key}"] = value.detach().cpu().clone().contiguous()
            else:
                other.setdefault(str(index), {})[key] = _split_value(
                    f"{prefix}optim.{index}.{key}", value, arrays
                )
    groups = [
        {k: _split_value(f"{prefix}optim.group.{k}", v, arrays) for k, v in g.items()}
        for g in opt["param_groups"]
    ]
    if tr.hidden_grad_history:
        shapes = {h.shape for h in tr.hidden_grad_history}
        if len(shapes) == 1:
            arrays[hist + "hidden_grad_history"] = torch.from_numpy(
                np.stack(tr.hidden_grad_history)
            )  # (n, W) float32
        else:
            for i, h in enumerate(tr.hidden_grad_history):
                arrays[f"{hist}hidden_grad_history.{i}"] = torch.from_numpy(np.array(h))
    grad_norms = np.array([tr.grad_norms[n] for n in tr._names], dtype=np.float64).T
    narrow = grad_norms.astype(np.float32)  # (evaluations, tensors): float32 numbers, exactly
    exact = np.array_equal(narrow.astype(np.float64), grad_norms, equal_nan=True)
    arrays[hist + "grad_norms"] = torch.from_numpy(
        np.ascontiguousarray(narrow if exact else grad_norms)
    )
    arrays[hist + "eval_steps"] = torch.tensor(tr.eval_steps, dtype=torch.int64)
    arrays[hist + "hidden_grad_steps"] = torch.tensor(tr.hidden_grad_steps, dtype=torch.int64)
    return {
        "step": tr.step,
        "status": tr.status,
        "message": tr.message,
        "best_val": _json_float(tr.best_val),
        "stale": tr._stale,
        "elapsed": tr.elapsed,
        "diagnostics_seconds": tr.diagnostics_seconds,
        "diag_end": _json_float(tr._diag_end),
        "diag_cost": _json_float(tr._diag_cost),
        "parameters": list(tr._names),
        "optimizer": {"param_groups": groups, "state": other},
        "history": _history_columns(tr.history, hist, arrays),
        "hidden_grad_history": (
            "stacked"
            if len({h.shape for h in tr.hidden_grad_history}) <= 1
            else len(tr.hidden_grad_history)
        ),
        "hidden_grads": _split_value(f"{prefix}hidden_grads", tr.hidden_grads, arrays),
        "last_eval": _split_value(
            f"{prefix}last_eval", None if tr.last_eval is None else tr.last_eval.as_dict(), arrays
        ),
        "train": dataclasses.asdict(tr.config),
    }


def _evaluation(task, values: dict | None):
    """The task's typed evaluation from its stored fields (a checkpoint stores an evaluation as
    ``{field: value}``, the keys the untyped dicts of older runs had too), or None."""
    if values is None:
        return None
    try:
        return task.evaluation_type.from_dict(values)
    except ValueError as err:
        raise CheckpointError(f"the run's last evaluation cannot be read: {err}") from None


def _load_trainer_state(
    tr: Trainer, state: dict, prefix: str, arrays: Mapping[str, torch.Tensor]
) -> None:
    """Put a state from :func:`_trainer_state` into a freshly built ``tr`` (same model config,
    task and TrainConfig)."""
    hist = HISTORY + prefix
    if list(tr._names) != state["parameters"]:
        raise CheckpointError(
            f"the checkpoint's parameters {state['parameters']} are not those "
            f"of the model it describes {list(tr._names)}"
        )
    weights = {
        name[len(prefix) + 6 :]: t
        for name, t in arrays.items()
        if name.startswith(prefix + "model.")
    }
    try:
        tr.model.load_state_dict(weights, strict=True)
    except RuntimeError as err:
        raise CheckpointError(f"the checkpoint's weights do not fit the model: {err}") from None
    with torch.no_grad():
        for name, t in zip(tr._names, tr._finite):
            t.copy_(_tensor(arrays, f"{prefix}finite.{name}"))
    tr.generator.set_state(_tensor(arrays, f"{prefix}rng").clone())
    fresh = tr.optimizer.state_dict()
    opt_state: dict = {}
    for name, t in arrays.items():
        if name.startswith(prefix + "optim.") and not name.startswith(prefix + "optim.group."):
            index, key = name[len(prefix) + 6 :].split(".", 1)
            opt_state.setdefault(int(index), {})[key] = t.clone()
    for index, extra in state["optimizer"]["state"].items():
        for key, value in extra.items():
            opt_state.setdefault(int(index), {})[key] = _join_value(value, arrays, numpy=False)
    groups = []
    for saved, new in zip(state["optimizer"]["param_groups"], fresh["param_groups"]):
        group = dict(new)
        for key, value in saved.items():
            if key in group and key != "params":
                value = _join_value(value, arrays, numpy=False)
                group[key] = tuple(value) if isinstance(group[key], tuple) else value
        groups.append(group)
    try:
        tr.optimizer.load_state_dict({"state": opt_state, "param_groups": groups})
    except (ValueError, KeyError, RuntimeError) as err:
        raise CheckpointError(f"the checkpoint's optimiser state does not fit: {err}") from None
    tr.step = state["step"]
    tr.status = state["status"]
    tr.message = state["message"]
    tr.best_val = _from_json_float(state["best_val"])
    tr._stale = state["stale"]
    tr.elapsed = state["elapsed"]
    tr.diagnostics_seconds = state["diagnostics_seconds"]
    tr._diag_end = _from_json_float(state["diag_end"])
    tr._diag_cost = _from_json_float(state["diag_cost"])
    tr.history = _history_records(state["history"], hist, arrays)
    tr.eval_steps = _tensor(arrays, hist + "eval_steps").tolist()
    tr.hidden_grad_steps = _tensor(arrays, hist + "hidden_grad_steps").tolist()
    norms = _tensor(arrays, hist + "grad_norms").numpy()  # (evaluations, tensors)
    tr.grad_norms = {
        name: norms[:, i].tolist() if len(norms) else [] for i, name in enumerate(tr._names)
    }
    if state["hidden_grad_history"] == "stacked":
        stacked = arrays.get(hist + "hidden_grad_history")
        tr.hidden_grad_history = [] if stacked is None else list(stacked.numpy().copy())
    else:
        tr.hidden_grad_history = [
            _tensor(arrays, f"{hist}hidden_grad_history.{i}").numpy()
            for i in range(state["hidden_grad_history"])
        ]
    tr.hidden_grads = _join_value(state["hidden_grads"], arrays)
    tr.last_eval = _evaluation(tr.task, _join_value(state["last_eval"], arrays))
    if len(tr.history) != tr.step:
        raise CheckpointError(
            f"the checkpoint is at step {tr.step} but holds {len(tr.history)} steps of history"
        )


# --------------------------------------------------------------------------- public


def _task_config(task_key: str, task_settings: Mapping, arrays: dict) -> dict:
    return {
        "key": task_key,
        "settings": {
            name: _split_value(f"task.{name}", value, arrays)
            for name, value in task_settings.items()
        },
    }


def task_settings(meta: dict, tensors: Mapping[str, torch.Tensor]) -> tuple[str, dict]:
    """``(task key, settings)`` of a checkpoint, as :func:`checkpoint` was given them (arrays
    as numpy arrays, time stamps as a pandas index): what a page's task widgets showed."""
    config = meta["config"]["task"]
    return config["key"], {name: _join_value(v, tensors) for name, v in config["settings"].items()}


def _build_task(config: dict, arrays: Mapping[str, torch.Tensor]):
    settings = {name: _join_value(v, arrays) for name, v in config["settings"].items()}
    try:
        return build_task(config["key"], **settings)
    except ValueError as err:
        raise CheckpointError(f"the run's task cannot be rebuilt: {err}") from None


def checkpoint(
    run: Trainer | Comparison,
    *,
    task_key: str,
    task_settings: Mapping,
    model: CellConfig | None = None,
) -> tuple[dict, dict[str, torch.Tensor]]:
    """Take a checkpoint of ``run`` between two slices of training.

    Args:
        run: a :class:`~explorer.training.Trainer` (kind ``"train"``) or a
            :class:`~explorer.compare.Comparison` (kind ``"compare"``).
        task_key, task_settings: what :func:`explorer.tasks.build_task` built ``run``'s task
            from (the page's ``task_controls()``); arrays (a CSV's ``values``) and a pandas
            index (its time stamps) are stored as tensors, the rest must be JSON-able.
        model: the trainer's :class:`~explorer.config.CellConfig` (kind ``"train"`` only).

    Returns:
        ``(meta, tensors)``: ``meta`` a JSON-able dict with ``format``, ``version``, ``kind``,
        ``status``, ``step``, ``config`` (``model``/``configs``, ``train``, ``task``) and the
        trainer state(s); ``tensors`` ``{name: CPU tensor}``, contiguous, none sharing memory
        (safetensors' rule), history columns under :data:`HISTORY`.

    Raises:
        CheckpointError: a trainer is inside ``run()``, or a setting cannot be stored.
    """
    arrays: dict[str, torch.Tensor] = {}
    task = _task_config(task_key, task_settings, arrays)
    if isinstance(run, Trainer):
        if model is None:
            raise CheckpointError("a Train checkpoint needs the model's CellConfig")
        state = _trainer_state(run, "", arrays)
        meta = {
            "kind": "train",
            "status": run.status,
            "step": run.step,
            "config": {"model": model.as_dict(), "train": state.pop("train"), "task": task},
            "trainer": state,
        }
    elif isinstance(run, Comparison):
        trainers = {
            cell: _trainer_state(tr, f"{cell}/", arrays) for cell, tr in run.trainers.items()
        }
        for state in trainers.values():
            state.pop("train")
        meta = {
            "kind": "compare",
            "status": run.status,
            "step": run.step,
            "config": {
                "configs": {c: cfg.as_dict() for c, cfg in run.configs.items()},
                "train": dataclasses.asdict(run.train),
                "task": task,
            },
            "comparison_status": run._status,
            "trainers": trainers,
        }
    else:
        raise CheckpointError(f"expected a Trainer or a Comparison, got {type(run).__name__}")
    return {"format": FORMAT, "version": VERSION} | meta, arrays


def restore(
    meta: dict, tensors: Mapping[str, torch.Tensor], task=None, *, pause: bool = True
) -> Trainer | Comparison:
    """A new Trainer (or Comparison) in the state :func:`checkpoint` saw.

    Args:
        meta, tensors: as :func:`checkpoint` returned them (after a trip through a store).
        task: the task to train on, if the caller has it already; None rebuilds it from the
            checkpoint's task key and settings.
        pause: a run that was ``"running"`` comes back ``"paused"`` (its session ended; the
            page says so by reading ``meta["status"]``).

    Raises:
        CheckpointError: the meta is not a checkpoint of this format or version, the task or
            model cannot be rebuilt, or the tensors do not fit it.
    """
    if not isinstance(meta, Mapping) or meta.get("format") != FORMAT:
        raise CheckpointError("this is not an RNN Explorer run checkpoint")
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"the checkpoint is version {meta.get('version')!r}; this app reads version {VERSION}"
        )
    cfg = meta["config"]
    try:
        train = TrainConfig(**cfg["train"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"the run's training settings are not valid: {err}") from None
    if task is None:
        task = _build_task(cfg["task"], tensors)
    try:
        if meta["kind"] == "train":
            run = Trainer(build_from_config(CellConfig(**cfg["model"])), task, train)
            _load_trainer_state(run, meta["trainer"], "", tensors)
        elif meta["kind"] == "compare":
            configs = {c: CellConfig(**d) for c, d in cfg["configs"].items()}
            run = Comparison(task, next(iter(configs.values())), train, tuple(configs))
            if run.configs != configs:
                raise CheckpointError("the comparison's models cannot be rebuilt as stored")
            for cell, tr in run.trainers.items():
                _load_trainer_state(tr, meta["trainers"][cell], f"{cell}/", tensors)
            run._status = meta["comparison_status"]
        else:
            raise CheckpointError(f"unknown run kind {meta['kind']!r}")
    except (TypeError, KeyError) as err:
        raise CheckpointError(f"the checkpoint is incomplete or malformed: {err!r}") from None
    if pause and run.status == "running":
        run.status = "paused"
    return run


def task_of(meta: dict, tensors: Mapping[str, torch.Tensor]):
    """The task a checkpoint trains on, rebuilt (see :func:`restore`)."""
    return _build_task(meta["config"]["task"], tensors)
