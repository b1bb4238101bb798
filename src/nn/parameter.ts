/**
 * Parameter: a Tensor that a Module owns and trains. It is a real Tensor (a subclass sharing the
 * given tensor's storage, like `nn.Parameter(t)`), with requiresGrad true unless told otherwise;
 * Modules find their parameters by this type.
 */
import { Tensor } from '../tensor/tensor.js';

export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    if (!(data instanceof Tensor)) {
      throw new TypeError(`Parameter: expected a Tensor, got ${typeof data}`);
    }
    if (requiresGrad && data.dtype !== 'float32') {
      throw new TypeError(
        `Parameter: only float32 tensors can require gradients, got ${data.dtype}; pass requiresGrad=false`,
      );
    }
    super(data.data, data.shape, requiresGrad);
  }

  override toString(): string {
    return `Parameter containing:\n${super.toString()}`;
  }
}
