/** Optimizers and schedulers against PyTorch's traces in shared/oracle/optim.json. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { Tensor } from '../src/tensor/tensor.js';
import { tensor } from '../src/tensor/creation.js';
import * as optim from '../src/optim/index.js';

interface T {
  shape: number[];
  data: number[];
}
interface Case {
  name: string;
  op: string;
  args: Record<string, unknown>;
  initial?: T;
  grads?: T[];
  paramsAfterEachStep?: T[];
  metrics?: number[] | null;
  lrAfterEachEpoch?: number[];
}

const oracle = JSON.parse(
  readFileSync(new URL('../../shared/oracle/optim.json', import.meta.url), 'utf8'),
) as {
  cases: Case[];
};

function close(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  rtol = 1e-4,
  atol = 1e-5,
) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    assert.ok(Math.abs(a - e) <= atol + rtol * Math.abs(e), `${what}[${i}]: got ${a}, expected ${e}`);
  }
}

function makeOptimizer(op: string, params: Tensor[], args: Record<string, unknown>): optim.Optimizer {
  switch (op) {
    case 'sgd':
      return new optim.SGD(params, args as { lr: number });
    case 'adam':
      return new optim.Adam(params, args);
    case 'adamw':
      return new optim.AdamW(params, args);
    case 'rmsprop':
      return new optim.RMSprop(params, args);
  }
  throw new Error(`no optimizer ${op}`);
}

for (const c of oracle.cases) {
  if (c.initial) {
    test(`oracle ${c.name}`, () => {
      const p = tensor(c.initial!.data, c.initial!.shape, { requiresGrad: true });
      const opt = makeOptimizer(c.op, [p], c.args);
      c.grads!.forEach((g, k) => {
        opt.zeroGrad();
        p.grad = tensor(g.data, g.shape);
        opt.step();
        close(p.data, c.paramsAfterEachStep![k].data, `${c.name} step ${k + 1}`);
      });
    });
  } else {
    test(`oracle ${c.name}`, () => {
      const { initialLr, ...args } = c.args as { initialLr: number } & Record<string, unknown>;
      const p = tensor([1, 2], [2], { requiresGrad: true });
      const opt = new optim.SGD([p], { lr: initialLr });
      const lrs: number[] = [];
      if (c.op === 'reduceLROnPlateau') {
        const s = new optim.ReduceLROnPlateau(opt, args);
        for (const m of c.metrics!) {
          s.step(m);
          lrs.push(opt.paramGroups[0].lr);
        }
      } else {
        const s =
          c.op === 'stepLR'
            ? new optim.StepLR(opt, args as { stepSize: number })
            : new optim.CosineAnnealingLR(opt, args as { tMax: number });
        for (let e = 0; e < c.lrAfterEachEpoch!.length; e++) {
          opt.step();
          s.step();
          lrs.push(s.getLastLr()[0]);
        }
      }
      close(lrs, c.lrAfterEachEpoch!, c.name, 1e-9, 1e-12);
    });
  }
}
