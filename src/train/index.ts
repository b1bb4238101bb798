/**
 * Training: fit() with callbacks and progress, evaluate(), predict(), History, and the doctor's
 * checks (browser-safe; the Node additions are in ./node.ts).
 */
export { fit, evaluate, predict, setDefaultProgress } from './fit.js';
export type { FitOptions, EvaluateOptions, LossLike, MetricLike, SchedulerLike } from './fit.js';
export { History } from './history.js';
export type { Logs, EpochRecord, BatchRecord } from './history.js';
export type { DataInput, BatchSource } from './data.js';
export { ProgressCallback, LineProgress } from './progress-base.js';
export * as callbacks from './callbacks/index.js';
export { DOCTOR_CODES } from '../doctor-checks.js';
