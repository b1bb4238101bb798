/** The two benchmark models (issue: m1 = seed 000's SimpleCNN, m2 = the student notebook's SmallCNN). */
import * as st from '../src/node.js';
import { modelSpec } from '../src/cli/models.js';

// The same architectures `stride train --model simple-cnn|small-cnn` builds, from one definition.
export const simpleCNN = (): st.nn.Sequential => modelSpec('simple-cnn').build();
export const smallCNN = (): st.nn.Sequential => modelSpec('small-cnn').build();

export interface Throughput {
  trainImgS: number;
  inferImgS: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Runs fn at least once and for `ms` milliseconds: scratch buffers and the thread pool are ready
 * after one call, but V8 takes a few hundred small steps to finish optimising the
 * TypeScript side (M2's training ran ~20% below its steady rate over its first 400 steps).
 * PyTorch's anchor warms up for 10 M2 steps, its Python side having no JIT to wait for.
 */
function warmUp(fn: () => void, ms: number): void {
  const t0 = performance.now();
  do fn();
  while (performance.now() - t0 < ms);
}

/**
 * Training images/s (forward + backward + Adam step on MNIST-shaped random data) and inference
 * images/s (batch 1000, no grad): median over `repeats` timed windows after a warm-up.
 */
export function benchModel(
  build: () => st.nn.Sequential,
  trainBatch: number,
  options: { repeats: number; stepsPerWindow: number; inferBatches: number; warmupMs: number },
): Throughput {
  st.manualSeed(0);
  const model = build();
  const optimizer = new st.optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = st.rand([trainBatch, 1, 28, 28]);
  const y = st.randint(0, 10, [trainBatch]);
  const step = (): void => {
    optimizer.zeroGrad();
    const loss = st.F.crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
  };
  model.train();
  warmUp(step, options.warmupMs);
  const train: number[] = [];
  for (let r = 0; r < options.repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < options.stepsPerWindow; i++) step();
    train.push((options.stepsPerWindow * trainBatch) / ((performance.now() - t0) / 1000));
  }

  model.eval();
  const xi = st.rand([1000, 1, 28, 28]);
  warmUp(() => st.noGrad(() => model.forward(xi)), options.warmupMs);
  const infer: number[] = [];
  for (let r = 0; r < options.repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < options.inferBatches; i++) st.noGrad(() => model.forward(xi));
    infer.push((options.inferBatches * 1000) / ((performance.now() - t0) / 1000));
  }
  return { trainImgS: median(train), inferImgS: median(infer) };
}

/**
 * RSS (MB) after each of `epochs` training epochs of `stepsPerEpoch` steps (M1's memory check:
 * flat after the first epoch means nothing accumulates: no graph, gradient or buffer kept alive).
 */
export function rssPerEpoch(
  build: () => st.nn.Sequential,
  batch: number,
  epochs: number,
  stepsPerEpoch: number,
): number[] {
  st.manualSeed(0);
  const model = build();
  const optimizer = new st.optim.Adam(model.parameters(), { lr: 1e-3 });
  const rss: number[] = [];
  for (let e = 0; e < epochs; e++) {
    for (let i = 0; i < stepsPerEpoch; i++) {
      const x = st.rand([batch, 1, 28, 28]);
      const y = st.randint(0, 10, [batch]);
      optimizer.zeroGrad();
      st.F.crossEntropy(model.forward(x), y).backward();
      optimizer.step();
    }
    rss.push(process.memoryUsage().rss / 2 ** 20);
  }
  return rss;
}
