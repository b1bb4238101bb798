/**
 * Relatório do curso — the student report (Portuguese), part by part:
 *
 *   basics       tensors, autograd, and a Linear(2,8)-ReLU-Linear(8,1) that learns to add two numbers
 *   dataset      a custom Dataset and a DataLoader (batch 2, shuffled)
 *   mlp          Fashion-MNIST with an MLP (784-1000-10, SGD)
 *   cnn          Fashion-MNIST with a CNN (Adam, ±10 px shifts), including
 *                the report's bug — zeroGrad() between backward() and step() — and the doctor catching it
 *   autoencoder  a dense autoencoder (784-128-64-3) and a convolutional VAE, with PNG grids
 *   colorize     a small grey → colour autoencoder on the generated animal pictures of cats-vs-dogs
 *
 *   npx tsx examples/course-report.ts [--part basics --part cnn ...] [--quick] [--out DIR]
 */
import { join } from 'node:path';
import * as st from 'stride';
import { check, exampleArgs, finish, result, secondsSince, section, wentDown } from './_shared/cli.js';
import { makeGrid, savePng } from './_shared/images.js';
import { generatePets } from './_shared/synthetic-pets.js';
import { evaluate, pct, Progress } from './_shared/train.js';

const NAME = 'course-report';
const PARTS = ['basics', 'dataset', 'mlp', 'cnn', 'autoencoder', 'colorize'] as const;
const args = exampleArgs(NAME);
const { nn, F } = st;
for (const p of args.parts) {
  if (!(PARTS as readonly string[]).includes(p)) {
    console.error(`${NAME}: unknown --part '${p}'; the parts are ${PARTS.join(', ')}`);
    process.exit(2);
  }
}
const wanted = (p: (typeof PARTS)[number]): boolean => args.parts.length === 0 || args.parts.includes(p);
console.log(`backend: ${st.backendInfo().backend}${args.quick ? ' (quick mode)' : ''}`);

if (wanted('basics')) basics();
if (wanted('dataset')) await dataset();
if (wanted('mlp')) await fashionMlp();
if (wanted('cnn')) await fashionCnn();
if (wanted('autoencoder')) await autoencoders();
if (wanted('colorize')) await colorize();
finish(NAME);

// =============================================================================================
function basics(): void {
  section('Tensores');
  st.manualSeed(args.seed);
  const a = st.tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  console.log(`a = ${a}, shape [${a.shape}], dtype ${a.dtype}`);
  console.log(`zeros ${st.zeros([2, 3])}\nones ${st.ones([2, 3])}\nrand ${st.rand([2, 3])}`);
  console.log(`a + 10 = ${a.add(10)}\na * a = ${a.mul(a)}\na @ aᵀ = ${a.matmul(a.t())}`);
  console.log(
    `a.reshape(3, 2) = ${a.reshape([3, 2])}\na.sum(0) = ${a.sum(0)}, a.mean() = ${a.mean().item()}`,
  );
  check(
    'tensor basics: a @ aᵀ = [[14, 32], [32, 77]], a.sum(0) = [5, 7, 9]',
    same(a.matmul(a.t()).data, [14, 32, 32, 77]) && same(a.sum(0).data, [5, 7, 9]),
  );

  // Autograd: y = Σ x², so dy/dx = 2x.
  const x = st.tensor([1, 2, 3], { requiresGrad: true });
  const y = x.pow(2).sum();
  y.backward();
  console.log(`x = ${x}, y = Σx² = ${y.item()}, dy/dx = ${x.grad}`);
  check('autograd: d(Σx²)/dx = 2x = [2, 4, 6]', same(x.grad!.data, [2, 4, 6]));

  section('Regressão: a soma de dois números');
  // The report's network: two inputs, eight hidden ReLU units, one output; MSE and plain SGD, 1000
  // full-batch epochs on a handful of pairs. The queries lie outside the training range, so this
  // also shows that a ReLU network extrapolates a linear function linearly.
  st.manualSeed(args.seed);
  const X = st.tensor([
    [1, 2],
    [2, 3],
    [3, 4],
    [4, 5],
    [5, 6],
    [6, 7],
    [1, 5],
    [5, 1],
    [2, 7],
    [7, 2],
  ]);
  const Y = X.sum(1, true); // [[3], [5], ...]
  const model = new nn.Sequential(new nn.Linear(2, 8), new nn.ReLU(), new nn.Linear(8, 1));
  const optimizer = new st.optim.SGD(model.parameters(), { lr: 0.01 });
  const lossFn = new nn.MSELoss();
  const losses: number[] = [];
  for (let epoch = 0; epoch < 1000; epoch++) {
    optimizer.zeroGrad();
    const loss = lossFn.forward(model.forward(X), Y);
    loss.backward();
    optimizer.step();
    losses.push(loss.item());
    if (epoch % 200 === 0 || epoch === 999) console.log(`epoch ${epoch + 1}: loss ${loss.item().toFixed(6)}`);
  }
  const queries = st.tensor([
    [8, 9],
    [10, 11],
    [12, 13],
    [14, 15],
  ]);
  const predicted = st.noGrad(() => model.forward(queries));
  const expected = [17, 21, 25, 29];
  const errors = expected.map((e, i) => Math.abs(predicted.data[i] - e));
  for (let i = 0; i < 4; i++) {
    console.log(`${queries.data[2 * i]} + ${queries.data[2 * i + 1]} ≈ ${predicted.data[i].toFixed(3)}`);
  }
  check(
    'regression loss went down over 1000 epochs',
    wentDown(losses),
    `${losses[0].toFixed(2)} → ${losses[999].toExponential(2)}`,
  );
  check(
    'regression predicts [8,9],[10,11],[12,13],[14,15] as 17, 21, 25, 29 within 0.5',
    errors.every((e) => e < 0.5),
    `max error ${Math.max(...errors).toFixed(3)}`,
  );
}

