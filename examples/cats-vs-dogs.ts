/**
 * Cats vs dogs — the blog notebook (Keras), in stride.
 *
 * The notebook reads Kaggle's dogs-vs-cats folder (`cat.N.jpg`, `dog.N.jpg`, the label in the
 * name), keeps 20% for validation (train_test_split, random_state 42), augments the training images
 * with Keras's ImageDataGenerator, and trains three Conv-BN-MaxPool-Dropout blocks (32/64/128
 * filters) and a Dense 512-BN-Dropout head with SGD, EarlyStopping(patience 10) and
 * ReduceLROnPlateau on validation accuracy.
 *
 * Kaggle's data cannot be downloaded here: `--data DIR` takes a real folder; without it the example
 * first draws its own two-class folder of JPEGs (cartoon cats and dogs with random colours, sizes,
 * positions and backgrounds — see _shared/synthetic-pets.ts) and trains on that at 64×64.
 *
 *   npx tsx examples/cats-vs-dogs.ts [--data DIR] [--epochs N] [--quick] [--out DIR]
 */
import { join } from 'node:path';
import * as st from 'stride';
import { check, exampleArgs, finish, result, secondsSince, section } from './_shared/cli.js';
import { makeGrid, savePng } from './_shared/images.js';
import { generatePets } from './_shared/synthetic-pets.js';
import { pct } from './_shared/train.js';

const NAME = 'cats-vs-dogs';
const args = exampleArgs(NAME);
const { nn, vision } = st;
const T = vision.transforms;
const SIZE = args.quick ? 32 : 64; // the notebook used 128×128 on the real photos
st.manualSeed(args.seed);
console.log(`backend: ${st.backendInfo().backend}${args.quick ? ' (quick mode)' : ''}`);

// ---------------------------------------------------------------------------------------------
section('Data: one folder, the label in the file name');
const dir =
  args.data ??
  (await generatePets(join(args.out, 'data'), {
    perClass: args.quick ? 40 : 1000,
    size: 64,
    seed: args.seed,
  }));
// ImageFiles labels `cat.12.jpg` as 'cat' (the part before the first dot), like the notebook's
// `filename.split('.')[0]`; images are decoded and resized to SIZE×SIZE when read.
const files = new vision.ImageFiles(dir, { size: [SIZE, SIZE] });
console.log(`${files.length} images in ${dir}, classes ${files.classes.join(', ')}`);
const nVal = Math.round(files.length * 0.2);
const [trainSet, valSet] = st.data.randomSplit(files, [files.length - nVal, nVal], { seed: 42 });
console.log(`train ${trainSet.length}, validation ${valSet.length} (80/20, seed 42)`);

// ImageDataGenerator(rotation_range=15, rescale=1./255, shear_range=0.1, zoom_range=0.2,
// horizontal_flip=True, width_shift_range=0.1, height_shift_range=0.1). Decoding already gives
// pixels in [0, 1], which is the rescale.
const augment = new T.Compose([
  new T.RandomAffine(15, { translate: [0.1, 0.1], scale: [0.8, 1.2], shear: 0.1, fill: 'edge' }),
  new T.RandomHorizontalFlip(),
]);
const batchSize = args.quick ? 16 : 32;
const trainLoader = new st.data.DataLoader(trainSet, {
  batchSize,
  shuffle: true,
  seed: args.seed,
  transform: augment,
});
const valLoader = new st.data.DataLoader(valSet, { batchSize: 64 });

// A look at what the network is fed: augmented training images.
let probe: st.Tensor | null = null;
let probeLabels: st.Tensor | null = null;
for await (const [x, y] of trainLoader) {
  [probe, probeLabels] = [x, y];
  break;
}
const peekPng = join(args.out, 'augmented-batch.png');
await savePng(makeGrid(probe!.slice(0, 0, Math.min(16, probe!.shape[0])), 8), peekPng, 2);
console.log(`augmented training images: ${peekPng}`);

// ---------------------------------------------------------------------------------------------
section('Model');
// Keras: Conv2D(32, (3,3), activation='relu') → BatchNormalization → MaxPooling2D(2) → Dropout(0.25),
// three times with 32, 64, 128 filters; Flatten; Dense(512, relu) → BN → Dropout(0.5); Dense(2, softmax).
function block(cIn: number, cOut: number): st.nn.Module[] {
  return [
    new nn.Conv2d(cIn, cOut, 3),
    new nn.ReLU(),
    new nn.BatchNorm2d(cOut),
    new nn.MaxPool2d(2),
    new nn.Dropout(0.25),
  ];
}
// Each block: a 3×3 convolution without padding, then a 2×2 pool: 64 → 62 → 31 → 29 → 14 → 12 → 6.
let side = SIZE;
for (let b = 0; b < 3; b++) side = st.F.poolOutputSize(st.F.convOutputSize(side, 3), 2);
const flat = 128 * side * side;
const makeModel = (): st.nn.Sequential =>
  new nn.Sequential(
    ...block(3, 32),
    ...block(32, 64),
    ...block(64, 128),
    new nn.Flatten(),
    new nn.Linear(flat, 512),
    new nn.ReLU(),
    new nn.BatchNorm1d(512),
    new nn.Dropout(0.5),
    // Keras ends with Dense(2, activation='softmax') and categorical_crossentropy on probabilities;
    // CrossEntropyLoss takes logits and applies the softmax itself, so the last layer stays linear
    // and softmax is applied only to read probabilities.
    new nn.Linear(512, 2),
  );
