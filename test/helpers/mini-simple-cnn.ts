/**
 * The oracle's miniSimpleCNN (a scaled-down SimpleCNN for 10×10 inputs): a custom Module holding a
 * Sequential under `sequential`, so its state-dict keys are PyTorch's (`sequential.0.weight`, …).
 */
import * as nn from '../../src/nn/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';

export class MiniSimpleCNN extends nn.Module {
  sequential = new nn.Sequential(
    new nn.Conv2d(1, 4, { kernelSize: 2, padding: 1 }),
    new nn.ReLU(),
    new nn.Conv2d(4, 8, { kernelSize: 2, padding: 1 }),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(288, 16),
    new nn.ReLU(),
    new nn.Linear(16, 10),
  );
  override forward(x: Tensor): Tensor {
    return this.sequential.forward(x);
  }
}
