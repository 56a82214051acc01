"""The tutorial's worked example, run twice: the from-scratch RNN and ``nn.RNN`` learn alike.

The tutorial this project grew from trains a vanilla RNN written from scratch (one bias, row
vectors)::

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)        y_t = h_t W_hy + b_y

on one sequence of 5 random steps (input 10, hidden 20, output 1), with mean-squared error
against random targets, plain SGD at lr 0.01 for 100 epochs, printing the loss every 10.

:func:`run_tutorial` runs that loop, then the same with ``torch.nn.RNN`` + ``torch.nn.Linear``
started from the same numbers: ``weight_ih = W_xh^T``, ``weight_hh = W_hh^T``,
``bias_ih = b_h``, ``bias_hh = 0``, ``head.weight = W_hy^T``, ``head.bias = b_y``. The two loss
curves agree to float32 rounding at every epoch.

One catch, and the reason ``bias_hh`` stays frozen at 0: PyTorch's two biases only ever appear as
their sum, so each receives the *same* gradient as the textbook's b_h, and SGD moves the sum
twice as far per step. Trained together they are a one-bias RNN with a doubled learning rate on
its bias; :attr:`TutorialRun.torch_two_biases` shows that curve drifting away.

Shapes: ``T`` = 5 time steps, one sequence (no batch dimension, as in the tutorial).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

INPUT_SIZE, HIDDEN_SIZE, OUTPUT_SIZE, STEPS = 10, 20, 1, 5


@dataclass(frozen=True)
class TutorialRun:
    """Loss per epoch (after the forward pass, before that epoch's update) of each version.

    Attributes:
        scratch: the from-scratch loop on leaf tensors.
        torch: ``nn.RNN`` + ``nn.Linear`` with ``bias_hh`` frozen at 0.
        torch_two_biases: the same with both biases trained (drifts away: see the module doc).
        log: the tutorial's printout, one line every ``log_every`` epochs.
    """

    scratch: list[float]
    torch: list[float]
    torch_two_biases: list[float]
    log: list[str]


def tutorial_data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """One random sequence ``x`` ``(T, 10)`` and random targets ``y`` ``(T, 1)``, seeded."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(STEPS, INPUT_SIZE, generator=g)  # (T, 10)
    y = torch.randn(STEPS, OUTPUT_SIZE, generator=g)  # (T, 1)
    return x, y


def textbook_parameters(seed: int = 0, scale: float = 0.1) -> dict[str, torch.Tensor]:
    """The tutorial's parameters as leaf tensors: weights ``N(0, scale²)``, biases 0, seeded.

    ``W_xh`` (10, 20), ``W_hh`` (20, 20), ``b_h`` (20,), ``W_hy`` (20, 1), ``b_y`` (1,).
    """
    g = torch.Generator().manual_seed(seed + 1)  # not the data's stream
    shapes = {
        "W_xh": (INPUT_SIZE, HIDDEN_SIZE),
        "W_hh": (HIDDEN_SIZE, HIDDEN_SIZE),
        "W_hy": (HIDDEN_SIZE, OUTPUT_SIZE),
    }
    params = {name: (torch.randn(shape, generator=g) * scale) for name, shape in shapes.items()}
    params["b_h"] = torch.zeros(HIDDEN_SIZE)
    params["b_y"] = torch.zeros(OUTPUT_SIZE)
    return {name: p.requires_grad_() for name, p in params.items()}


def scratch_forward(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The loop of the tutorial: ``(T, 10)`` -> outputs ``(T, 1)``."""
    h = torch.zeros(HIDDEN_SIZE)  # h_0
    outputs = []
    for x_t in x:  # x_t: (10,)
        h = torch.tanh(x_t @ p["W_xh"] + h @ p["W_hh"] + p["b_h"])  # (20,)
        outputs.append(h @ p["W_hy"] + p["b_y"])  # (1,)
    return torch.stack(outputs)  # (T, 1)


def train_scratch(
    p: dict[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 100,
    lr: float = 0.01,
) -> list[float]:
    """Plain SGD by hand on the leaf tensors ``p`` (updated in place); the loss per epoch."""
    losses = []
    for _ in range(epochs):
        loss = ((scratch_forward(p, x) - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for q in p.values():
                q -= lr * q.grad
                q.grad = None
        losses.append(loss.item())
    return losses


def torch_modules(p: dict[str, torch.Tensor]) -> tuple[torch.nn.RNN, torch.nn.Linear]:
    """``nn.RNN(10, 20)`` and ``nn.Linear(20, 1)`` holding the numbers of ``p`` (copies)."""
    with torch.device("meta"):  # no draw from the process-wide generator: overwritten next
        rnn = torch.nn.RNN(INPUT_SIZE, HIDDEN_SIZE)
        head = torch.nn.Linear(HIDDEN_SIZE, OUTPUT_SIZE)
    rnn, head = rnn.to_empty(device="cpu"), head.to_empty(device="cpu")
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(p["W_xh"].T)  # (20, 10)
        rnn.weight_hh_l0.copy_(p["W_hh"].T)  # (20, 20)
        rnn.bias_ih_l0.copy_(p["b_h"])
        rnn.bias_hh_l0.zero_()
        head.weight.copy_(p["W_hy"].T)  # (1, 20)
        head.bias.copy_(p["b_y"])
    return rnn, head


def textbook_from_torch(rnn: torch.nn.RNN, head: torch.nn.Linear) -> dict[str, torch.Tensor]:
    """The inverse of :func:`torch_modules`: the tutorial's parameters equal to ``rnn`` (layer 0)
    and ``head``: transpose every weight, sum the two biases (copies, not leaves of ``rnn``).

    ``W_xh`` (input_size, H), ``W_hh`` (H, H), ``b_h`` (H,), ``W_hy`` (H, O), ``b_y`` (O,).
    """
    with torch.no_grad():
        return {
            "W_xh": rnn.weight_ih_l0.T.clone(),  # (H, in) -> (in, H)
            "W_hh": rnn.weight_hh_l0.T.clone(),  # (H, H), transposed
            "b_h": (rnn.bias_ih_l0 + rnn.bias_hh_l0).clone(),  # summed
            "W_hy": head.weight.T.clone(),  # (O, H) -> (H, O)
            "b_y": head.bias.clone(),  # (O,)
        }


ORIGINAL_LINE = "h = torch.tanh(torch.mm(x[t], W_xh) + torch.mm(h, W_hh) + b_h)"
CORRECTED_LINE = "h = torch.tanh(x_t @ W_xh + h @ W_hh + b_h)"


def original_error(seed: int = 0) -> str:
    """What the tutorial's original line (:data:`ORIGINAL_LINE`) says when run: ``torch.mm``
    multiplies 2-D matrices only, and ``x[t]`` is a 1-D row of 10 numbers. Returns torch's own
    error message; raises ``AssertionError`` if torch ever accepts the line."""
    x, _ = tutorial_data(seed)
    p = textbook_parameters(seed)
    h = torch.zeros(HIDDEN_SIZE)
    try:
        torch.tanh(torch.mm(x[0], p["W_xh"]) + torch.mm(h, p["W_hh"]) + p["b_h"])
    except RuntimeError as err:
        return str(err)
    raise AssertionError("torch.mm accepted a 1-D tensor; the tutorial's bug is gone")


def train_torch(
    p: dict[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 100,
    lr: float = 0.01,
    train_bias_hh: bool = False,
) -> list[float]:
    """The same training with ``torch.nn`` modules and ``torch.optim.SGD``, started from ``p``
    (not modified); the loss per epoch."""
    rnn, head = torch_modules(p)
    rnn.bias_hh_l0.requires_grad_(train_bias_hh)
    params = [q for q in [*rnn.parameters(), *head.parameters()] if q.requires_grad]
    optimizer = torch.optim.SGD(params, lr=lr)
    loss_fn = torch.nn.MSELoss()
    losses = []
    for _ in range(epochs):
        out, _ = rnn(x)  # (T, 20): unbatched input
        loss = loss_fn(head(out), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def run_tutorial(
    seed: int = 0, *, epochs: int = 100, lr: float = 0.01, log_every: int = 10, print_fn=None
) -> TutorialRun:
    """Run the tutorial's example from scratch and with ``torch.nn``; ``print_fn`` (e.g.
    ``print``) receives the tutorial's lines as they come."""
    x, y = tutorial_data(seed)
    start = textbook_parameters(seed)
    initial = {name: q.detach().clone() for name, q in start.items()}
    scratch = train_scratch(start, x, y, epochs=epochs, lr=lr)
    concise = train_torch(initial, x, y, epochs=epochs, lr=lr)
    two = train_torch(initial, x, y, epochs=epochs, lr=lr, train_bias_hh=True)
    log = [
        f"Epoch {e:3d}/{epochs}, loss {scratch[e - 1]:.6f} (from scratch), "
        f"{concise[e - 1]:.6f} (nn.RNN)"
        for e in range(log_every, epochs + 1, log_every)
    ]
    for line in log:
        if print_fn is not None:
            print_fn(line)
    return TutorialRun(scratch, concise, two, log)


if __name__ == "__main__":
    run_tutorial(print_fn=print)
