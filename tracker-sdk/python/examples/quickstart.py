"""Log a fake training loop, then look at it with `trackbench runs show`.

    pip install ./tracker-sdk/python
    python tracker-sdk/python/examples/quickstart.py
    trackbench runs show quickstart-demo
"""

import math
import random

import trackbench as tb

random.seed(0)
with tb.init(project="quickstart", name="quickstart-demo",
             config={"lr": 3e-4, "batch_size": 64, "model": {"depth": 4, "act": "gelu"}},
             tags=["example"]) as run:
    best = 0.0
    for step in range(1, 2001):
        loss = 2.3 * math.exp(-step / 400) + 0.05 * random.random()
        run.log({"train/loss": loss, "lr": 3e-4 * min(1.0, step / 100)}, step=step)
        if step % 200 == 0:
            acc = 1.0 - loss / 2.5
            best = max(best, acc)
            run.log({"val/acc": acc}, step=step)
    run.summary["best_val_acc"] = best
    print(f"logged run {run.id} ({run.name}) into {run.dir}")
