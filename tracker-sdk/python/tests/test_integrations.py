"""Lightning logger and Hugging Face callback: driven through their hook methods, and in real
training runs (a Lightning `Trainer.fit`, a Hugging Face `Trainer`) on tiny models built here.
`cargo xtask test` installs CPU torch, Lightning and transformers into its test virtualenv."""

from __future__ import annotations

import importlib.util
import os
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


def _need(*modules):
    """Skips (saying why) when a framework is not installed; under `cargo xtask test`, which
    installs them from tests/requirements-frameworks.txt (TRACKBENCH_REQUIRE_FRAMEWORKS=1), a
    missing one is a failure instead, so a broken install cannot pass as a skip."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if not missing:
        return
    why = f"{', '.join(missing)} not installed (pip install -r tests/requirements-frameworks.txt)"
    if os.environ.get("TRACKBENCH_REQUIRE_FRAMEWORKS") == "1":
        pytest.fail(why + ", but TRACKBENCH_REQUIRE_FRAMEWORKS=1 says they were installed")
    pytest.skip(why)


def test_real_lightning_fit(store):
    """A real two-epoch `Trainer.fit` on a tiny model, logged through the real logger."""
    _need("torch", "lightning")
    import torch
    from torch import nn
    import lightning.pytorch as pl

    from trackbench.integrations.lightning import TrackbenchLogger

    class Tiny(pl.LightningModule):
        def __init__(self, lr=0.1, width=4):
            super().__init__()
            self.save_hyperparameters()
            self.lin = nn.Linear(width, 1)

        def training_step(self, batch, _):
            x, y = batch
            loss = nn.functional.mse_loss(self.lin(x), y)
            self.log("train_loss", loss)
            return loss

        def validation_step(self, batch, _):
            x, y = batch
            self.log("val_loss", nn.functional.mse_loss(self.lin(x), y))

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(64, 4), torch.randn(64, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=8)  # 8 steps per epoch
    logger = TrackbenchLogger(project="pl-real", name="tiny-fit")
    trainer = pl.Trainer(max_epochs=2, logger=logger, log_every_n_steps=1, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    trainer.fit(Tiny(), loader, loader)
    r = export(store, logger.version)
    assert r["name"] == "tiny-fit" and r["status"] == "finished"
    assert r["params"]["lr"] == 0.1 and r["params"]["width"] == 4
    steps = r["metrics"]["train_loss"]["steps"]
    assert len(steps) == 16 and steps == sorted(steps), steps
    assert len(r["metrics"]["val_loss"]["steps"]) == 2  # one validation per epoch
    assert set(r["metrics"]["epoch"]["values"]) == {0.0, 1.0}


def test_real_transformers_trainer(store, tmp_path):
    """A real Hugging Face `Trainer` on a tiny BERT built from a config (nothing downloaded)."""
    _need("torch", "transformers", "accelerate")
    import torch
    from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

    from trackbench.integrations.transformers import TrackbenchCallback

    torch.manual_seed(0)
    config = BertConfig(vocab_size=32, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=16, max_position_embeddings=16, num_labels=2)
    model = BertForSequenceClassification(config)

    class Pairs(torch.utils.data.Dataset):
        def __len__(self):
            return 16

        def __getitem__(self, i):
            ids = torch.tensor([(i * 7 + j) % 32 for j in range(8)])
            return {"input_ids": ids, "attention_mask": torch.ones(8, dtype=torch.long),
                    "labels": torch.tensor(i % 2)}

    args = TrainingArguments(output_dir=str(tmp_path / "hf"), run_name="tiny-bert", num_train_epochs=2,
                             per_device_train_batch_size=4, learning_rate=1e-3, logging_steps=1,
                             save_strategy="no", report_to="none", use_cpu=True, disable_tqdm=True)
    cb = TrackbenchCallback(project="hf-real")
    Trainer(model=model, args=args, train_dataset=Pairs(), callbacks=[cb]).train()
    r = export(store, cb.run.id)
    assert r["name"] == "tiny-bert" and r["status"] == "finished"
    assert r["params"]["args.learning_rate"] == 1e-3 and r["params"]["model.hidden_size"] == 16
    assert r["metrics"]["loss"]["steps"] == list(range(1, 9))  # 4 steps per epoch, logged every step
    assert "train_runtime" in r["metrics"] or "train_runtime" in r["summary"]
