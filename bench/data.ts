/**
 * Data pipeline throughput: how many MNIST images per second the DataLoader delivers, plain (the
 * in-memory fast path) and with the course notebooks' augmentation (RandomAffine: rotation 15°,
 * shifts 0.1, zoom 0.2, shear 0.1), so it can be compared with training throughput: data must
 * never be the bottleneck. Run alone: `node --import tsx bench/data.ts`.
 */
import { pathToFileURL } from 'node:url';
import { DataLoader } from '../src/data/dataloader.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { MNIST } from '../src/vision/mnist.js';
import { RandomAffine } from '../src/vision/transforms/affine.js';
import { Compose } from '../src/vision/transforms/compose.js';
import { Normalize } from '../src/vision/transforms/normalize.js';

export interface DataBenchResult {
  plainImgS: number;
  augmentedImgS: number;
}

/** Images per second over `limit` images (a warm-up batch first, not timed). */
async function throughput(loader: AsyncIterable<[Tensor, Tensor]>, limit: number): Promise<number> {
  let n = 0;
  let t0 = 0;
  let checksum = 0;
  for await (const [x] of loader) {
    if (t0 === 0) {
      t0 = performance.now();
      continue;
    }
    n += x.shape[0];
    checksum += x.data[0];
    if (n >= limit) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (!Number.isFinite(checksum)) throw new Error('benchDataLoader: non-finite data');
  return n / seconds;
}

/** MNIST with the notebooks' augmentation; also the module a worker pool builds its dataset from. */
export function augmentedMnist(): MNIST {
  return new MNIST({
    train: true,
    transform: new Compose([
      new RandomAffine(15, { translate: [0.1, 0.1], scale: [0.8, 1.2], shear: 0.1 }),
      new Normalize(0.1307, 0.3081),
    ]),
  });
}

export async function benchDataLoader(): Promise<DataBenchResult> {
  const plain = new MNIST({ train: true });
  const plainImgS = await throughput(new DataLoader(plain, { batchSize: 64, shuffle: true, seed: 0 }), 60000);
  const augmentedImgS = await throughput(
    new DataLoader(augmentedMnist(), { batchSize: 64, shuffle: true, seed: 0 }),
    20000,
  );
  return { plainImgS, augmentedImgS };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchDataLoader();
  console.log(
    `DataLoader, MNIST batch 64, shuffled: ${Math.round(r.plainImgS).toLocaleString('en')} img/s plain`,
  );
  console.log(
    `DataLoader, MNIST + RandomAffine + Normalize: ${Math.round(r.augmentedImgS).toLocaleString('en')} img/s`,
  );
}
