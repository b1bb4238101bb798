/**
 * Handlers for the functional ops: conv.json, pool.json, norm.json, basic.json, loss.json,
 * tensor.json and the worked example in seed.json.
 */
import * as F from '../../src/ops/functional.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { runStandard, type Inputs } from './common.js';
import {
  registerHandler,
  toTensor,
  type OracleContext,
  type OracleCase,
  type OracleTensor,
} from './registry.js';

type Args = Record<string, unknown>;
type Fwd = (i: Inputs, a: Args) => Tensor | Record<string, Tensor>;

function reg(op: string, fwd: Fwd): void {
  registerHandler(op, (c, ctx) => void runStandard(c, ctx, fwd));
}

const T = (i: Inputs, k: string): Tensor => {
  const t = i[k];
  if (!t) throw new Error(`case has no input '${k}'`);
  return t;
};

// ---- conv ----
reg('conv1d', (i, a) => F.conv1d(T(i, 'input'), T(i, 'weight'), i.bias, a));
reg('conv2d', (i, a) => F.conv2d(T(i, 'input'), T(i, 'weight'), i.bias, a));
reg('conv3d', (i, a) => F.conv3d(T(i, 'input'), T(i, 'weight'), i.bias, a));
reg('convTranspose2d', (i, a) => F.convTranspose2d(T(i, 'input'), T(i, 'weight'), i.bias, a));

// ---- pool ----
function maxPoolHandler(op: string, fn: typeof F.maxPool2d): void {
  registerHandler(op, (c, ctx) => {
    const wantIndices = c.outputs !== undefined && 'indices' in c.outputs;
    runStandard(c, ctx, (i, a) => {
      const opts = { ...(a as unknown as F.MaxPoolOptions) };
      if (wantIndices) {
        const [output, indices] = fn(T(i, 'input'), { ...opts, returnIndices: true });
        return { output, indices };
      }
      return fn(T(i, 'input'), opts);
    });
  });
}
maxPoolHandler('maxPool1d', F.maxPool1d);
maxPoolHandler('maxPool2d', F.maxPool2d);
maxPoolHandler('maxPool3d', F.maxPool3d);
reg('avgPool2d', (i, a) => F.avgPool2d(T(i, 'input'), a as unknown as F.AvgPoolOptions));
reg('adaptiveAvgPool2d', (i, a) => F.adaptiveAvgPool2d(T(i, 'input'), a.outputSize as number | number[]));
reg('adaptiveMaxPool2d', (i, a) => F.adaptiveMaxPool2d(T(i, 'input'), a.outputSize as number | number[]));

// ---- norm ----
registerHandler('batchNorm', (c, ctx) => {
  const inputs = runStandard(
    c,
    ctx,
    (i, a) =>
      F.batchNorm(T(i, 'input'), i.runningMean, i.runningVar, i.weight, i.bias, a as F.BatchNormOptions),
    // Σ over N·H·W per channel: the weight/bias gradients are long reductions.
    { grads: { rtol: 1e-4, atol: 1e-4 } },
  );
  if (c.runningMeanAfter)
    ctx.expectClose('runningMeanAfter', inputs.runningMean, c.runningMeanAfter as OracleTensor);
  if (c.runningVarAfter)
    ctx.expectClose('runningVarAfter', inputs.runningVar, c.runningVarAfter as OracleTensor);
});

// ---- basic ----
reg('linear', (i) => F.linear(T(i, 'input'), T(i, 'weight'), i.bias));
reg('relu', (i) => F.relu(T(i, 'input')));
reg('leakyRelu', (i, a) => F.leakyRelu(T(i, 'input'), a.negativeSlope as number | undefined));
reg('sigmoid', (i) => F.sigmoid(T(i, 'input')));
reg('tanh', (i) => F.tanh(T(i, 'input')));
reg('gelu', (i, a) => F.gelu(T(i, 'input'), a as { approximate?: 'none' | 'tanh' }));
reg('elu', (i, a) => F.elu(T(i, 'input'), a.alpha as number | undefined));
reg('softmax', (i, a) => F.softmax(T(i, 'input'), a.dim as number));
reg('logSoftmax', (i, a) => F.logSoftmax(T(i, 'input'), a.dim as number));

