"""docs/notebook.md runs as written: its ```python blocks, in order, in one namespace, in an
empty folder (as a notebook started there would), and leave the files the page says they do."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "notebook.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def python_blocks(text: str) -> list[str]:
    """The code of every ```python block of a Markdown text, in order."""
    return [m.group(1) for m in _BLOCK.finditer(text)]


def test_the_block_reader_takes_python_blocks_only() -> None:
    text = "a\n```python\nx = 1\n```\n```text\nnot code\n```\n```python\ny = x + 1\n```\n"
    assert python_blocks(text) == ["x = 1\n", "y = x + 1\n"]


@pytest.mark.slow  # six runs of the small scenario: about 7 s
def test_the_notebook_page_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    blocks = python_blocks(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 8, "the page lost its code blocks"
    monkeypatch.chdir(tmp_path)
    matplotlib.use("Agg")  # no display: the page's figure is saved to a file
    namespace: dict[str, object] = {"__name__": "__notebook__"}
    for n, code in enumerate(blocks):
        try:
            exec(compile(code, f"{PAGE.name} block {n + 1}", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"block {n + 1} of {PAGE} failed:\n{code}") from exc
    out = capsys.readouterr().out
    assert "config error at duration_h" in out  # the bad override's line, as the page says
    # the default run folder, as gridsim run makes it: outputs/<date>/<time>
    made = sorted(p.parent.relative_to(tmp_path)
                  for p in tmp_path.glob("outputs/*/*/manifest.json"))
    assert len(made) == 1 and re.fullmatch(r"outputs/\d{4}-\d\d-\d\d/\d\d-\d\d-\d\d(_\d+)?",
                                           made[0].as_posix()), made
    assert (tmp_path / "response_times_hist.png").stat().st_size > 1000
    for delay in (15, 60):
        for seed in (1, 2):
            assert (tmp_path / f"runs/delay{delay}/seed{seed}/summary.json").is_file()
    paired = namespace["paired"]
    assert list(paired.index) == [1, 2]  # type: ignore[attr-defined]
