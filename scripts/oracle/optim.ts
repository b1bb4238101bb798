/**
 * Handlers for optim.json: optimizers (parameters after each of 4 steps with given gradients) and
 * LR schedulers (the rate after each epoch; ReduceLROnPlateau is fed the case's metrics).
 */
import { Tensor } from '../../src/tensor/tensor.js';
import * as optim from '../../src/optim/index.js';
import {
  registerHandler,
  toTensor,
  type OracleCase,
  type OracleContext,
  type OracleTensor,
} from './registry.js';

type Args = Record<string, unknown>;

const optimizers: Record<string, (params: Tensor[], args: Args) => optim.Optimizer> = {
  sgd: (ps, a) => new optim.SGD(ps, a as { lr: number }),
  adam: (ps, a) => new optim.Adam(ps, a),
  adamw: (ps, a) => new optim.AdamW(ps, a),
  rmsprop: (ps, a) => new optim.RMSprop(ps, a),
};

function optimizerCase(c: OracleCase, ctx: OracleContext): void {
  const grads = c.grads as unknown as OracleTensor[];
  const after = c.paramsAfterEachStep as OracleTensor[];
  const p = toTensor(c.initial as OracleTensor, true);
  const opt = optimizers[c.op]([p], c.args ?? {});
  grads.forEach((g, k) => {
    opt.zeroGrad();
    p.grad = toTensor(g);
    opt.step();
    ctx.expectClose(`params after step ${k + 1}`, p, after[k]);
  });
}

const schedulers: Record<string, (o: optim.Optimizer, args: Args) => { step(): void }> = {
  stepLR: (o, a) => new optim.StepLR(o, a as { stepSize: number }),
  cosineAnnealingLR: (o, a) => new optim.CosineAnnealingLR(o, a as { tMax: number }),
};

function schedulerCase(c: OracleCase, ctx: OracleContext): void {
  const { initialLr, ...args } = (c.args ?? {}) as Args & { initialLr: number };
  const expected = c.lrAfterEachEpoch as number[];
  const opt = new optim.SGD([new Tensor(new Float32Array(1), [1], true)], { lr: initialLr });
  const lrs: number[] = [];
  if (c.op === 'reduceLROnPlateau') {
    const s = new optim.ReduceLROnPlateau(opt, args);
    for (const m of c.metrics as number[]) {
      s.step(m);
      lrs.push(opt.paramGroups[0].lr);
    }
  } else {
    const s = schedulers[c.op](opt, args);
    for (let e = 0; e < expected.length; e++) {
      opt.step();
      s.step();
      lrs.push(opt.paramGroups[0].lr);
    }
  }
  // Learning rates are float64 on both sides: hold them to a much tighter tolerance.
  ctx.expectClose(
    'lr after each epoch',
    lrs,
    { shape: [expected.length], data: expected },
    { rtol: 1e-9, atol: 1e-12 },
  );
}

for (const op of Object.keys(optimizers)) registerHandler(op, optimizerCase);
for (const op of ['stepLR', 'cosineAnnealingLR', 'reduceLROnPlateau']) registerHandler(op, schedulerCase);