// ---- losses ----
const lossArgs = (i: Inputs, a: Args) => ({
  ...a,
  weight: i.weight ?? undefined,
  posWeight: i.posWeight ?? undefined,
});
reg('crossEntropy', (i, a) =>
  F.crossEntropy(T(i, 'input'), T(i, 'target'), lossArgs(i, a) as F.CrossEntropyOptions),
);
reg('nllLoss', (i, a) => F.nllLoss(T(i, 'input'), T(i, 'target'), lossArgs(i, a) as F.NllLossOptions));
reg('mseLoss', (i, a) => F.mseLoss(T(i, 'input'), T(i, 'target'), a as { reduction?: F.Reduction }));
reg('l1Loss', (i, a) => F.l1Loss(T(i, 'input'), T(i, 'target'), a as { reduction?: F.Reduction }));
reg('bceLoss', (i, a) =>
  F.bceLoss(T(i, 'input'), T(i, 'target'), lossArgs(i, a) as { reduction?: F.Reduction }),
);
reg('bceWithLogitsLoss', (i, a) =>
  F.bceWithLogitsLoss(T(i, 'input'), T(i, 'target'), lossArgs(i, a) as { reduction?: F.Reduction }),
);

// ---- tensor.json: the core's ops ----
for (const op of ['add', 'sub', 'mul', 'div', 'matmul'] as const) {
  reg(op, (i) => F[op](T(i, 'a'), T(i, 'b')));
}
for (const op of ['exp', 'log', 'sqrt', 'abs', 'neg'] as const) {
  reg(op, (i) => F[op](T(i, 'input')));
}
reg('pow', (i, a) => F.pow(T(i, 'input'), a.exponent as number));
reg('clamp', (i, a) => F.clamp(T(i, 'input'), a.min as number | null, a.max as number | null));
reg('sum', (i, a) =>
  F.sum(T(i, 'input'), a.dim as number | number[] | undefined, (a.keepdim as boolean) ?? false),
);
reg('mean', (i, a) =>
  F.mean(T(i, 'input'), a.dim as number | number[] | undefined, (a.keepdim as boolean) ?? false),
);
reg('max', (i, a) => F.max(T(i, 'input'), a.dim as number | undefined, (a.keepdim as boolean) ?? false));
reg('var', (i, a) =>
  F.var(T(i, 'input'), a.dim as number | number[] | undefined, {
    keepdim: a.keepdim as boolean | undefined,
    unbiased: a.unbiased as boolean | undefined,
  }),
);
reg('argmax', (i, a) =>
  F.argmax(T(i, 'input'), a.dim as number | undefined, (a.keepdim as boolean) ?? false),
);
reg('permute', (i, a) => F.permute(T(i, 'input'), a.dims as number[]));
reg('transpose', (i, a) => F.transpose(T(i, 'input'), a.dim0 as number, a.dim1 as number));
reg('flatten', (i, a) =>
  F.flatten(T(i, 'input'), a.startDim as number | undefined, a.endDim as number | undefined),
);
reg('cat', (i, a) => F.cat(orderedTensors(i), a.dim as number | undefined));
reg('stack', (i, a) => F.stack(orderedTensors(i), a.dim as number | undefined));
reg('pad', (i, a) => F.pad(T(i, 'input'), a.pad as number[], a.value as number | undefined));
reg('interpolate', (i, a) => F.interpolate(T(i, 'input'), a as F.InterpolateOptions));

/** cat/stack inputs a, b, c, ... in name order. */
function orderedTensors(i: Inputs): Tensor[] {
  return Object.keys(i)
    .sort()
    .map((k) => T(i, k));
}

// ---- seed.json: the convolution lecture's worked example, exact ----
registerHandler('example', (c: OracleCase, ctx: OracleContext) => {
  const get = (k: string) => toTensor(c[k] as OracleTensor);
  const conv = F.conv2d(get('input'), get('weight'), get('bias'));
  ctx.expectExact('conv', conv, c.conv as OracleTensor);
  const pooled = F.maxPool2d(conv, { kernelSize: 2 });
  ctx.expectExact('pooled', pooled, c.pooled as OracleTensor);
  const flat = pooled.reshape([1, pooled.numel()]);
  const fc = F.linear(
    flat,
    toTensor({ shape: [1, flat.shape[1]], data: new Array(flat.shape[1]).fill(1) }),
    toTensor({ shape: [1], data: [1] }),
  );
  ctx.expectExact('fc', fc, c.fc as OracleTensor);
});