// =============================================================================================
async function dataset(): Promise<void> {
  section('Dataset e DataLoader');
  // A custom dataset is a class with `length` and `get(i)`, as PyTorch's __len__ and __getitem__.
  class SquaresDataset extends st.data.Dataset<[st.Tensor, st.Tensor]> {
    readonly length = 10;
    get(i: number): [st.Tensor, st.Tensor] {
      return [st.tensor([i]), st.tensor([i * i])];
    }
  }
  const ds = new SquaresDataset();
  console.log(`len(dataset) = ${ds.length}, dataset[3] = (${ds.get(3)[0]}, ${ds.get(3)[1]})`);
  const loader = new st.data.DataLoader(ds, { batchSize: 2, shuffle: true, seed: args.seed });
  const seen: number[] = [];
  let shapesOk = true;
  for (let epoch = 0; epoch < 2; epoch++) {
    const order: number[] = [];
    for await (const [x, y] of loader) {
      console.log(`epoch ${epoch + 1}: x ${fmt(x)} y ${fmt(y)}`);
      shapesOk &&= x.shape[0] === 2 && x.shape[1] === 1 && y.data.every((v, k) => v === x.data[k] ** 2);
      order.push(...x.data);
    }
    if (epoch === 0) seen.push(...order);
  }
  check('DataLoader gives 5 batches of [2, 1] pairs (x, x²)', shapesOk && seen.length === 10);
  check(
    'shuffled epoch visits every sample exactly once, not in order',
    same(
      [...seen].sort((p, q) => p - q),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    ) && !same(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
  );
}

// =============================================================================================
/** Fashion-MNIST as the report loaded it; quick mode (the test suite, on the slow js backend too)
 * keeps a few batches, enough to see learning. */
function fashionData(transform?: st.vision.transforms.Normalize) {
  const nTrain = args.quick ? 256 : 60000;
  const nTest = args.quick ? 100 : 10000;
  const train = subset(new st.vision.FashionMNIST({ train: true, transform }), nTrain);
  const test = subset(new st.vision.FashionMNIST({ train: false, transform }), nTest);
  const testLoader = new st.data.DataLoader(test, { batchSize: 1000 });
  console.log(`train ${train.length} images, test ${test.length} images`);
  return { nTrain, train, testLoader, lossFn: new nn.CrossEntropyLoss() };
}

async function fashionMlp(): Promise<void> {
  section('Fashion-MNIST: MLP 784-1000-10, SGD');
  // Pixels scaled to [-1, 1] (Normalize(0.5, 0.5), as PyTorch's Fashion-MNIST tutorial does): plain
  // SGD on raw [0, 1] pixels at batch 32 stops at 84.0% after 5 epochs (83.1% at batch 64).
  const { nTrain, train, testLoader, lossFn } = fashionData(new st.vision.transforms.Normalize(0.5, 0.5));
  const batchSize = 32;

  // --- MLP: flatten, 784 → 1000 → 10, SGD lr 1e-2, 5 epochs.
  st.manualSeed(args.seed);
  const mlp = new nn.Sequential(
    new nn.Flatten(),
    new nn.Linear(784, 1000),
    new nn.ReLU(),
    new nn.Linear(1000, 10),
  );
  const mlpEpochs = args.epochs ?? (args.quick ? 2 : 5);
  const mlpOpt = new st.optim.SGD(mlp.parameters(), { lr: 1e-2 });
  const trainLoader = new st.data.DataLoader(train, { batchSize, shuffle: true, seed: args.seed });
  const t0 = performance.now();
  const mlpLosses: number[] = [];
  for (let epoch = 0; epoch < mlpEpochs; epoch++) {
    const bar = new Progress(`MLP epoch ${epoch + 1}/${mlpEpochs}`, trainLoader.length);
    for await (const [x, y] of trainLoader) {
      mlpOpt.zeroGrad();
      const loss = lossFn.forward(mlp.forward(x), y);
      loss.backward();
      mlpOpt.step();
      mlpLosses.push(loss.item());
      bar.tick(loss.item());
    }
    bar.stop();
    const { accuracy } = await evaluate(mlp, testLoader);
    console.log(
      `MLP epoch ${epoch + 1}: train loss ${mean(mlpLosses.slice(-trainLoader.length)).toFixed(4)}, test accuracy ${pct(accuracy)}`,
    );
  }
  const mlpSeconds = secondsSince(t0);
  const mlpAcc = (await evaluate(mlp, testLoader)).accuracy;
  check('MLP training loss went down', firstVsLast(mlpLosses));
  result('fashion MLP test accuracy', pct(mlpAcc));
  result('fashion MLP time', `${mlpSeconds} s (${Math.round((nTrain * mlpEpochs) / mlpSeconds)} img/s)`);
  if (!args.quick) check('MLP reaches ≥ 85% test accuracy', mlpAcc >= 0.85, pct(mlpAcc));
}

async function fashionCnn(): Promise<void> {
  section('Fashion-MNIST: CNN with ±10 px shifts, Adam');
  const { nTrain, testLoader, lossFn } = fashionData();
  const cnn = (): st.nn.Sequential =>
    new nn.Sequential(
      new nn.Conv2d(1, 64, 3),
      new nn.MaxPool2d(2),
      new nn.Conv2d(64, 128, 3),
      new nn.MaxPool2d(2),
      new nn.ReLU(),
      new nn.Flatten(),
      new nn.Linear(3200, 256),
      new nn.ReLU(),
      new nn.Linear(256, 10),
    );
  // The report's augmentation: every training image once as it is and once shifted horizontally by
  // up to ±10 px (ConcatDataset of the two), so an epoch sees 120,000 images. Shifting every image
  // instead costs accuracy on the centred test images: 86.5% after 3 epochs.
  const nAug = args.quick ? 48 : nTrain;
  const shifted = new st.data.ConcatDataset([
    subset(new st.vision.FashionMNIST({ train: true }), nAug),
    subset(
      new st.vision.FashionMNIST({
        train: true,
        transform: new st.vision.transforms.RandomAffine(0, { translatePx: [10, 0] }),
      }),
      nAug,
    ),
  ]);
  const augLoader = new st.data.DataLoader(shifted, {
    batchSize: args.quick ? 16 : 64,
    shuffle: true,
    seed: args.seed,
  });

  // The report's loop, as it was written: zero_grad() between backward() and step(). Every step
  // sees zero gradients, so the weights never move (the report ended at 11.75%, i.e. chance).
  st.manualSeed(args.seed);
  const broken = cnn();
  const brokenOpt = new st.optim.Adam(broken.parameters(), { lr: 1e-3 });
  const before = broken.stateDict()['0.weight'].clone();
  const brokenBatches = args.quick ? 2 : 50;
  let b = 0;
  for await (const [x, y] of augLoader) {
    const loss = lossFn.forward(broken.forward(x), y);
    loss.backward();
    brokenOpt.zeroGrad(); // ← the bug: this erases the gradients backward() just computed
    brokenOpt.step();
    if (++b >= brokenBatches) break;
  }
  const unchanged = same(broken.stateDict()['0.weight'].data, before.data);
  const brokenAcc = (await evaluate(broken, testLoader)).accuracy;
  console.log(
    `report's loop after ${brokenBatches} batches: weights unchanged = ${unchanged}, test accuracy ${pct(brokenAcc)}`,
  );
  check(
    "doctor warns 'zero-grad-before-step' on the report's loop",
    st.doctor.warnings.some((w) => w.code === 'zero-grad-before-step'),
  );
  check("the report's loop leaves the weights unchanged", unchanged);

  // The correct order: zeroGrad(), forward, backward(), step().
  st.manualSeed(args.seed);
  const model = cnn();
  const optimizer = new st.optim.Adam(model.parameters(), { lr: 1e-3 });
  const cnnEpochs = args.epochs ?? (args.quick ? 1 : 4);
  const cnnLosses: number[] = [];
  const t0 = performance.now();
  for (let epoch = 0; epoch < cnnEpochs; epoch++) {
    const bar = new Progress(`CNN epoch ${epoch + 1}/${cnnEpochs}`, augLoader.length);
    for await (const [x, y] of augLoader) {
      optimizer.zeroGrad();
      const loss = lossFn.forward(model.forward(x), y);
      loss.backward();
      optimizer.step();
      cnnLosses.push(loss.item());
      bar.tick(loss.item());
    }
    bar.stop();
    const { accuracy } = await evaluate(model, testLoader);
    console.log(
      `CNN epoch ${epoch + 1}: train loss ${mean(cnnLosses.slice(-augLoader.length)).toFixed(4)}, test accuracy ${pct(accuracy)}`,
    );
  }
  const cnnSeconds = secondsSince(t0);
  const cnnAcc = (await evaluate(model, testLoader)).accuracy;
  check('CNN training loss went down (correct loop)', firstVsLast(cnnLosses));
  result('fashion CNN test accuracy', pct(cnnAcc));
  result(
    'fashion CNN time',
    `${cnnSeconds} s (${Math.round((shifted.length * cnnEpochs) / cnnSeconds)} img/s)`,
  );
  if (!args.quick) check('CNN reaches ≥ 90% test accuracy', cnnAcc >= 0.9, pct(cnnAcc));
}

// =============================================================================================
async function autoencoders(): Promise<void> {
  section('Autoencoder (784-128-64-3) em Fashion-MNIST');
  const n = args.quick ? 256 : 60000;
  const epochs = args.epochs ?? (args.quick ? 2 : 5);
  // Pixels scaled to [-1, 1] so that the decoder's final Tanh can reach them.
  const norm = new st.vision.transforms.Normalize(0.5, 0.5);
  const train = subset(new st.vision.FashionMNIST({ train: true, transform: norm }), n);
  const loader = new st.data.DataLoader(train, {
    batchSize: args.quick ? 32 : 128,
    shuffle: true,
    seed: args.seed,
  });
  st.manualSeed(args.seed);
  const encoder = new nn.Sequential(
    new nn.Linear(784, 128),
    new nn.ReLU(),
    new nn.Linear(128, 64),
    new nn.ReLU(),
    new nn.Linear(64, 3),
  );
  const decoder = new nn.Sequential(
    new nn.Linear(3, 64),
    new nn.ReLU(),
    new nn.Linear(64, 128),
    new nn.ReLU(),
    new nn.Linear(128, 784),
    new nn.Tanh(),
  );
  const optimizer = new st.optim.Adam([...encoder.parameters(), ...decoder.parameters()], { lr: 1e-3 });
  const losses: number[] = [];
  const t0 = performance.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    const bar = new Progress(`AE epoch ${epoch + 1}/${epochs}`, loader.length);
    for await (const [x] of loader) {
      const flat = x.flatten(1);
      optimizer.zeroGrad();
      const loss = F.mseLoss(decoder.forward(encoder.forward(flat)), flat);
      loss.backward();
      optimizer.step();
      losses.push(loss.item());
      bar.tick(loss.item());
    }
    bar.stop();
    console.log(`AE epoch ${epoch + 1}: reconstruction MSE ${mean(losses.slice(-loader.length)).toFixed(4)}`);
  }
  result('autoencoder final MSE', mean(losses.slice(-loader.length)).toFixed(4));
  result('autoencoder time', `${secondsSince(t0)} s`);
  // Originals (top row) and their reconstructions through the 3-number bottleneck (bottom row).
  const test = new st.vision.FashionMNIST({ train: false, transform: norm });
  const originals = st.stack(Array.from({ length: 10 }, (_, i) => test.get(i * 97)[0]));
  const recon = st
    .noGrad(() => decoder.forward(encoder.forward(originals.flatten(1))))
    .reshape([10, 1, 28, 28]);
  const aePng = join(args.out, 'autoencoder-reconstructions.png');
  await savePng(makeGrid(st.cat([originals, recon]).add(1).mul(0.5), 10), aePng, 3);
  check('autoencoder loss went down', firstVsLast(losses));
  check('autoencoder grid of originals vs reconstructions written', true, aePng);

  section('Autoencoder variacional convolucional');
  const latent = 16;
  const vaeTrain = subset(new st.vision.FashionMNIST({ train: true }), args.quick ? 128 : n);
  const vaeLoader = new st.data.DataLoader(vaeTrain, {
    batchSize: args.quick ? 32 : 128,
    shuffle: true,
    seed: args.seed,
  });
  st.manualSeed(args.seed);
  const enc = new nn.Sequential(
    new nn.Conv2d(1, 32, { kernelSize: 4, stride: 2, padding: 1 }), // 28 → 14
    new nn.ReLU(),
    new nn.Conv2d(32, 64, { kernelSize: 4, stride: 2, padding: 1 }), // 14 → 7
    new nn.ReLU(),
    new nn.Flatten(),
  );
  const toMu = new nn.Linear(64 * 7 * 7, latent);
  const toLogVar = new nn.Linear(64 * 7 * 7, latent);
  const dec = new nn.Sequential(
    new nn.Linear(latent, 64 * 7 * 7),
    new nn.ReLU(),
    new nn.Unflatten(1, [64, 7, 7]),
    new nn.ConvTranspose2d(64, 32, { kernelSize: 4, stride: 2, padding: 1 }), // 7 → 14
    new nn.ReLU(),
    new nn.ConvTranspose2d(32, 1, { kernelSize: 4, stride: 2, padding: 1 }), // 14 → 28
    new nn.Sigmoid(),
  );
  const vaeParams = [enc, toMu, toLogVar, dec].flatMap((m) => m.parameters());
  const vaeOpt = new st.optim.Adam(vaeParams, { lr: 1e-3 });
  const vaeLosses: number[] = [];
  const t1 = performance.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    const bar = new Progress(`VAE epoch ${epoch + 1}/${epochs}`, vaeLoader.length);
    for await (const [x] of vaeLoader) {
      vaeOpt.zeroGrad();
      const h = enc.forward(x);
      const mu = toMu.forward(h);
      const logVar = toLogVar.forward(h);
      // Reparameterisation: z = μ + σ·ε with ε ~ N(0, 1), so the sampling step has a gradient.
      const z = mu.add(logVar.mul(0.5).exp().mul(st.randn(mu.shape)));
      const xHat = dec.forward(z);
      const rec = F.bceLoss(xHat, x, { reduction: 'sum' });
      // KL(q(z|x) ‖ N(0, 1)) = −½ Σ (1 + log σ² − μ² − σ²)
      const kl = logVar.add(1).sub(mu.pow(2)).sub(logVar.exp()).sum().mul(-0.5);
      const loss = rec.add(kl).div(x.shape[0]);
      loss.backward();
      vaeOpt.step();
      vaeLosses.push(loss.item());
      bar.tick(loss.item());
    }
    bar.stop();
    console.log(
      `VAE epoch ${epoch + 1}: loss per image ${mean(vaeLosses.slice(-vaeLoader.length)).toFixed(2)}`,
    );
  }
  result('VAE final loss per image', mean(vaeLosses.slice(-vaeLoader.length)).toFixed(2));
  result('VAE time', `${secondsSince(t1)} s`);
  dec.eval();
  const samples = st.noGrad(() => dec.forward(st.randn([64, latent])));
  const vaePng = join(args.out, 'vae-samples.png');
  await savePng(makeGrid(samples, 8), vaePng, 3);
  check('VAE loss went down', firstVsLast(vaeLosses));
  check('VAE generates [64, 1, 28, 28] samples (grid written)', same(samples.shape, [64, 1, 28, 28]), vaePng);
}

