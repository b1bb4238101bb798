/**
 * A small CNN on MNIST — a student's notebook, first as written, then corrected.
 *
 * Conv(1→8, 3, p1)-ReLU-MaxPool-Conv(8→16, 3, p1)-ReLU-MaxPool-Linear(784→10) on images normalised
 * with MNIST's mean and std (0.1307, 0.3081), batch 64, scored by accuracy and macro precision on
 * the test set. The notebook ended its model with a Softmax and fed the probabilities to
 * CrossEntropyLoss (which applies log-softmax itself), and trained with SGD lr 1e-3 for 60 epochs to
 * reach 86.8%. Here: one epoch as written, to show the doctor's warning, then the corrected model
 * (logits into the loss, Adam) for two epochs; PyTorch's corrected model reaches 97.1% after one.
 *
 *   npx tsx examples/mnist-smallcnn.ts [--epochs N] [--quick] [--out DIR]
 */
import * as st from 'stride';
import { check, exampleArgs, finish, result, secondsSince, section } from './_shared/cli.js';
import { pct, Progress } from './_shared/train.js';

const NAME = 'mnist-smallcnn';
const args = exampleArgs(NAME);
const { nn, metrics } = st;
console.log(`backend: ${st.backendInfo().backend}${args.quick ? ' (quick mode)' : ''}`);

// ---------------------------------------------------------------------------------------------
section('Datos');
const transform = new st.vision.transforms.Normalize(0.1307, 0.3081);
const trainFull = new st.vision.MNIST({ train: true, transform });
const testFull = new st.vision.MNIST({ train: false, transform });
const first = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
const trainSet = args.quick ? new st.data.Subset(trainFull, first(256)) : trainFull;
const testSet = args.quick ? new st.data.Subset(testFull, first(200)) : testFull;
const trainLoader = new st.data.DataLoader(trainSet, { batchSize: 64, shuffle: true, seed: args.seed });
const testLoader = new st.data.DataLoader(testSet, { batchSize: 1000 });
console.log(`train ${trainSet.length}, test ${testSet.length}, batch 64`);

function smallCNN(withSoftmax: boolean): st.nn.Sequential {
  const layers: st.nn.Module[] = [
    new nn.Conv2d(1, 8, { kernelSize: 3, padding: 1 }), // 28 × 28
    new nn.ReLU(),
    new nn.MaxPool2d(2), // 14 × 14
    new nn.Conv2d(8, 16, { kernelSize: 3, padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2), // 7 × 7
    new nn.Flatten(),
    new nn.Linear(16 * 7 * 7, 10),
  ];
  if (withSoftmax) layers.push(new nn.Softmax(1));
  return new nn.Sequential(...layers);
}

/** One epoch of the notebook's loop; returns the batch losses. */
async function trainEpoch(
  model: st.nn.Module,
  optimizer: st.optim.Optimizer,
  label: string,
): Promise<number[]> {
  const criterion = new nn.CrossEntropyLoss();
  const losses: number[] = [];
  const bar = new Progress(label, trainLoader.length);
  model.train();
  for await (const [images, labels] of trainLoader) {
    optimizer.zeroGrad();
    const loss = criterion.forward(model.forward(images), labels);
    loss.backward();
    optimizer.step();
    losses.push(loss.item());
    bar.tick(loss.item());
  }
  bar.stop();
  return losses;
}

/** Accuracy and macro precision over the test set, as the notebook's sklearn cell printed them. */
async function score(model: st.nn.Module): Promise<{ accuracy: number; precision: number }> {
  const accuracy = new metrics.Accuracy({ task: 'multiclass', numClasses: 10 });
  const precision = new metrics.Precision({ task: 'multiclass', numClasses: 10, average: 'macro' });
  model.eval();
  for await (const [images, labels] of testLoader) {
    const logits = st.noGrad(() => model.forward(images));
    accuracy.update(logits, labels);
    precision.update(logits, labels);
  }
  return { accuracy: accuracy.compute() as number, precision: precision.compute() as number };
}

// ---------------------------------------------------------------------------------------------
section('1. El cuaderno tal como estaba: Softmax + CrossEntropyLoss, SGD 1e-3');
st.manualSeed(args.seed);
const asWritten = smallCNN(true);
console.log(asWritten.toString());
const sgd = new st.optim.SGD(asWritten.parameters(), { lr: 1e-3 });
const warnedBefore = st.doctor.warnings.length;
const lossesAsWritten = await trainEpoch(asWritten, sgd, 'as written, epoch 1/1');
const asWrittenScore = await score(asWritten);
console.log(
  `as written, 1 epoch: test accuracy ${pct(asWrittenScore.accuracy)}, precision ${pct(asWrittenScore.precision)} ` +
    '(the notebook: 86.8% after 60 epochs)',
);
const softmaxWarning = st.doctor.warnings
  .slice(warnedBefore)
  .find((w) => w.code === 'softmax-before-cross-entropy');
check("doctor warns 'softmax-before-cross-entropy' on the notebook's model", softmaxWarning !== undefined);
result(
  'notebook as written (1 epoch)',
  `accuracy ${pct(asWrittenScore.accuracy)}, precision ${pct(asWrittenScore.precision)}`,
);

// ---------------------------------------------------------------------------------------------
section('2. Corregido: logits a la pérdida, Adam');
st.manualSeed(args.seed);
const model = smallCNN(false);
const adam = new st.optim.Adam(model.parameters(), { lr: 1e-3 });
const epochs = args.epochs ?? 2;
const losses: number[] = [];
const t0 = performance.now();
for (let epoch = 0; epoch < epochs; epoch++) {
  const l = await trainEpoch(model, adam, `corrected, epoch ${epoch + 1}/${epochs}`);
  losses.push(...l);
  const s = await score(model);
  console.log(
    `epoch ${epoch + 1}: train loss ${mean(l).toFixed(4)}, test accuracy ${pct(s.accuracy)}, precision ${pct(s.precision)}`,
  );
}
const seconds = secondsSince(t0);
const { accuracy, precision } = await score(model);
result(
  'corrected SmallCNN test accuracy',
  `${pct(accuracy)} after ${epochs} epochs (macro precision ${pct(precision)})`,
);
result(
  'corrected SmallCNN training time',
  `${seconds} s (${Math.round((trainSet.length * epochs) / seconds)} img/s incl. evaluation, ${st.backendInfo().backend})`,
);

const k = Math.max(1, Math.min(10, losses.length >> 2));
check(
  'corrected model: training loss went down',
  mean(losses.slice(-k)) < mean(losses.slice(0, k)),
  `${mean(losses.slice(0, k)).toFixed(3)} → ${mean(losses.slice(-k)).toFixed(3)}`,
);
check(
  'corrected model learns faster than the notebook’s (lower loss after the same first epoch)',
  mean(losses.slice(0, lossesAsWritten.length).slice(-k)) < mean(lossesAsWritten.slice(-k)),
);
if (!args.quick) check('corrected model reaches ≥ 97.5% test accuracy', accuracy >= 0.975, pct(accuracy));
finish(NAME);

function mean(xs: readonly number[]): number {
  return xs.reduce((s, v) => s + v, 0) / Math.max(1, xs.length);
}
