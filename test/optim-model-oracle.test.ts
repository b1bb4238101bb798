/**
 * The whole-model oracle cases' "state dict after one Adam step", checked on the optimizer alone:
 * PyTorch's parameters and gradients in, one Adam step (lr from the case), PyTorch's parameters out.
 * (The full case, forward and backward included, runs in `npm run oracle`.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { Tensor } from '../src/tensor/tensor.js';
import { Adam } from '../src/optim/index.js';
import { availableBackends, setBackend } from '../src/backend/index.js';
import { registerNative } from '../scripts/oracle/run.js';

interface T {
  shape: number[];
  data: number[];
}
interface ModelCase {
  name: string;
  args: { optimizer: string; lr: number };
  stateDict: Record<string, T>;
  paramGrads: Record<string, T>;
  stateDictAfterAdamStep: Record<string, T>;
}

const oracle = JSON.parse(
  readFileSync(new URL('../../shared/oracle/model.json', import.meta.url), 'utf8'),
) as {
  cases: ModelCase[];
};

await registerNative();

for (const c of oracle.cases)
  for (const backend of availableBackends()) {
    test(`[${backend}] ${c.name}: one Adam step matches PyTorch's state dict after it`, () => {
      setBackend(backend);
      assert.equal(c.args.optimizer, 'adam');
      const names = Object.keys(c.paramGrads);
      const params = names.map(
        (k) => new Tensor(Float32Array.from(c.stateDict[k].data), c.stateDict[k].shape, true),
      );
      const opt = new Adam(params, { lr: c.args.lr });
      params.forEach(
        (p, i) => (p.grad = new Tensor(Float32Array.from(c.paramGrads[names[i]].data), p.shape)),
      );
      opt.step();
      setBackend('js');
      names.forEach((k, i) => {
        const want = c.stateDictAfterAdamStep[k].data;
        const got = params[i].data;
        for (let j = 0; j < want.length; j++) {
          assert.ok(
            Math.abs(got[j] - want[j]) <= 1e-5 + 1e-4 * Math.abs(want[j]),
            `${k}[${j}]: got ${got[j]}, expected ${want[j]}`,
          );
        }
      });
    });
  }
