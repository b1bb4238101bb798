/**
 * linear(x, W, b) = x·Wᵀ + b over any leading dims, as one GEMM with transB: the weight keeps
 * PyTorch's [out, in] layout and is never transposed in memory.
 */
import { gradBuffer, record } from '../autograd/graph.js';
import { getBackend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { emptyFloat32 } from '../tensor/storage.js';
import { formatShape } from '../tensor/shape.js';

export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (input.dtype !== 'float32') throw new Error(`linear: input must be float32, got ${input.dtype}`);
  if (weight.ndim !== 2) {
    throw new Error(
      `linear: expected a 2-D weight [outFeatures, inFeatures], got shape ${formatShape(weight.shape)}`,
    );
  }
  const [nOut, nIn] = weight.shape;
  if (input.ndim === 0 || input.shape[input.ndim - 1] !== nIn) {
    throw new Error(
      `linear: input has ${input.ndim === 0 ? 0 : input.shape[input.ndim - 1]} features (last dim of ${formatShape(input.shape)}) but weight ${formatShape(weight.shape)} expects ${nIn}`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== nOut)) {
    throw new Error(`linear: expected bias of shape [${nOut}], got ${formatShape(bias.shape)}`);
  }
  const m = input.numel() / nIn;
  const outShape = [...input.shape.slice(0, -1), nOut];
  const x = input.data as Float32Array;
  const w = weight.data as Float32Array;
  const y = emptyFloat32(m * nOut);
  if (bias) {
    const b = bias.data;
    for (let r = 0; r < m; r++) y.set(b, r * nOut);
  }
  // y[m × out] = x[m × in] · W[out × in]ᵀ (+ the bias already in y)
  getBackend().gemm(false, true, m, nOut, nIn, 1, x, nIn, w, nIn, bias ? 1 : 0, y, nOut);
  const out = new Tensor(y, outShape);
  const inputs = bias ? [input, weight, bias] : [input, weight];
  return record(out, 'linear', inputs, (g) => {
    const be = getBackend();
    const gd = g.data as Float32Array;
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (input.requiresGrad) {
      // dx[m × in] = g[m × out] · W[out × in]
      const d = gradBuffer(m * nIn);
      be.gemm(false, false, m, nIn, nOut, 1, gd, nOut, w, nIn, 0, d, nIn);
      dx = new Tensor(d, input.shape);
    }
    if (weight.requiresGrad) {
      // dW[out × in] = gᵀ · x
      const d = emptyFloat32(nOut * nIn);
      be.gemm(true, false, nOut, nIn, m, 1, gd, nOut, x, nIn, 0, d, nIn);
      dw = new Tensor(d, weight.shape);
    }
    if (bias?.requiresGrad) {
      const d = new Float32Array(nOut);
      for (let r = 0; r < m; r++) {
        const off = r * nOut;
        for (let j = 0; j < nOut; j++) d[j] += gd[off + j];
      }
      db = new Tensor(d, [nOut]);
    }
    return [dx, dw, db];
  });
}