// =============================================================================================
async function colorize(): Promise<void> {
  section('Colorização: cinza → cor');
  // The same generated pictures as examples/cats-vs-dogs.ts (or --data DIR): the network sees the
  // grey image and has to guess the colours back.
  const size = args.quick ? 32 : 64;
  const dir =
    args.data ??
    (await generatePets(join(args.out, 'pets'), {
      perClass: args.quick ? 48 : 1000,
      size: 64,
      seed: args.seed,
    }));
  const files = new st.vision.ImageFiles(dir, { size: [size, size] });
  const images: st.Tensor[] = [];
  for (let i = 0; i < files.length; i++) {
    const s = await files.get(i);
    if (s) images.push(s[0]);
  }
  const colour = st.stack(images); // [N, 3, H, W]
  const grey = st.vision.transforms.rgbToGrayscale(colour); // [N, 1, H, W]
  const nVal = Math.max(8, Math.floor(images.length * 0.1));
  const valGrey = grey.slice(0, 0, nVal);
  const valColour = colour.slice(0, 0, nVal);
  const train = new st.data.TensorDataset(grey.slice(0, nVal), colour.slice(0, nVal));
  const loader = new st.data.DataLoader(train, {
    batchSize: args.quick ? 16 : 32,
    shuffle: true,
    seed: args.seed,
  });
  console.log(`${images.length} images of ${size}×${size}: ${train.length} to train, ${nVal} to look at`);

  st.manualSeed(args.seed);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 32, { kernelSize: 3, stride: 2, padding: 1 }), // H → H/2
    new nn.ReLU(),
    new nn.Conv2d(32, 64, { kernelSize: 3, stride: 2, padding: 1 }), // → H/4
    new nn.ReLU(),
    new nn.ConvTranspose2d(64, 32, { kernelSize: 4, stride: 2, padding: 1 }), // → H/2
    new nn.ReLU(),
    new nn.ConvTranspose2d(32, 3, { kernelSize: 4, stride: 2, padding: 1 }), // → H
    new nn.Sigmoid(),
  );
  const optimizer = new st.optim.Adam(model.parameters(), { lr: 2e-3 });
  const epochs = args.epochs ?? (args.quick ? 4 : 20);
  const losses: number[] = [];
  const t0 = performance.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    for await (const [g, c] of loader) {
      optimizer.zeroGrad();
      const loss = F.mseLoss(model.forward(g), c);
      loss.backward();
      optimizer.step();
      losses.push(loss.item());
    }
    if (epoch % 5 === 4 || epoch === epochs - 1) {
      console.log(`colorize epoch ${epoch + 1}: MSE ${mean(losses.slice(-loader.length)).toFixed(4)}`);
    }
  }
  model.eval();
  const predicted = st.noGrad(() => model.forward(valGrey));
  const valMse = F.mseLoss(predicted, valColour).item();
  // The baseline a colourless guess reaches: the grey value copied into R, G and B.
  const greyMse = F.mseLoss(valGrey.expand([nVal, 3, size, size]), valColour).item();
  console.log(`held-out MSE ${valMse.toFixed(4)} (grey copied to RGB: ${greyMse.toFixed(4)})`);
  result('colorize held-out MSE', `${valMse.toFixed(4)} vs grey baseline ${greyMse.toFixed(4)}`);
  result('colorize time', `${secondsSince(t0)} s`);
  const k = Math.min(8, nVal);
  const rows = st.cat([
    valGrey.slice(0, 0, k).expand([k, 3, size, size]),
    predicted.slice(0, 0, k),
    valColour.slice(0, 0, k),
  ]);
  const png = join(args.out, 'colorize.png');
  await savePng(makeGrid(rows, k), png, 2);
  check('colorization loss went down', firstVsLast(losses));
  check(
    'colorization grid (grey / predicted / true) written',
    same(predicted.shape, [nVal, 3, size, size]),
    png,
  );
  if (!args.quick) check('colorization beats copying the grey value', valMse < greyMse);
}

// =============================================================================================
// Helpers

function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  return a.length === b.length && Array.from(a).every((v, i) => v === b[i]);
}

function fmt(t: st.Tensor): string {
  return `[${Array.from(t.data).join(', ')}]`;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((s, v) => s + v, 0) / Math.max(1, xs.length);
}

/** Mean of the first few batch losses vs the last few: training made progress. */
function firstVsLast(losses: readonly number[]): boolean {
  const k = Math.max(1, Math.min(10, Math.floor(losses.length / 4)));
  return losses.every(Number.isFinite) && mean(losses.slice(-k)) < mean(losses.slice(0, k));
}

/** The first n samples of a dataset (all of it when n ≥ its length). */
function subset<T>(ds: st.data.DatasetLike<T>, n: number): st.data.DatasetLike<T> {
  if (n >= ds.length) return ds;
  return new st.data.Subset(
    ds,
    Int32Array.from({ length: n }, (_, i) => i),
  );
}
