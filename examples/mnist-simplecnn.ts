/**
 * SimpleCNN on MNIST — the lecture's notebook.
 *
 * Two small convolutions (kernel 2, padding 1), one max pool and two dense layers: 1,853,034
 * parameters, almost all of them in the Linear(14400 → 128). Adam 1e-3, batch 128, seed 42,
 * a progress bar per epoch, train and validation loss per epoch plotted to PNG, then the test set.
 * PyTorch reaches 97.7% test accuracy after one epoch; the target here is ≥ 98.0% after two.
 *
 *   npx tsx examples/mnist-simplecnn.ts [--epochs N] [--quick] [--out DIR]
 */
import { join } from 'node:path';
import * as st from 'stride';
import { check, exampleArgs, finish, result, secondsSince, section, wentDown } from './_shared/cli.js';
import { evaluate, pct, Progress } from './_shared/train.js';

const NAME = 'mnist-simplecnn';
const args = exampleArgs(NAME);
const { nn } = st;
st.manualSeed(args.seed);
console.log(`backend: ${st.backendInfo().backend}${args.quick ? ' (quick mode)' : ''}`);

// ---------------------------------------------------------------------------------------------
section('Dados: MNIST, 90% treino / 10% validação');
const full = new st.vision.MNIST({ train: true }); // 60,000 images 1×28×28 in [0, 1]
const testSet = new st.vision.MNIST({ train: false });
// Quick mode: the first few hundred images only, so the whole script runs in seconds.
const pool = args.quick ? new st.data.Subset(full, st.arange(0, 96).int().data) : full;
const nVal = Math.round(pool.length * 0.1);
// NOTE: the lecture wrote `train, val = random_split(ds, [6000, 54000])` — the two sizes swapped,
// so it trained on 10% of the data and validated on 90% (stride's fit() warns about exactly this:
// the doctor's 'train-split-smaller-than-validation'). The intended split is 90/10:
const [trainSet, valSet] = st.data.randomSplit(pool, [pool.length - nVal, nVal], { seed: args.seed });
const test = args.quick ? new st.data.Subset(testSet, st.arange(0, 50).int().data) : testSet;
console.log(`train ${trainSet.length}, validation ${valSet.length}, test ${test.length}`);

const trainLoader = new st.data.DataLoader(trainSet, {
  batchSize: args.quick ? 16 : 128,
  shuffle: true,
  seed: args.seed,
});
const valLoader = new st.data.DataLoader(valSet, { batchSize: 1000 });
const testLoader = new st.data.DataLoader(test, { batchSize: 1000 });

// ---------------------------------------------------------------------------------------------
section('Modelo: SimpleCNN');
const model = new nn.Sequential(
  new nn.Conv2d(1, 32, { kernelSize: 2, padding: 1 }), // 28 → 29
  new nn.ReLU(),
  new nn.Conv2d(32, 64, { kernelSize: 2, padding: 1 }), // 29 → 30
  new nn.MaxPool2d({ kernelSize: 2, stride: 2 }), // 30 → 15
  new nn.Flatten(),
  new nn.Linear(64 * 15 * 15, 128), // 14,400 → 128
  new nn.ReLU(),
  new nn.Linear(128, 10),
);
console.log(st.nn.summary(model, [1, 28, 28]));
const nParams = model.numParameters();
check('SimpleCNN has 1,853,034 parameters', nParams === 1_853_034, `got ${nParams.toLocaleString('en')}`);

// ---------------------------------------------------------------------------------------------
section('Treino');
const criterion = new nn.CrossEntropyLoss();
const optimizer = new st.optim.Adam(model.parameters(), { lr: 1e-3 });
const epochs = args.epochs ?? 2;
const history: { loss: number[]; valLoss: number[]; valAccuracy: number[] } = {
  loss: [],
  valLoss: [],
  valAccuracy: [],
};
const batchLosses: number[] = [];
const t0 = performance.now();
for (let epoch = 0; epoch < epochs; epoch++) {
  model.train();
  const bar = new Progress(`epoch ${epoch + 1}/${epochs}`, trainLoader.length);
  let sum = 0;
  let count = 0;
  for await (const [images, labels] of trainLoader) {
    optimizer.zeroGrad();
    const outputs = model.forward(images);
    const loss = criterion.forward(outputs, labels);
    loss.backward();
    optimizer.step();
    const l = loss.item();
    batchLosses.push(l);
    sum += l * labels.shape[0];
    count += labels.shape[0];
    bar.tick(l);
  }
  bar.stop();
  const val = await evaluate(model, valLoader);
  history.loss.push(sum / count);
  history.valLoss.push(val.loss);
  history.valAccuracy.push(val.accuracy);
  console.log(
    `epoch ${epoch + 1}: train loss ${(sum / count).toFixed(4)}, validation loss ${val.loss.toFixed(4)}, validation accuracy ${pct(val.accuracy)}`,
  );
}
const seconds = secondsSince(t0);
const imagesPerSecond = Math.round((trainSet.length * epochs) / seconds);

const curves = join(args.out, 'loss-curves.png');
await st.viz.plotCurves({ loss: history.loss, valLoss: history.valLoss }, curves, {
  title: 'SimpleCNN on MNIST: loss per epoch',
});
console.log(`loss curves: ${curves}`);

// ---------------------------------------------------------------------------------------------
section('Teste');
const { accuracy } = await evaluate(model, testLoader);
console.log(`test accuracy after ${epochs} epoch(s): ${pct(accuracy)}`);
result('SimpleCNN test accuracy', `${pct(accuracy)} after ${epochs} epochs`);
result(
  'SimpleCNN training time',
  `${seconds} s (${imagesPerSecond} img/s incl. validation, ${st.backendInfo().backend})`,
);

const k = Math.min(10, batchLosses.length >> 1);
check(
  'training loss went down',
  wentDown([mean(batchLosses.slice(0, k)), mean(batchLosses.slice(-k))]),
  `first batches ${mean(batchLosses.slice(0, k)).toFixed(3)} → last ${mean(batchLosses.slice(-k)).toFixed(3)}`,
);
check('loss curves PNG written (train and validation per epoch)', history.valLoss.length === epochs, curves);
if (!args.quick) check('test accuracy ≥ 98.0%', accuracy >= 0.98, pct(accuracy));
finish(NAME);

function mean(xs: readonly number[]): number {
  return xs.reduce((s, v) => s + v, 0) / Math.max(1, xs.length);
}
