"""scripts/plot_training.py on the committed zoo cards: the plot regenerates from a clean clone,
and a regularizer figure is drawn only for runs whose card switches that regularizer on."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CARDS = ROOT / "results" / "cards"


def plot_module():
    spec = importlib.util.spec_from_file_location("plot_training", ROOT / "scripts" / "plot_training.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_cards_plot_and_regularizer_panels_hold_only_runs_that_computed_them(tmp_path, monkeypatch):
    module = plot_module()
    runs = [CARDS / f"{method}-minilm-l6-snli-s1.json" for method in ("freelb", "infobert")]
    drawn = []
    real_plot = module.plot

    def recording_plot(logs, out, window):
        import matplotlib.axes

        original = matplotlib.axes.Axes.plot
        monkeypatch.setattr(matplotlib.axes.Axes, "plot",
                            lambda axis, *a, **k: drawn.append(k["label"]) or original(axis, *a, **k))
        real_plot(logs, out, window)

    monkeypatch.setattr(module, "plot", recording_plot)
    out = tmp_path / "curves.png"
    monkeypatch.setattr("sys.argv", ["plot_training.py", *map(str, runs), str(tmp_path / "unfinished"),
                                     "--out", str(out)])
    module.main()
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert drawn.count("freelb-minilm-l6-snli-s1") == 1  # task loss only: alpha = beta = 0 in its card
    assert drawn.count("infobert-minilm-l6-snli-s1") == 3  # task loss, IB and the AF bound
