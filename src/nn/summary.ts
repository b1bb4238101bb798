/**
 * summary(model, inputShape): a torchsummary/Keras-style table, one row per leaf module (and per
 * container with parameters of its own) in the order they finish, with output shapes found by
 * running the model once (eval mode, no graph) on zeros of [batchSize = 1, ...inputShape]. Modes
 * are restored module by module afterwards, so a model with some layers deliberately in eval mode
 * comes back as it was.
 */
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/graph.js';
import { Module, typeName, type RemovableHandle } from './module.js';
import { formatShape } from './errors.js';
import { checkInt } from './util.js';

export interface SummaryRow {
  /** Dotted path, as in stateDict keys ('features.0'). */
  name: string;
  type: string;
  outputShape: number[] | null;
  /** Parameters owned by this module itself. */
  numParams: number;
  trainable: boolean;
}

export interface SummaryData {
  rows: SummaryRow[];
  inputShape: number[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  /** Bytes of float32 input, parameters and leaf outputs (the activations a forward pass keeps). */
  inputBytes: number;
  paramBytes: number;
  bufferBytes: number;
  activationBytes: number;
}

export interface SummaryOptions {
  /** Batch size of the trial input (default 1); memory figures scale with it. */
  batchSize?: number;
}

export function summaryRows(
  model: Module,
  inputShape: readonly number[],
  options: SummaryOptions = {},
): SummaryData {
  if (!(model instanceof Module)) throw new TypeError(`summary: expected a Module, got ${typeof model}`);
  if (!Array.isArray(inputShape) || inputShape.length === 0) {
    throw new TypeError(
      `summary: inputShape must be the shape of one sample, e.g. [1, 28, 28], got ${String(inputShape)}`,
    );
  }
  inputShape.forEach((d, i) => checkInt('summary', `inputShape[${i}]`, d));
  const batch = checkInt('summary', 'batchSize', options.batchSize ?? 1);
  const shape = [batch, ...inputShape];

  const named = model.namedModules();
  const names = new Map<Module, string>(named.map(([n, m]) => [m, n]));
  const modes = named.map(([, m]) => [m, m.training] as const);
  const rows: SummaryRow[] = [];
  const handles: RemovableHandle[] = [];
  for (const [, m] of named) {
    // Leaves, plus any container holding parameters of its own (so the rows add up to the total).
    if (m.children().length > 0 && m.parameters(false).length === 0) continue;
    handles.push(
      m.registerForwardHook((mod, _inputs, output) => {
        const ps = mod.parameters(false);
        rows.push({
          name: names.get(mod) || typeName(mod),
          type: typeName(mod),
          outputShape: output instanceof Tensor ? [...output.shape] : null,
          numParams: ps.reduce((a, p) => a + p.numel(), 0),
          trainable: ps.every((p) => p.requiresGrad),
        });
      }),
    );
  }
  try {
    model.eval();
    const n = shape.reduce((a, b) => a * b, 1);
    noGrad(() => model.forward(new Tensor(new Float32Array(n), shape)));
  } finally {
    for (const h of handles) h.remove();
    for (const [m, mode] of modes) m.training = mode;
  }

  const params = model.parameters();
  const totalParams = params.reduce((a, p) => a + p.numel(), 0);
  const trainableParams = params.reduce((a, p) => a + (p.requiresGrad ? p.numel() : 0), 0);
  const activationBytes = rows.reduce(
    (a, r) => a + (r.outputShape ? r.outputShape.reduce((x, y) => x * y, 1) * 4 : 0),
    0,
  );
  return {
    rows,
    inputShape: shape,
    totalParams,
    trainableParams,
    nonTrainableParams: totalParams - trainableParams,
    inputBytes: shape.reduce((a, b) => a * b, 1) * 4,
    paramBytes: totalParams * 4,
    bufferBytes: model.buffers().reduce((a, b) => a + b.numel() * 4, 0),
    activationBytes,
  };
}

const MB = 1024 * 1024;

function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The table as a string (print it with console.log). */
export function summary(model: Module, inputShape: readonly number[], options: SummaryOptions = {}): string {
  const d = summaryRows(model, inputShape, options);
  const cells = d.rows.map((r) => [
    `${r.name} (${r.type})`,
    r.outputShape ? formatShape(r.outputShape) : '?',
    thousands(r.numParams),
  ]);
  const head = ['Layer (type)', 'Output Shape', 'Param #'];
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string =>
    `${c[0].padEnd(w[0])}   ${c[1].padEnd(w[1])}   ${c[2].padStart(w[2])}`;
  const width = w[0] + w[1] + w[2] + 6;
  const rule = '-'.repeat(width);
  const double = '='.repeat(width);
  const mb = (b: number): string => (b / MB).toFixed(2);
  return [
    rule,
    line(head),
    double,
    ...cells.map(line),
    double,
    `Total params: ${thousands(d.totalParams)}`,
    `Trainable params: ${thousands(d.trainableParams)}`,
    `Non-trainable params: ${thousands(d.nonTrainableParams)}`,
    rule,
    `Input size (MB): ${mb(d.inputBytes)} (input shape ${formatShape(d.inputShape)})`,
    `Forward activations (MB): ${mb(d.activationBytes)}`,
    `Params size (MB): ${mb(d.paramBytes)}`,
    `Estimated total size (MB): ${mb(d.inputBytes + d.activationBytes + d.paramBytes + d.bufferBytes)}`,
    rule,
  ].join('\n');
}
