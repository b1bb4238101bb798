/**
 * nn.init: fill a tensor's storage in place, like torch.nn.init, optionally from a given Generator
 * (default: the global one, seeded by `manualSeed`). Each returns the tensor. These write the data
 * directly and record nothing on the autograd tape (PyTorch runs them under no_grad too).
 */
import type { Tensor } from '../tensor/tensor.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';

export type Nonlinearity =
  | 'linear'
  | 'identity'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'convTranspose1d'
  | 'convTranspose2d'
  | 'convTranspose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leakyRelu'
  | 'selu';

export type FanMode = 'fanIn' | 'fanOut';

export interface InitOptions {
  generator?: Generator;
}

export interface KaimingOptions extends InitOptions {
  /** The negative slope of the rectifier after this layer (leakyRelu only; default 0). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

export interface XavierOptions extends InitOptions {
  gain?: number;
}

const snakeToCamel: Record<string, string> = {
  leaky_relu: 'leakyRelu',
  conv_transpose1d: 'convTranspose1d',
  conv_transpose2d: 'convTranspose2d',
  conv_transpose3d: 'convTranspose3d',
  fan_in: 'fanIn',
  fan_out: 'fanOut',
};

/** The recommended gain for a nonlinearity (PyTorch's table; 'leaky_relu' spellings accepted too). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  const nl = snakeToCamel[nonlinearity] ?? nonlinearity;
  switch (nl) {
    case 'linear':
    case 'identity':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'convTranspose1d':
    case 'convTranspose2d':
    case 'convTranspose3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number' || !Number.isFinite(slope)) {
        throw new TypeError(`calculateGain: negative slope ${String(param)} is not a valid number`);
      }
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(
        `calculateGain: unsupported nonlinearity '${String(nonlinearity)}' (expected linear, conv2d, sigmoid, tanh, relu, leakyRelu or selu)`,
      );
  }
}

/** fanIn = inputs per output unit (dim 1 × receptive field), fanOut = dim 0 × receptive field. */
export function calculateFanInAndFanOut(t: Tensor, where = 'init'): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) {
    throw new Error(
      `${where}: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape [${t.shape.join(', ')}])`,
    );
  }
  let receptive = 1;
  for (let i = 2; i < t.ndim; i++) receptive *= t.shape[i];
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

function floatData(t: Tensor, where: string): Float32Array {
  if (t.dtype !== 'float32') throw new TypeError(`${where}: expected a float32 tensor, got ${t.dtype}`);
  return t.data as Float32Array;
}

function fillUniform(t: Tensor, low: number, high: number, g: Generator, where: string): Tensor {
  const d = floatData(t, where);
  const span = high - low;
  for (let i = 0; i < d.length; i++) d[i] = low + span * g.random();
  return t;
}

function fillNormal(t: Tensor, mean: number, std: number, g: Generator, where: string): Tensor {
  const d = floatData(t, where);
  for (let i = 0; i < d.length; i++) d[i] = mean + std * g.normal();
  return t;
}

function checkFinite(where: string, name: string, v: number, min = -Infinity): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new RangeError(
      `${where}: ${name} must be a finite number${min > -Infinity ? ` >= ${min}` : ''}, got ${String(v)}`,
    );
  }
}

/** U(low, high). */
export function uniform(t: Tensor, low = 0, high = 1, options: InitOptions = {}): Tensor {
  checkFinite('init.uniform', 'low', low);
  checkFinite('init.uniform', 'high', high);
  if (high < low) throw new RangeError(`init.uniform: high (${high}) must be >= low (${low})`);
  return fillUniform(t, low, high, options.generator ?? defaultGenerator, 'init.uniform');
}

/** N(mean, std²). */
export function normal(t: Tensor, mean = 0, std = 1, options: InitOptions = {}): Tensor {
  checkFinite('init.normal', 'mean', mean);
  checkFinite('init.normal', 'std', std, 0);
  return fillNormal(t, mean, std, options.generator ?? defaultGenerator, 'init.normal');
}

export function constant(t: Tensor, value: number): Tensor {
  if (typeof value !== 'number')
    throw new TypeError(`init.constant: value must be a number, got ${typeof value}`);
  t.data.fill(value);
  return t;
}

export function zeros(t: Tensor): Tensor {
  t.data.fill(0);
  return t;
}

export function ones(t: Tensor): Tensor {
  t.data.fill(1);
  return t;
}

function fan(t: Tensor, mode: FanMode, where: string): number {
  const m = snakeToCamel[mode] ?? mode;
  if (m !== 'fanIn' && m !== 'fanOut') {
    throw new Error(`${where}: mode must be 'fanIn' or 'fanOut', got '${String(mode)}'`);
  }
  const { fanIn, fanOut } = calculateFanInAndFanOut(t, where);
  const f = m === 'fanIn' ? fanIn : fanOut;
  if (f === 0)
    throw new Error(
      `${where}: cannot initialize a tensor with zero elements (shape [${t.shape.join(', ')}])`,
    );
  return f;
}

/** He et al. uniform: U(-b, b), b = gain·√(3/fan). PyTorch's layers use a=√5, giving b = 1/√fanIn. */
export function kaimingUniform(t: Tensor, options: KaimingOptions = {}): Tensor {
  const where = 'init.kaimingUniform';
  const gain = calculateGain(options.nonlinearity ?? 'leakyRelu', options.a ?? 0);
  const bound = gain * Math.sqrt(3 / fan(t, options.mode ?? 'fanIn', where));
  return fillUniform(t, -bound, bound, options.generator ?? defaultGenerator, where);
}

/** He et al. normal: N(0, std²), std = gain/√fan. */
export function kaimingNormal(t: Tensor, options: KaimingOptions = {}): Tensor {
  const where = 'init.kaimingNormal';
  const gain = calculateGain(options.nonlinearity ?? 'leakyRelu', options.a ?? 0);
  const std = gain / Math.sqrt(fan(t, options.mode ?? 'fanIn', where));
  return fillNormal(t, 0, std, options.generator ?? defaultGenerator, where);
}

/** Glorot uniform: U(-b, b), b = gain·√(6/(fanIn+fanOut)). */
export function xavierUniform(t: Tensor, options: XavierOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t, 'init.xavierUniform');
  const bound = (options.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return fillUniform(t, -bound, bound, options.generator ?? defaultGenerator, 'init.xavierUniform');
}

/** Glorot normal: N(0, std²), std = gain·√(2/(fanIn+fanOut)). */
export function xavierNormal(t: Tensor, options: XavierOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t, 'init.xavierNormal');
  const std = (options.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
  return fillNormal(t, 0, std, options.generator ?? defaultGenerator, 'init.xavierNormal');
}

/**
 * PyTorch's default for Linear and Conv layers: weight kaimingUniform(a=√5) = U(±1/√fanIn),
 * bias U(±1/√fanIn) with the weight's fanIn.
 */
export function resetLinearOrConv(weight: Tensor, bias: Tensor | null, generator?: Generator): void {
  kaimingUniform(weight, { a: Math.sqrt(5), generator });
  if (bias !== null) {
    const { fanIn } = calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform(bias, -bound, bound, { generator });
  }
}
