"""RNN Explorer's core: build, trace and count real PyTorch recurrent networks.

Importable without Streamlit (only :mod:`explorer.ui` imports it)::

    import torch, explorer
    model = explorer.build_model("lstm", input_size=1, hidden_size=8, seed=0)
    tr = explorer.trace(model.rnn, torch.randn(20, 1))
    tr.hidden.shape, tr.gates["f"].shape        # (1, 1, 20, 8), (1, 1, 20, 8)
    explorer.count_parameters("lstm", 1, 8).total  # 352
"""

from .config import CELLS, LIMITS, CellConfig
from .models import SequenceModel, build_from_config, build_model
from .params import ParamCount, ParamRow, count_parameters
from .readers import read_series
from .trace import Trace, trace

__all__ = [
    "CELLS",
    "LIMITS",
    "CellConfig",
    "SequenceModel",
    "build_model",
    "build_from_config",
    "ParamCount",
    "ParamRow",
    "count_parameters",
    "Trace",
    "trace",
    "read_series",
]
