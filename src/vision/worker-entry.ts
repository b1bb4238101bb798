/** Inside a DataLoader worker: build the dataset once, then turn (indices, seeds) into batches. */
import { parentPort, workerData } from 'node:worker_threads';
import { Generator } from '../tensor/random.js';
import { defaultCollate } from '../data/collate.js';
import { checkDataset, type DatasetLike } from '../data/dataset.js';
import { encodeBatch } from './worker-pool.js';

const { module, exportName, args } = workerData as { module: string; exportName: string; args: unknown[] };
const port = parentPort!;

async function build(): Promise<DatasetLike<unknown>> {
  const spec = /^[a-z]+:/i.test(module) ? module : new URL(module, `file://${process.cwd()}/`).href;
  const mod = (await import(spec)) as Record<string, unknown>;
  const factory = mod[exportName];
  if (typeof factory !== 'function') {
    throw new Error(
      `${module} has no exported function '${exportName}' (exports: ${Object.keys(mod).join(', ')})`,
    );
  }
  const ds = (await factory(...args)) as DatasetLike<unknown>;
  checkDataset(ds, `${module}#${exportName}()`);
  return ds;
}

build().then(
  (ds) => {
    port.on('message', async (msg: { id: number; indices: Int32Array; seeds: Uint32Array }) => {
      try {
        const samples = await Promise.all(
          Array.from(msg.indices, (i, k) => ds.get(i, new Generator(msg.seeds[k]))),
        );
        const kept = samples.filter((s) => s !== null && s !== undefined);
        const transfer: ArrayBuffer[] = [];
        const batch = kept.length === 0 ? null : encodeBatch(defaultCollate(kept), transfer);
        port.postMessage({ id: msg.id, batch }, transfer);
      } catch (e) {
        port.postMessage({ id: msg.id, error: (e as Error).stack ?? String(e) });
      }
    });
    port.postMessage({ ready: true });
  },
  (e: Error) => port.postMessage({ error: `building the dataset failed: ${e.stack ?? e.message}` }),
);
