"""Lightning logger and Hugging Face callback, driven through their hook methods (and a real
tiny training run when the framework happens to be installed)."""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import pytest

from conftest import export, show


def test_lightning_logger_hooks(store):
    from trackbench.integrations.lightning import TrackbenchLogger

    logger = TrackbenchLogger(project="pl", name="lit")
    logger.log_hyperparams({"lr": 0.01, "net": {"width": 32}})
    logger.log_hyperparams(SimpleNamespace(batch_size=8))
    for step in range(5):
        logger.log_metrics({"train_loss": 1.0 / (step + 1), "epoch": 0}, step=step)
    logger.save()
    assert logger.name == "pl" and logger.version == logger.experiment.id
    logger.finalize("success")
    r = export(store, logger.version)
    assert r["status"] == "finished"
    assert r["params"] == {"lr": 0.01, "net.width": 32, "batch_size": 8}
    assert r["metrics"]["train_loss"]["steps"] == [0, 1, 2, 3, 4]
    failed = TrackbenchLogger(project="pl")
    failed.log_metrics({"x": 1.0}, step=0)
    failed.finalize("failed")
    assert show(store, failed.version)["status"] == "failed"


def test_transformers_callback_hooks(store):
    from trackbench.integrations.transformers import TrackbenchCallback

    class Args:
        run_name = "hf-run"

        def to_sanitized_dict(self):
            return {"learning_rate": 5e-5, "num_train_epochs": 1}

    class Model:
        config = SimpleNamespace(to_dict=lambda: {"hidden_size": 64, "model_type": "bert"})

    cb = TrackbenchCallback(project="hf")
    state = SimpleNamespace(global_step=0, is_world_process_zero=True)
    cb.on_train_begin(Args(), state, None, model=Model())
    for step in (10, 20):
        state.global_step = step
        cb.on_log(Args(), state, None, logs={"loss": 0.5 / step, "learning_rate": 5e-5, "note": "text"})
    cb.on_save(Args(), state, None)
    cb.on_train_end(Args(), state, None)
    r = export(store, cb.run.id)
    assert r["name"] == "hf-run" and r["status"] == "finished"
    assert r["params"]["args.learning_rate"] == 5e-5 and r["params"]["model.hidden_size"] == 64
    assert r["metrics"]["loss"]["steps"] == [10, 20]
    assert r["summary"] == {"note": "text"}
    other = TrackbenchCallback(project="hf")
    other.on_log(Args(), SimpleNamespace(global_step=1, is_world_process_zero=False), None, logs={"loss": 1.0})
    assert other.run is None, "only the main process logs"


@pytest.mark.skipif(importlib.util.find_spec("lightning") is None and importlib.util.find_spec("pytorch_lightning") is None,
                    reason="Lightning is not installed here; the hook-level test above covers the logger")
def test_real_lightning_training_run(store):  # pragma: no cover - needs Lightning + torch
    import torch
    from torch import nn

    try:
        import lightning.pytorch as pl
    except ImportError:
        import pytorch_lightning as pl
    from trackbench.integrations.lightning import TrackbenchLogger

    class Tiny(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 1)

        def training_step(self, batch, _):
            x, y = batch
            loss = nn.functional.mse_loss(self.lin(x), y)
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    data = torch.utils.data.TensorDataset(torch.randn(64, 4), torch.randn(64, 1))
    logger = TrackbenchLogger(project="pl-real")
    pl.Trainer(max_epochs=2, logger=logger, log_every_n_steps=1, enable_checkpointing=False,
               enable_progress_bar=False).fit(Tiny(), torch.utils.data.DataLoader(data, batch_size=8))
    assert export(store, logger.version)["metrics"]["train_loss"]["steps"]
