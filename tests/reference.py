"""A plain step-by-step reference of PyTorch's documented RNN/LSTM/GRU equations.

Written independently of ``explorer.trace`` (a Python loop over time, one layer and direction at
a time) and itself checked against torch's fused forward in the tests, so it can serve as the
oracle for the gates, which torch does not return.
"""

import torch


def reference(rnn, x, h0=None, c0=None):
    """Return ``(hidden, cell, gates)`` shaped like ``explorer.Trace``'s fields."""
    L, D, H = rnn.num_layers, 2 if rnn.bidirectional else 1, rnn.hidden_size
    proj = getattr(rnn, "proj_size", 0)
    H_out = proj or H
    T = x.shape[0]
    kind = (
        "lstm"
        if isinstance(rnn, torch.nn.LSTM)
        else "gru"
        if isinstance(rnn, torch.nn.GRU)
        else "rnn"
    )
    names = {"lstm": "ifgo", "gru": "rzn", "rnn": ""}[kind]
    hidden = torch.zeros(L, D, T, H_out)
    cell = torch.zeros(L, D, T, H) if kind == "lstm" else None
    gates = {k: torch.zeros(L, D, T, H) for k in names}
    h0 = torch.zeros(L * D, H_out) if h0 is None else h0
    c0 = torch.zeros(L * D, H) if c0 is None else c0
    inp = x
    with torch.no_grad():
        for l in range(L):
            outs = []
            for d in range(D):
                sfx = f"_l{l}" + ("_reverse" if d else "")
                W_ih, W_hh = getattr(rnn, "weight_ih" + sfx), getattr(rnn, "weight_hh" + sfx)
                b_ih = getattr(rnn, "bias_ih" + sfx) if rnn.bias else torch.zeros(W_ih.shape[0])
                b_hh = getattr(rnn, "bias_hh" + sfx) if rnn.bias else torch.zeros(W_ih.shape[0])
                h, c = h0[l * D + d], c0[l * D + d]
                order = range(T) if d == 0 else range(T - 1, -1, -1)
                out = torch.zeros(T, H_out)
                for t in order:
                    gi = W_ih @ inp[t] + b_ih
                    gh = W_hh @ h + b_hh
                    if kind == "rnn":
                        act = torch.tanh if rnn.nonlinearity == "tanh" else torch.relu
                        h = act(gi + gh)
                    elif kind == "lstm":
                        i, f, g, o = (gi + gh).chunk(4)
                        i, f, g, o = (
                            torch.sigmoid(i),
                            torch.sigmoid(f),
                            torch.tanh(g),
                            torch.sigmoid(o),
                        )
                        c = f * c + i * g
                        h = o * torch.tanh(c)
                        if proj:
                            h = getattr(rnn, "weight_hr" + sfx) @ h
                        cell[l, d, t] = c
                        for k, v in zip("ifgo", (i, f, g, o)):
                            gates[k][l, d, t] = v
                    else:
                        ir, iz, in_ = gi.chunk(3)
                        hr, hz, hn = gh.chunk(3)
                        r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
                        n = torch.tanh(in_ + r * hn)
                        h = (1 - z) * n + z * h
                        for k, v in zip("rzn", (r, z, n)):
                            gates[k][l, d, t] = v
                    out[t] = h
                hidden[l, d] = out
                outs.append(out)
            inp = torch.cat(outs, dim=1)
    return hidden, cell, gates
