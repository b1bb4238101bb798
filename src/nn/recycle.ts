/**
 * Activation recycling in Sequential. Under noGrad, an activation passed between two of the
 * library's own layers is seen by those two layers only: once the second has consumed it, its
 * storage goes back to the allocator (tensor/storage.ts releaseFloat32) and serves the next
 * activation of the same size, in this pass or the next batch's. Inference then stops allocating
 * large buffers after its first batch: no fresh pages for the OS to fault in and zero, and no
 * external memory for the garbage collector to chase (M1 at batch 1000 on 2 threads: three
 * collections per forward pass before, none after).
 *
 * Only where no one can tell: gradients are off (no graph keeps activations), both layers are
 * classes of the list below (none keeps a reference to its input or output) with their own
 * forward and no forward hook, and the next output does not share the activation's buffer (a view,
 * such as Flatten's, or the input itself, as from Dropout in eval mode). The Sequential's own input
 * and output are never released.
 */
import { isGradEnabled } from '../autograd/graph.js';
import { Tensor } from '../tensor/tensor.js';
import { releaseFloat32 } from '../tensor/storage.js';
import { ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh } from './activation.js';
import { Conv1d, Conv2d, Conv3d, ConvTranspose2d } from './conv.js';
import { Dropout } from './dropout.js';
import { Flatten, Unflatten } from './flatten.js';
import { Identity, Linear } from './linear.js';
import { Module, unobservedForward } from './module.js';
import { BatchNorm1d, BatchNorm2d } from './normalization.js';
import {
  AdaptiveAvgPool2d,
  AdaptiveMaxPool2d,
  AvgPool2d,
  MaxPool1d,
  MaxPool2d,
  MaxPool3d,
} from './pooling.js';
import { Upsample } from './upsample.js';

/** The library's layers whose forward keeps no reference to its input or output. */
const KEEPS_NOTHING: ReadonlySet<unknown> = new Set([
  Conv1d,
  Conv2d,
  Conv3d,
  ConvTranspose2d,
  Linear,
  Identity,
  ReLU,
  LeakyReLU,
  Sigmoid,
  Tanh,
  GELU,
  ELU,
  Softmax,
  LogSoftmax,
  MaxPool1d,
  MaxPool2d,
  MaxPool3d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  AdaptiveMaxPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Dropout,
  Flatten,
  Unflatten,
  Upsample,
]);

function keepsNothing(m: Module): boolean {
  const proto = Object.getPrototypeOf(m) as Module;
  return KEEPS_NOTHING.has(proto.constructor) && unobservedForward(m, proto.forward);
}

/** Whether this forward pass may recycle its activations (checked once per pass). */
export function recycling(): boolean {
  return !isGradEnabled();
}

/**
 * After `layers` (one layer, or a fused run) turned `input` into `output`: `owned` is input's
 * storage if an earlier step of this pass produced it (null for the container's input or after an
 * unlisted layer). Releases it when it is now dead, and returns the storage to track for the next
 * step: output's, unless output shares input's buffer.
 */
export function afterStep(
  owned: Float32Array | null,
  layers: readonly Module[],
  input: unknown,
  output: unknown,
): Float32Array | null {
  if (!layers.every(keepsNothing) || !(output instanceof Tensor) || !(output.data instanceof Float32Array))
    return null;
  if (input instanceof Tensor && output.data.buffer === input.data.buffer) return owned;
  if (owned) releaseFloat32(owned);
  return output.data;
}
