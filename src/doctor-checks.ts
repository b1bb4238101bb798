/**
 * The training doctor's checks (the warn-once registry is src/doctor.ts). Each check looks for one
 * mistake from the course notebooks that silently ruins training and warns with the fix. They are
 * called by fit() and, for the manual loop, by the optimizer (zeroGrad misplaced, NaN gradients), by
 * F.crossEntropy (probabilities in) and by Conv2d (raw pixels in). Cheap: one pass over data that the
 * op reads anyway, stopping at the first value that rules the mistake out.
 *
 * This file depends only on Tensor and the doctor, so ops and nn can call it without a cycle.
 */
import { doctor } from './doctor.js';
import type { Tensor } from './tensor/tensor.js';

export const DOCTOR_CODES = {
  softmaxBeforeCrossEntropy: 'softmax-before-cross-entropy',
  zeroGradBeforeStep: 'zero-grad-before-step',
  nonFiniteLoss: 'non-finite-loss',
  smallTrainSplit: 'train-split-smaller-than-validation',
  unnormalisedInput: 'unnormalised-input',
} as const;

const SOFTMAX_FIX =
  'CrossEntropyLoss applies log-softmax itself, so softmax is applied twice: gradients shrink and ' +
  'training stalls at a poor accuracy. Remove the final Softmax and give the loss the raw logits ' +
  '(apply softmax only to read probabilities at inference).';

/** fit(): the model's last layer is a Softmax and the loss is cross-entropy. */
export function checkSoftmaxBeforeLoss(
  lastLayerName: string | undefined,
  lossName: string | undefined,
): void {
  if (lastLayerName === 'Softmax' && lossName !== undefined && /crossentropy/i.test(lossName)) {
    doctor.warn(
      DOCTOR_CODES.softmaxBeforeCrossEntropy,
      `the model ends in Softmax and is trained with ${lossName}. ${SOFTMAX_FIX}`,
    );
  }
}

/**
 * F.crossEntropy's input: every row (along dim 1) is non-negative and sums to 1, so the "logits" are
 * probabilities. Bails out at the first negative value or row that does not sum to 1.
 */
export function checkCrossEntropyInput(input: Tensor, where = 'crossEntropy'): void {
  if (!doctor.enabled || input.ndim < 1) return;
  const classDim = input.ndim === 1 ? 0 : 1;
  const C = input.shape[classDim];
  if (C < 2) return;
  const inner = input.shape.slice(classDim + 1).reduce((a, b) => a * b, 1);
  const outer = input.numel() / (C * inner);
  const d = input.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let s = 0;
      for (let c = 0; c < C; c++) {
        const v = d[(o * C + c) * inner + i];
        if (!(v >= 0 && v <= 1)) return;
        s += v;
      }
      if (Math.abs(s - 1) > 1e-3) return;
    }
  }
  doctor.warn(
    DOCTOR_CODES.softmaxBeforeCrossEntropy,
    `${where}: the input rows are probabilities (each sums to 1). ${SOFTMAX_FIX}`,
  );
}

/**
 * Raw pixel values (0..255) fed to the network: a float image batch [N, C, H, W] with no negative
 * value and a maximum above 2. Normalised inputs lie in [0, 1] or are standardised (so have negatives).
 * Returns whether it warned.
 */
export function checkInputRange(x: Tensor, where: string): boolean {
  if (!doctor.enabled || x.ndim !== 4 || x.dtype !== 'float32') return false;
  if (doctor.given(DOCTOR_CODES.unnormalisedInput)) return false;
  // Every training batch is checked until the doctor warns, so look at a strided sample of at most
  // ~1k values first (a full scan cost 3% of a small CNN's step; raw pixels show a maximum above 2
  // and standardised ones negatives in any such sample), and at all of them only to confirm.
  const d = x.data;
  const sampled = rangeOf(d, Math.max(1, Math.floor(d.length / 1024)));
  if (sampled.min < 0 || !(sampled.max > 2)) return false;
  const { min, max } = rangeOf(d, 1);
  if (min < 0) return false;
  return doctor.warn(
    DOCTOR_CODES.unnormalisedInput,
    `${where}: the input images range from 0 to ${max} and were never normalised, which makes training ` +
      'slow and unstable. Scale pixels to [0, 1] (divide by 255, or vision.transforms.ToTensor) and ' +
      'standardise them (transforms.Normalize with the dataset mean and std).',
  );
}

/** Min and max of every step-th value of d (NaN never counts). */
function rangeOf(d: ArrayLike<number>, step: number): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < d.length; i += step) {
    const v = d[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** Conv2d in training mode: only the network's input (a tensor that no op produced) is checked. */
export function checkConvInput(x: Tensor, where: string): void {
  if (x.gradFn === null && !x.requiresGrad) checkInputRange(x, where);
}

/** fit(): the training split is smaller than the validation split (random_split's arguments swapped). */
export function checkSplitSizes(trainLength: number, validationLength: number): void {
  if (validationLength > 0 && trainLength < validationLength) {
    doctor.warn(
      DOCTOR_CODES.smallTrainSplit,
      `fit: the training data has ${trainLength} samples but the validation data has ${validationLength}: ` +
        'are the split sizes swapped? Train on the larger part, e.g. randomSplit(ds, [0.8, 0.2]) gives ' +
        '[train, validation].',
    );
  }
}

/** fit(): a non-finite loss, with where it happened. Returns whether the loss is finite. */
export function checkLossFinite(loss: number, epoch: number, batch: number): boolean {
  if (Number.isFinite(loss)) return true;
  doctor.warn(
    DOCTOR_CODES.nonFiniteLoss,
    `fit: the loss became ${loss} at epoch ${epoch + 1}, batch ${batch + 1}, and the weights are ruined ` +
      'from here on. Lower the learning rate, check the inputs for NaN, and compute the loss from logits ' +
      '(CrossEntropyLoss, BCEWithLogitsLoss) rather than log(softmax); add callbacks.TerminateOnNaN to stop at once.',
  );
  return false;
}
