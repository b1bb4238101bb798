/**
 * Layer fusion in Sequential: a Conv1d/2d/3d followed by ReLU, by MaxPool of the same
 * dimensionality, or by both in that order, runs as one conv block (ops/conv-block.ts): the
 * same values and gradients as the layers one by one, without ever storing the convolution's
 * output. This is the pattern of nearly every CNN's feature extractor, and in the benchmark's
 * SimpleCNN that output is the largest tensor of the training step.
 *
 * Fusion happens only where no one can tell the difference: every layer in the run is the
 * library's own class with its own forward (not a subclass overriding it, not a forward replaced
 * on the instance), none has a forward hook (summary() and the profiler use hooks and so see
 * every layer), and the input is batched. Otherwise each layer runs its own forward, as it does
 * everywhere when fusion is switched off with `setFusion(false)`.
 */
import { Tensor } from '../tensor/tensor.js';
import { convBlock } from '../ops/conv-block.js';
import { ReLU } from './activation.js';
import { _ConvForward } from './conv.js';
import { Module, unobservedForward } from './module.js';
import { MaxPool1d, MaxPool2d, MaxPool3d, type _MaxPoolNd } from './pooling.js';

let fusionOn = true;

/** Switches Sequential's layer fusion on (the default) or off, e.g. to time every layer on its own. */
export function setFusion(enabled: boolean): void {
  if (typeof enabled !== 'boolean')
    throw new TypeError(`setFusion: expected a boolean, got ${typeof enabled}`);
  fusionOn = enabled;
}

/** Whether Sequential fuses conv blocks. */
export function fusionEnabled(): boolean {
  return fusionOn;
}

/** A run of layers that can execute as one conv block. */
export interface FusedRun {
  conv: _ConvForward;
  relu: boolean;
  pool: _MaxPoolNd | null;
  /** Layers covered: 2 or 3. */
  length: number;
}

const MAX_POOLS = [null, MaxPool1d, MaxPool2d, MaxPool3d];

/** The fusable run starting at layers[i], or null. */
export function fusedRunAt(layers: readonly Module[], i: number): FusedRun | null {
  if (!fusionOn) return null;
  const conv = layers[i];
  if (!(conv instanceof _ConvForward) || !unobservedForward(conv, _ConvForward.prototype.forward))
    return null;
  let j = i + 1;
  const relu = layers[j] instanceof ReLU && unobservedForward(layers[j], ReLU.prototype.forward);
  if (relu) j++;
  const Pool = MAX_POOLS[conv.nd];
  const next = layers[j];
  const pool =
    Pool && next instanceof Pool && unobservedForward(next, Pool.prototype.forward)
      ? (next as _MaxPoolNd)
      : null;
  if (pool) j++;
  return relu || pool ? { conv, relu, pool, length: j - i } : null;
}

/**
 * Runs a fused run on x: its output and the output shapes of each layer it covers; null when it
 * cannot run fused (an unbatched input, or an input the layers reject: then running them one by
 * one raises the error, naming the layer at fault).
 */
export function runFused(run: FusedRun, x: unknown): { out: Tensor; shapes: number[][] } | null {
  if (!(x instanceof Tensor)) return null;
  let plan;
  try {
    plan = run.conv.planBlock(x, { relu: run.relu, pool: run.pool ? run.pool.options : null });
  } catch {
    return null;
  }
  if (plan === null) return null;
  const shapes = [plan.convShape];
  if (run.relu) shapes.push(plan.convShape);
  if (run.pool) shapes.push(plan.outShape);
  return { out: convBlock(plan), shapes };
}