const model = makeModel();
console.log(st.nn.summary(model, [3, SIZE, SIZE]));
const expectedParams =
  3 * 32 * 9 +
  32 +
  2 * 32 +
  (32 * 64 * 9 + 64 + 2 * 64) +
  (64 * 128 * 9 + 128 + 2 * 128) +
  (flat * 512 + 512) +
  2 * 512 +
  (512 * 2 + 2);
check(
  `model.summary(): ${expectedParams.toLocaleString('en')} trainable parameters (Keras counts BN's moving stats too)`,
  model.numParameters() === expectedParams,
  `got ${model.numParameters().toLocaleString('en')}`,
);

// ---------------------------------------------------------------------------------------------
section(
  'Training: SGD, EarlyStopping(patience 10), ReduceLROnPlateau(val_accuracy, patience 2, ×0.5, min 1e-5)',
);
// Keras's SGD defaults to lr 0.01 without momentum; with momentum 0.9 the same budget of epochs gets
// much further, so the run here uses it.
const optimizer = new st.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const earlyStop = new st.callbacks.EarlyStopping({ patience: 10 }); // monitors val_loss, as Keras does
const reduceLr = new st.callbacks.ReduceLROnPlateau({
  monitor: 'val_accuracy',
  patience: 2,
  factor: 0.5,
  minLr: 1e-5,
  verbose: true,
});
const epochs = args.epochs ?? (args.quick ? 2 : 40);
const t0 = performance.now();
const history = await st.fit(model, {
  trainData: trainLoader,
  validationData: valLoader,
  loss: new nn.CrossEntropyLoss(),
  optimizer,
  epochs,
  metrics: ['accuracy'],
  callbacks: [earlyStop, reduceLr],
  seed: args.seed,
  verbose: args.quick ? 2 : 1,
});
const seconds = secondsSince(t0);
const h = history.history;
const ran = h.loss.length;
const valAcc = Math.max(...h.val_accuracy);
console.log(`epochs run: ${ran}${history.stopReason ? ` (${history.stopReason})` : ''}`);
console.log(`learning rates: ${[...new Set(h.lr)].join(' → ')}`);

const curves = join(args.out, 'curves.png');
await st.viz.plotCurves(history, curves, { title: 'cats vs dogs: loss and accuracy per epoch' });

// Probabilities for a few validation images, as the notebook's predict cell printed them.
model.eval();
for await (const [x, y] of valLoader) {
  const probs = st.noGrad(() => st.F.softmax(model.forward(x.slice(0, 0, 4)), 1));
  for (let i = 0; i < 4; i++) {
    console.log(
      `  ${files.classes[y.data[i]]}: P(cat) ${probs.data[2 * i].toFixed(3)}, P(dog) ${probs.data[2 * i + 1].toFixed(3)}`,
    );
  }
  break;
}
result(
  'cats-vs-dogs best validation accuracy',
  `${pct(valAcc)} (${ran} epochs, ${args.data ? 'real data' : `synthetic ${SIZE}×${SIZE}`})`,
);
result(
  'cats-vs-dogs time',
  `${seconds} s (${Math.round((trainSet.length * ran) / seconds)} img/s incl. decode, augmentation and validation, ${st.backendInfo().backend})`,
);

if (args.quick) {
  // A few noisy batches of augmented, dropped-out images say little about learning; instead, a
  // gradient check of the whole model: three small SGD steps on one fixed batch, in eval mode (no
  // dropout, batch norm as a fixed affine map), must lower that batch's loss.
  const probeModel = makeModel();
  probeModel.loadStateDict(model.stateDict());
  probeModel.eval();
  const sgd = new st.optim.SGD(probeModel.parameters(), { lr: 1e-3 });
  const lossOf = (): st.Tensor => st.F.crossEntropy(probeModel.forward(probe!), probeLabels!);
  const before = lossOf().item();
  for (let i = 0; i < 3; i++) {
    sgd.zeroGrad();
    lossOf().backward();
    sgd.step();
  }
  const after = lossOf().item();
  check(
    'three SGD steps on a fixed batch lower its loss',
    after < before,
    `${before.toFixed(4)} → ${after.toFixed(4)}`,
  );
} else {
  check(
    'training loss went down',
    h.loss[ran - 1] < h.loss[0],
    `${h.loss[0].toFixed(3)} → ${h.loss[ran - 1].toFixed(3)}`,
  );
}
check(
  'history has val_loss, val_accuracy and lr per epoch',
  ['val_loss', 'val_accuracy', 'lr'].every((k) => h[k]?.length === ran),
);
if (!args.quick && !args.data)
  check('≥ 90% validation accuracy on the generated images', valAcc >= 0.9, pct(valAcc));
finish(NAME);
