/**
 * randomSplit: disjoint random subsets, like torch.utils.data.random_split. Lengths are counts
 * summing to the dataset's length, or fractions summing to 1, in which case each part gets
 * ⌊f·n⌋ and the remainder is dealt one by one round-robin from the first part, as PyTorch does.
 */
import { Generator, defaultGenerator } from '../tensor/random.js';
import { checkDataset, type DatasetLike } from './dataset.js';
import { Subset } from './subset.js';

export interface RandomSplitOptions {
  /** Seeds a private generator: the same seed gives the same split. */
  seed?: number;
  /** A generator to draw from (ignored when `seed` is given); default: the global one. */
  generator?: Generator;
}

export function randomSplit<T>(
  dataset: DatasetLike<T>,
  lengths: readonly number[],
  options: RandomSplitOptions = {},
): Subset<T>[] {
  checkDataset(dataset, 'randomSplit');
  const n = dataset.length;
  if (!Array.isArray(lengths) || lengths.length === 0) {
    throw new Error('randomSplit: lengths must be a non-empty array of counts or fractions');
  }
  if (lengths.some((l) => typeof l !== 'number' || !Number.isFinite(l) || l < 0)) {
    throw new Error(`randomSplit: lengths must be non-negative numbers, got [${lengths.join(', ')}]`);
  }
  const total = lengths.reduce((a, b) => a + b, 0);
  let counts: number[];
  if (Math.abs(total - 1) < 1e-9 && total !== n) {
    counts = lengths.map((f) => Math.floor(n * f));
    const remainder = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) counts[i % counts.length] += 1;
  } else {
    if (lengths.some((l) => !Number.isInteger(l))) {
      throw new Error(
        `randomSplit: lengths [${lengths.join(', ')}] are neither integer counts nor fractions summing to 1`,
      );
    }
    counts = [...lengths];
  }
  const sum = counts.reduce((a, b) => a + b, 0);
  if (sum !== n) {
    throw new Error(
      `randomSplit: sum of input lengths (${sum}) does not equal the length of the input dataset (${n})`,
    );
  }
  const g =
    options.seed !== undefined ? new Generator(options.seed) : (options.generator ?? defaultGenerator);
  const perm = g.permutation(n);
  const parts: Subset<T>[] = [];
  let offset = 0;
  for (const c of counts) {
    parts.push(new Subset(dataset, perm.subarray(offset, offset + c)));
    offset += c;
  }
  return parts;
}
