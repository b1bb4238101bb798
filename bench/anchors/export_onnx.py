#!/usr/bin/python3
"""Export the benchmark models (M1 SimpleCNN, M2 SmallCNN) to ONNX for the ONNX Runtime anchor.

usage: /usr/bin/python3 bench/anchors/export_onnx.py OUT_DIR [--opset 13]

Builds the models exactly as /work/shared/anchors/bench_torch.py does (same layers, seed 0),
writes OUT_DIR/m1.onnx and OUT_DIR/m2.onnx with a dynamic batch axis, and, when the Python
onnxruntime package happens to be importable, checks its output against PyTorch's. Throughput
does not depend on the weights' values (no sparsity tricks in these ops), so untrained weights
measure the same as trained ones.
"""
import argparse
import os

import torch
import torch.nn as nn


def simple_cnn():  # M1, as bench_torch.py and bench/models.ts
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=2, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, kernel_size=2, padding=1),
        nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(14400, 128), nn.ReLU(), nn.Linear(128, 10))


def small_cnn():  # M2
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(8, 16, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--opset", type=int, default=13)
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    for name, build in (("m1", simple_cnn), ("m2", small_cnn)):
        torch.manual_seed(0)
        model = build().eval()
        path = os.path.join(a.out_dir, name + ".onnx")
        torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=a.opset,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        try:
            import onnx
            onnx.checker.check_model(onnx.load(path))
        except ImportError:
            pass
        # A fixed input and PyTorch's logits for it, so the Node side can check ORT agrees
        # without a Python onnxruntime (Debian has none).
        g = torch.Generator().manual_seed(1)
        x = torch.rand(4, 1, 28, 28, generator=g)
        with torch.no_grad():
            y = model(x)
        x.numpy().astype("<f4").tofile(os.path.join(a.out_dir, name + ".check_in.f32"))
        y.numpy().astype("<f4").tofile(os.path.join(a.out_dir, name + ".check_out.f32"))
        print(f"wrote {path} (opset {a.opset}, {sum(p.numel() for p in model.parameters())} params)")


if __name__ == "__main__":
    main()
