/**
 * Step-for-step equivalence with PyTorch (the other half is torch_steps.py): SimpleCNN from seed 0,
 * its initial weights saved as safetensors, then 60 Adam steps (lr 1e-3) on the first 60 batches of
 * 128 MNIST training images in order, pixels / 255; prints the losses as JSON. Run it on each
 * backend, then let PyTorch train from the same weights on the same batches and compare:
 *   mkdir -p /tmp/steps
 *   STRIDE_BACKEND=native node --import tsx bench/anchors/torch_steps.ts /tmp/steps > /tmp/steps/native.json
 *   STRIDE_BACKEND=js node --import tsx bench/anchors/torch_steps.ts /tmp/steps > /tmp/steps/js.json
 *   /usr/bin/python3 bench/anchors/torch_steps.py /tmp/steps [runs/…/model.safetensors]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as st from '../../src/node.js';
import { simpleCNN } from '../models.js';

const dir = process.argv[2] ?? '/tmp/steps';
mkdirSync(dir, { recursive: true });
st.manualSeed(0);
const model = simpleCNN();
await st.save(model.stateDict(), join(dir, 'init.safetensors'));
const train = new st.vision.MNIST({ train: true, transform: new st.vision.transforms.ToTensor() });
const optimizer = new st.optim.Adam(model.parameters(), { lr: 1e-3 });
const losses: number[] = [];
for (let b = 0; b < 60; b++) {
  const xs: st.Tensor[] = [];
  const ys: number[] = [];
  for (let i = b * 128; i < (b + 1) * 128; i++) {
    const [x, y] = train.get(i) as [st.Tensor, number];
    xs.push(x);
    ys.push(Number(y));
  }
  optimizer.zeroGrad();
  const loss = st.F.crossEntropy(
    model.forward(st.stack(xs)),
    st.tensor(Int32Array.from(ys), { dtype: 'int32' }),
  );
  loss.backward();
  optimizer.step();
  losses.push(loss.item());
}
console.log(JSON.stringify({ backend: st.backendInfo().backend, losses }));
