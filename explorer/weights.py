"""Hand trained weights over as one file: safetensors tensors with the model's config inside.

A file is the model's ``state_dict`` in the safetensors format (raw little-endian tensors after
a JSON header; no code, so loading one never unpickles anything) with the
:class:`~explorer.config.CellConfig` as JSON in the header's ``__metadata__``::

    data = save_weights(model, config)      # bytes, e.g. for st.download_button
    model, config = load_weights(data)      # a fresh SequenceModel with those weights

Everything a file says is checked before it is used: the config must build a model within the
app's limits, and the tensors must be exactly that model's, name for name and shape for shape.
"""

from __future__ import annotations

import json
from dataclasses import fields

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

from .config import CellConfig
from .models import SequenceModel, build_from_config

FORMAT = "rnn-explorer-weights"
VERSION = "1"


def save_weights(model: SequenceModel, config: CellConfig) -> bytes:
    """The bytes of a safetensors file holding ``model``'s parameters and ``config``.

    Raises:
        ValueError: ``model`` is not the model ``config`` describes (other names or shapes).
    """
    tensors = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    _check_tensors(tensors, build_from_config(config), config)
    metadata = {"format": FORMAT, "version": VERSION, "config": json.dumps(config.as_dict())}
    return save(tensors, metadata=metadata)


def load_weights(data: bytes) -> tuple[SequenceModel, CellConfig]:
    """A new :class:`~explorer.models.SequenceModel` with the weights of a file written by
    :func:`save_weights`, and its config.

    Raises:
        ValueError: the bytes are not a safetensors file; the config is missing, not JSON, or
            not a valid :class:`CellConfig`; or the tensors are not that model's (a name
            missing or extra, a shape or dtype that does not fit, a non-finite value).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"expected the file's bytes, got {type(data).__name__}")
    data = bytes(data)
    try:
        tensors = load(data)  # validates the header, offsets and sizes
    except (SafetensorError, ValueError, OSError, OverflowError) as err:
        raise ValueError(
            f"this is not a weights file (safetensors could not read it: {err})"
        ) from None
    config = _config_from(_metadata(data))
    model = build_from_config(config)
    _check_tensors(tensors, model, config)
    model.load_state_dict(tensors, strict=True)
    return model, config


def _metadata(data: bytes) -> dict:
    """The header's ``__metadata__`` (safetensors' own layout: an 8-byte little-endian length,
    then that many bytes of JSON). Called only after safetensors accepted the file."""
    n = int.from_bytes(data[:8], "little")
    header = _json(data[8 : 8 + n], "the file's header")
    metadata = header.get("__metadata__") or {} if isinstance(header, dict) else {}
    if not isinstance(metadata, dict):
        raise ValueError("the file's metadata is not a JSON object")
    if metadata.get("format") != FORMAT:
        raise ValueError(
            "this safetensors file was not written by RNN Explorer: its metadata has "
            f"no format {FORMAT!r} (found {sorted(metadata) or 'no metadata'})"
        )
    if metadata.get("version") != VERSION:
        raise ValueError(
            f"this weights file is version {metadata.get('version')!r}; this app "
            f"reads version {VERSION!r}"
        )
    return metadata


def _json(text: str | bytes, what: str) -> object:
    """``json.loads(text)``; ``ValueError`` naming ``what`` for text that is not JSON or that
    nests deeper than Python's recursion limit (a 100,000-deep ``[[[…]]]`` raised
    RecursionError)."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{what} is not valid JSON: {err}") from None
    except RecursionError:
        raise ValueError(f"{what} is nested too deeply to be a model config") from None


def _config_from(metadata: dict) -> CellConfig:
    text = metadata.get("config")
    if text is None:
        raise ValueError(
            "the file's metadata has no model config: it cannot say which model "
            "these weights belong to"
        )
    raw = _json(text, "the model config in the file")
    if not isinstance(raw, dict):
        raise ValueError(f"the model config must be a JSON object, got {type(raw).__name__}")
    names = {f.name for f in fields(CellConfig)}
    if set(raw) != names:
        missing, extra = sorted(names - set(raw)), sorted(set(raw) - names)
        raise ValueError(f"the model config does not fit: missing {missing}, unknown {extra}")
    try:
        return CellConfig(**raw)
    except (TypeError, ValueError) as err:
        raise ValueError(f"the model config in the file is not valid: {err}") from None


def _check_tensors(
    tensors: dict[str, torch.Tensor], model: torch.nn.Module, config: CellConfig
) -> None:
    expected = model.state_dict()
    what = _describe(config)
    missing, extra = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    if missing or extra:
        raise ValueError(
            f"the tensors are not those of {what}: missing {missing}, unexpected {extra}"
        )
    for name, want in expected.items():
        got = tensors[name]
        if tuple(got.shape) != tuple(want.shape):
            raise ValueError(
                f"{name} has shape {tuple(got.shape)}, but {what} needs {tuple(want.shape)}"
            )
        if got.dtype != want.dtype:
            raise ValueError(f"{name} is {got.dtype}, expected {want.dtype}")
        if not bool(torch.isfinite(got).all()):
            raise ValueError(f"{name} holds NaN or infinite values")


def differences(expected: CellConfig, found: CellConfig) -> list[str]:
    """What a file's model (``found``) has that the model a page would train (``expected``)
    does not, one phrase per field, e.g. ``["cell: GRU, not LSTM", "hidden_size: 8, not 16"]``;
    empty when they match. The seed is left out: it only drew the initial weights, which the
    file replaces."""
    out = []
    for f in fields(CellConfig):
        if f.name == "seed":
            continue
        want, got = getattr(expected, f.name), getattr(found, f.name)
        if want != got:
            if f.name == "cell":
                want, got = want.upper(), got.upper()
            out.append(f"{f.name}: {got}, not {want}")
    return out


def describe(config: CellConfig) -> str:
    """E.g. "a 2-layer bidirectional LSTM (input 3, hidden 6, proj 2, output 2, bias)"."""
    return _describe(config)


def _describe(config: CellConfig) -> str:
    """E.g. "a 2-layer bidirectional LSTM (input 3, hidden 6, proj 2, output 2, bias)"."""
    sizes = [f"input {config.input_size}", f"hidden {config.hidden_size}"]
    if config.proj_size:
        sizes.append(f"proj {config.proj_size}")
    sizes += [f"output {config.output_size}", "bias" if config.bias else "no bias"]
    kind = "bidirectional " if config.bidirectional else ""
    return f"a {config.num_layers}-layer {kind}{config.cell.upper()} ({', '.join(sizes)})"
