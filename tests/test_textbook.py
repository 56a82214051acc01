"""explorer.textbook: the from-scratch cells the Learn page shows equal torch.nn."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from explorer import textbook


def _seeded(make, seed):
    """What ``make()`` builds right after ``torch.manual_seed(seed)`` (the global RNG restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make()


@pytest.mark.parametrize("bias", [True, False])
def test_textbook_cells_equal_torch_with_states(bias):
    x = torch.randn(9, 3, generator=torch.Generator().manual_seed(0))
    h0, c0 = torch.full((4,), 0.3), torch.full((4,), -0.2)
    lstm = _seeded(lambda: nn.LSTM(3, 4, bias=bias), 1)
    gru = _seeded(lambda: nn.GRU(3, 4, bias=bias), 2)
    with torch.no_grad():
        out, (h_n, c_n) = lstm(x, (h0[None], c0[None]))
        hs, cs = textbook.TextbookLSTM.from_torch(lstm).forward(x, h0, c0)
        np.testing.assert_allclose(hs.numpy(), out.numpy(), atol=1e-6)
        np.testing.assert_allclose(cs[-1].numpy(), c_n[0].numpy(), atol=1e-6)
        out, _ = gru(x, h0[None])
        np.testing.assert_allclose(
            textbook.TextbookGRU.from_torch(gru).forward(x, h0).numpy(), out.numpy(), atol=1e-6
        )
    with pytest.raises(TypeError, match="LSTM"):
        textbook.TextbookLSTM.from_torch(gru)
    with pytest.raises(ValueError, match="projection"):
        textbook.TextbookLSTM.from_torch(nn.LSTM(3, 4, proj_size=2))


def test_gru_keeps_b_hn_apart():
    gru = _seeded(lambda: nn.GRU(2, 3), 0)
    tb = textbook.TextbookGRU.from_torch(gru)
    assert torch.equal(tb.b_hn, gru.bias_hh_l0[6:9].detach())
    assert torch.equal(tb.b_xn, gru.bias_ih_l0[6:9].detach())
    assert torch.allclose(tb.b_z, (gru.bias_ih_l0 + gru.bias_hh_l0)[3:6].detach())
