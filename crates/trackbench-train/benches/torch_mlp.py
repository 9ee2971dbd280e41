"""The PyTorch side of the trainer benchmark: exactly the work `trackbench-train-bench` does.

A 784-1024-1024-10 MLP (nn.Linear + ReLU, softmax cross-entropy), SGD with momentum 0.9 and
lr 0.01, batch 256, on 60,000 synthetic samples (Gaussian blobs, 10 classes) held on the host:
each step gathers a shuffled batch on the host, copies it to the device, runs forward,
backward and the update; the step losses stay on the device and are read once at the end.

Prints one JSON line: {"device", "steps", "secs", "samples_per_sec"} or {"skipped": reason}.
Usage: python torch_mlp.py [--device cpu|cuda] [--steps 100] [--warmup 3] [--reps 1]
(with --reps N, N timed runs of --steps steps each; the fastest is reported)
"""

import argparse
import json
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--reps", type=int, default=1, help="timed runs; the best is reported")
    a = p.parse_args()
    try:
        import numpy as np
        import torch
        from torch import nn
    except Exception as e:  # noqa: BLE001 - any import failure means "not available here"
        print(json.dumps({"skipped": f"PyTorch not importable: {e}"}))
        return 0
    if a.device == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"skipped": "PyTorch sees no CUDA device"}))
        return 0
    dev = torch.device(a.device)
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((10, 784), dtype=np.float32)
    labels = rng.integers(0, 10, 60_000)
    x_all = torch.from_numpy(centres[labels] + rng.standard_normal((60_000, 784), dtype=np.float32))
    y_all = torch.from_numpy(labels.astype(np.int64))
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10)).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    order = torch.from_numpy(rng.permutation(60_000))
    batches = [order[i : i + 256] for i in range(0, 60_000 - 255, 256)]

    def step(i: int) -> torch.Tensor:
        idx = batches[i % len(batches)]
        xb = x_all[idx].to(dev, non_blocking=True)
        yb = y_all[idx].to(dev, non_blocking=True)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.detach()

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize()

    for i in range(a.warmup):
        step(i)
    sync()
    secs = float("inf")
    for _ in range(max(1, a.reps)):
        t = time.perf_counter()
        losses = [step(a.warmup + i) for i in range(a.steps)]
        final = torch.stack(losses)[-1].item()
        sync()
        secs = min(secs, time.perf_counter() - t)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"cpu ({torch.get_num_threads()} threads, torch {torch.__version__})"
    print(json.dumps({"device": name, "steps": a.steps, "secs": secs, "samples_per_sec": a.steps * 256 / secs, "final_loss": final}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
