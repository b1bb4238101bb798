/** `st.data`: datasets, splitting, collation and the DataLoader (browser-safe). */
export { Dataset, checkIndex } from './dataset.js';
export type { DatasetLike, BatchGetter, MaybeSample } from './dataset.js';
export { TensorDataset } from './tensor-dataset.js';
export { Subset } from './subset.js';
export { ConcatDataset } from './concat.js';
export { randomSplit } from './random-split.js';
export type { RandomSplitOptions } from './random-split.js';
export { defaultCollate, stackTensors, collateNumbers } from './collate.js';
export type { Collate } from './collate.js';
export { DataLoader } from './dataloader.js';
export type { DataLoaderOptions, Collated, BatchWorkers } from './dataloader.js';
export { applyTransform } from './transform.js';
export type { Transform, TransformFn, TransformLike } from './transform.js';
