/**
 * `vision.transforms`: torchvision's transforms on CHW float tensors (browser-safe). Random ones take
 * an optional `generator` and otherwise use the one the DataLoader passes per sample.
 */
export { Compose } from './compose.js';
export { ToTensor } from './to-tensor.js';
export { Normalize } from './normalize.js';
export { Resize, resize } from './resize.js';
export type { Interpolation, ResizeOptions } from './resize.js';
export { CenterCrop, RandomCrop, RandomResizedCrop, crop, centerCrop } from './crop.js';
export type { RandomCropOptions, RandomResizedCropOptions } from './crop.js';
export { RandomHorizontalFlip, RandomVerticalFlip, hflip, vflip } from './flip.js';
export type { RandomFlipOptions } from './flip.js';
export { RandomRotation, RandomAffine, rotate, affine, warpAffine, inverseAffineMatrix } from './affine.js';
export type {
  AffineOptions,
  AffineParams,
  Fill,
  RandomAffineOptions,
  RandomRotationOptions,
} from './affine.js';
export { ColorJitter, Grayscale, rgbToGrayscale, adjustBrightness, adjustContrast } from './color.js';
export type { ColorJitterOptions } from './color.js';
export type { Transform, TransformFn, TransformLike } from '../../data/transform.js';
