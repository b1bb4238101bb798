/** The reference backend: every kernel of the contract in plain TypeScript. */
import type { Backend } from '../backend.js';
import { adamStep } from './adam.js';
import { convBackwardInput, convBackwardWeight, convForward } from './conv.js';
import { convBlockBackward, convBlockForward } from './conv-block.js';
import { gemm } from './gemm.js';
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward } from './pool.js';

export const jsBackend: Backend = {
  name: 'js',
  info: () => ({ backend: 'js', simd: 'none', threads: 1 }),
  gemm,
  convForward,
  convBackwardInput,
  convBackwardWeight,
  convBlockForward,
  convBlockBackward,
  maxPoolForward,
  maxPoolBackward,
  avgPoolForward,
  avgPoolBackward,
  adamStep,
};
