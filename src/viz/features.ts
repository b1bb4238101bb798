/**
 * What the conv layers see: run one input through a model with a forward hook on every Conv2d and
 * keep each layer's output (and its weight), for `stride inspect` and notebooks.
 */
import { noGrad } from '../autograd/graph.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import { typeName } from '../nn/module.js';

export interface ConvActivation {
  /** The layer's dotted name in the model (`features.0`). */
  name: string;
  layer: Module & { weight: Tensor };
  /** Its output for the input, [1, C, H, W]. */
  output: Tensor;
}

function isConv2d(m: Module): m is Module & { weight: Tensor } {
  return typeName(m) === 'Conv2d';
}

/** Every Conv2d of the model (in forward order of registration) with its output for `input` (eval mode). */
export function convActivations(model: Module, input: Tensor): ConvActivation[] {
  const convs = model
    .namedModules()
    .filter((e): e is [string, Module & { weight: Tensor }] => isConv2d(e[1]));
  if (convs.length === 0) throw new Error(`viz.convActivations: ${typeName(model)} has no Conv2d layers`);
  const outputs = new Map<Module, Tensor>();
  const handles = convs.map(([, m]) =>
    m.registerForwardHook((mod, _inputs, out) => {
      outputs.set(mod, out as Tensor);
    }),
  );
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => model.forward(input));
  } finally {
    for (const h of handles) h.remove();
    model.train(wasTraining);
  }
  return convs
    .filter(([, m]) => outputs.has(m))
    .map(([name, layer]) => ({ name, layer, output: outputs.get(layer)! }));
}
