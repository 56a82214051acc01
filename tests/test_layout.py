"""Project layout rules that a reviewer would otherwise check by hand."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_is_free_of_streamlit_outside_ui():
    """Only the ``explorer.ui`` package draws widgets; the rest imports from a notebook."""
    core = [
        p for p in (ROOT / "explorer").rglob("*.py") if (ROOT / "explorer" / "ui") not in p.parents
    ]
    assert len(core) > 10
    offenders = [p.name for p in core if "streamlit" in _imports(p)]
    assert offenders == []


# What a page may not do: pages draw widgets and call explorer/, which computes (DESIGN.md:
# "Views receive numbers; they never compute model quantities").
MATHS_MODULES = {"numpy", "torch", "scipy"}  # pandas builds display tables: allowed
# methods of torch.Tensor / numpy.ndarray that compute or convert numbers
ARRAY_METHODS = {
    "numpy", "item", "detach", "cpu", "clone", "tolist", "astype", "float", "double",
    "abs", "max", "min", "mean", "std", "var", "sum", "prod", "cumsum", "norm", "round",
    "argmax", "argmin", "clip", "clamp", "exp", "log", "sqrt", "tanh", "sigmoid", "softmax",
    "reshape", "view", "transpose", "permute", "squeeze", "unsqueeze", "flatten",
    "matmul", "mm", "dot", "allclose", "isfinite", "any", "all",
}  # fmt: skip
GENERIC_TYPES = {"list", "dict", "tuple", "set", "frozenset", "type"}  # in annotations
# pages that still compute, with what they do: none left (the Compare table moved to
# explorer.compare.shown_results); an entry here may shrink, never grow
KNOWN: dict[str, list[str]] = {}


def maths_in(path: Path) -> list[str]:
    """``"line: what"`` for each place where a file computes with arrays or tensors: an import
    of a numerical library, a call of a tensor/array method (``x.numpy()``, ``v.max()``), a
    transpose (``.T``), a matrix product (``@``), or indexing over several axes or with a new
    axis (``a[:, 0]``, ``x[:, None]``, ``a[..., k]``), which only arrays take. A plain
    ``values[t - 1]`` or ``st.session_state[key]`` is no maths."""
    tree = ast.parse(path.read_text())
    found = [f"{m}: import" for m in sorted(_imports(path) & MATHS_MODULES)]
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ARRAY_METHODS:
                found.append(f"{line}: .{node.func.attr}()")
        elif isinstance(node, ast.Attribute) and node.attr in ("T", "mT"):
            found.append(f"{line}: .{node.attr}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found.append(f"{line}: @")
        elif isinstance(node, ast.Subscript) and not (
            isinstance(node.value, ast.Name) and node.value.id in GENERIC_TYPES
        ):
            index = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if len(index) > 1 or any(
                isinstance(i, ast.Constant) and i.value in (None, Ellipsis) for i in index
            ):
                found.append(f"{line}: {ast.unparse(node)}")
    return sorted(found, key=lambda f: int(f.split(":")[0]) if f[0].isdigit() else 0)


def test_the_maths_rule_finds_maths():
    """The rule below would catch each way a page used to compute (an honest negative control)."""
    sample = ROOT / "tests" / "data" / "_maths_sample.py"
    code = (
        "import numpy as np\n"
        "diff = float((ours - hidden[0, 0]).abs().max())\n"
        "x_np = x.numpy()\n"
        "xs = x[:, None]\n"
        "y = w @ h + W.T\n"
        "ok = values[t - 1] + st.session_state['k']\n"
    )
    try:
        sample.write_text(code)
        found = sorted(maths_in(sample))
    finally:
        sample.unlink(missing_ok=True)
    assert found == sorted(
        [
            "numpy: import",
            "2: hidden[0, 0]",
            "2: .max()",
            "2: .abs()",
            "3: .numpy()",
            "4: x[:, None]",
            "5: @",
            "5: .T",
        ]
    )


def test_pages_do_no_maths():
    pages = sorted((ROOT / "app_pages").glob("*.py"))
    assert len(pages) >= 5
    found = {page.name: maths_in(page) for page in pages}
    assert found == {page.name: KNOWN.get(page.name, []) for page in pages}


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```(?:bash|sh)\n(.*?)\n```", readme, flags=re.S)
    assert len(commands) >= 2
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_torch_is_pinned():
    assert "torch==2.13.0" in (ROOT / "requirements.txt").read_text().split()


def test_readme_notebook_example_runs_and_its_comments_are_true():
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)\n```", readme, flags=re.S).group(1)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert tuple(scope["tr"].hidden.shape) == (2, 1, 50, 8)
    assert (scope["counts"].total, scope["counts"].textbook_total) == (252, 231)
    assert scope["counts"].by_tensor == {
        "weight_ih_l0": 63,
        "weight_hh_l0": 147,
        "bias_ih_l0": 21,
        "bias_hh_l0": 21,
    }
