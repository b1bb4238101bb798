/**
 * `optim`: optimizers and learning-rate schedulers, as torch.optim. The manual loop:
 *
 *   const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
 *   opt.zeroGrad(); loss.backward(); opt.step();
 */
export { Optimizer } from './optimizer.js';
export type { OptimizerStateDict, ParamGroup, ParamGroupSpec, ParamsInput, ParamState } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { Adam, AdamW } from './adam.js';
export type { AdamOptions } from './adam.js';
export { RMSprop } from './rmsprop.js';
export type { RMSpropOptions } from './rmsprop.js';
export {
  LRScheduler,
  StepLR,
  MultiStepLR,
  ExponentialLR,
  CosineAnnealingLR,
  LinearLR,
} from './lr_scheduler.js';
export { OneCycleLR } from './one_cycle.js';
export type { OneCycleLROptions } from './one_cycle.js';
export { ReduceLROnPlateau } from './plateau.js';
export type { ReduceLROnPlateauOptions } from './plateau.js';
