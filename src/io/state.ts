/**
 * State dicts and training checkpoints as safetensors bytes (browser-safe: no Node imports; the file
 * functions in ./index.ts wrap these).
 *
 * A state dict is written with PyTorch's names, dtypes and shapes so that
 * `safetensors.torch.load_file` and `model.load_state_dict` read it unchanged: float32 as F32, int32 as
 * I32, except `*.num_batches_tracked`, which PyTorch keeps as int64 and is written as I64.
 *
 * A checkpoint is one safetensors file:
 * - `model.<key>`: the model's state dict, so `{k[6:]: v for k, v in f.items() if k.startswith('model.')}`
 *   is a PyTorch state dict;
 * - `optimizer.<path>`, `scheduler.<path>`, ...: every tensor (or Float32Array/Int32Array/...) found
 *   anywhere inside the optimizer's, scheduler's or `extra` state, named by its path;
 * - `__metadata__`: everything else as JSON strings (`epoch`, `optimizer`, `scheduler`, `history`,
 *   `rng`, `extra`), with tensors replaced by references to their names, and NaN/±Infinity kept.
 */
import { Tensor } from '../tensor/tensor.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  f16BitsToFloat,
  bf16BitsToFloat,
  SafetensorsError,
  type RawTensor,
} from './safetensors.js';

/** Anything that saves and restores its state as PyTorch objects do (Module, Optimizer, LR scheduler). */
export interface Stateful {
  stateDict(): Record<string, unknown>;
  loadStateDict(stateDict: Record<string, unknown>): unknown;
}

/** A random generator whose whole state can be captured (stride's Generator). */
export interface RngLike {
  getState(): unknown;
  setState(state: never): void;
}

function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isStateful(x: unknown): x is Stateful {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as Stateful).stateDict === 'function' &&
    typeof (x as Stateful).loadStateDict === 'function'
  );
}

function isRng(x: unknown): x is RngLike {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as RngLike).getState === 'function' &&
    typeof (x as RngLike).setState === 'function'
  );
}

// ---------------------------------------------------------------------------------------------------
// State dicts

/** PyTorch keeps these counters as int64; writing them as I64 lets `load_state_dict` take them as is. */
function isInt64Name(name: string): boolean {
  return name === 'num_batches_tracked' || name.endsWith('.num_batches_tracked');
}

function tensorToRaw(name: string, t: Tensor): RawTensor {
  if (t.data instanceof Float32Array) return { dtype: 'F32', shape: [...t.shape], data: t.data };
  if (t.data instanceof Int32Array) {
    return { dtype: isInt64Name(name) ? 'I64' : 'I32', shape: [...t.shape], data: t.data };
  }
  throw new SafetensorsError(`tensor '${name}': cannot save storage of type ${describe(t.data)}`);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'object';
}

/** A state dict's tensors as RawTensors (sharing their storage: encode them before changing it). */
export function stateDictToRaw(stateDict: Record<string, Tensor>): Record<string, RawTensor> {
  const raw: Record<string, RawTensor> = {};
  for (const [name, t] of Object.entries(stateDict)) {
    if (!(t instanceof Tensor)) {
      throw new SafetensorsError(`state dict entry '${name}' is not a Tensor (got ${describe(t)})`);
    }
    setOwn(raw, name, tensorToRaw(name, t));
  }
  return raw;
}

function rawToTensor(name: string, r: RawTensor): Tensor {
  const d = r.data;
  if (r.dtype === 'F32' || r.dtype === 'F64') {
    return new Tensor(d instanceof Float32Array ? d : Float32Array.from(d as Float64Array), r.shape);
  }
  if (r.dtype === 'F16' || r.dtype === 'BF16') {
    if (d instanceof Float32Array) return new Tensor(d, r.shape);
    return new Tensor(
      Float32Array.from(d as Uint16Array, r.dtype === 'F16' ? f16BitsToFloat : bf16BitsToFloat),
      r.shape,
    );
  }
  if (d instanceof Int32Array) return new Tensor(d, r.shape);
  if (d instanceof BigInt64Array) {
    const out = new Int32Array(d.length);
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (v > 2147483647n || v < -2147483648n) {
        throw new SafetensorsError(
          `tensor '${name}': ${r.dtype} value ${v} at index ${i} does not fit in int32`,
        );
      }
      out[i] = Number(v);
    }
    return new Tensor(out, r.shape);
  }
  // I16, I8, U8, BOOL
  return new Tensor(Int32Array.from(d as Int16Array), r.shape);
}

/** RawTensors as Tensors: floating dtypes become float32, integer and bool dtypes int32. */
export function rawToStateDict(raw: Record<string, RawTensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, r] of Object.entries(raw)) setOwn(out, name, rawToTensor(name, r));
  return out;
}

/** A state dict (or anything with `stateDict()`, such as a Module) as safetensors bytes. */
export function encodeStateDict(
  stateDict: Record<string, Tensor> | { stateDict(): Record<string, unknown> },
  metadata: Record<string, string> = {},
): Uint8Array {
  const sd = hasStateDict(stateDict) ? (stateDict.stateDict() as Record<string, Tensor>) : stateDict;
  return encodeSafetensors(stateDictToRaw(sd), { format: 'pt', ...metadata });
}

function hasStateDict(x: unknown): x is { stateDict(): Record<string, unknown> } {
  return typeof x === 'object' && x !== null && typeof (x as Stateful).stateDict === 'function';
}

/** safetensors bytes as a state dict of Tensors, with the file's metadata. */
export function decodeStateDict(bytes: Uint8Array): {
  stateDict: Record<string, Tensor>;
  metadata: Record<string, string>;
} {
  const { tensors, metadata } = decodeSafetensors(bytes, { floatsToF32: true });
  return { stateDict: rawToStateDict(tensors), metadata };
}

// ---------------------------------------------------------------------------------------------------
// Checkpoints

export interface CheckpointState {
  /** The model, or its state dict. */
  model: Stateful | Record<string, Tensor>;
  optimizer?: Stateful;
  scheduler?: Stateful;
  epoch: number;
  /** Per-epoch metrics or anything JSON-like (NaN and ±Infinity survive). */
  history?: unknown;
  /** A Generator (its `getState()` is saved) or any JSON-like random state. */
  rng?: RngLike | unknown;
  /** Anything else worth keeping; tensors and typed arrays in it go to the tensor section. */
  extra?: Record<string, unknown>;
}

export interface Checkpoint {
  model: Record<string, Tensor>;
  optimizer?: Record<string, unknown>;
  scheduler?: Record<string, unknown>;
  epoch: number;
  history?: unknown;
  rng?: unknown;
  extra?: Record<string, unknown>;
  /** The file's raw `__metadata__`. */
  metadata: Record<string, string>;
}

/** Where loadCheckpoint/restoreCheckpoint put the state back. */
export interface RestoreTargets {
  model?: Stateful;
  optimizer?: Stateful;
  scheduler?: Stateful;
  rng?: RngLike;
}

export const CHECKPOINT_VERSION = '1';

/** The marker key of placeholders in the JSON: `{"__stride__": "tensor", "key": "optimizer.state.0.exp_avg"}`. */
const MARK = '__stride__';

/** Typed arrays found in a state are saved as 1-D tensors of these dtypes and restored as the same class. */
const TYPED_ARRAY_DTYPES = {
  Float32Array: 'F32',
  Float64Array: 'F64',
  Int32Array: 'I32',
  Uint8Array: 'U8',
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAY_DTYPES;

function typedArrayName(x: unknown): TypedArrayName | undefined {
  if (x instanceof Float32Array) return 'Float32Array';
  if (x instanceof Float64Array) return 'Float64Array';
  if (x instanceof Int32Array) return 'Int32Array';
  if (x instanceof Uint8Array) return 'Uint8Array';
  return undefined;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Split a JSON-like value into JSON text and tensors: each Tensor (or typed array) found in it is
 * stored under `prefix.<path>` and replaced by a reference; non-finite numbers are kept as markers.
 */
function flatten(value: unknown, prefix: string, tensors: Record<string, RawTensor>): string {
  const uniqueName = (path: string): string => {
    let name = path;
    for (let i = 1; Object.prototype.hasOwnProperty.call(tensors, name); i++) name = `${path}#${i}`;
    return name;
  };
  const walk = (v: unknown, path: string, seen: Set<object>): unknown => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : { [MARK]: 'number', value: String(v) };
    if (v === undefined) return { [MARK]: 'undefined' };
    if (v instanceof Tensor) {
      const name = uniqueName(path);
      setOwn(tensors, name, tensorToRaw(name, v));
      return { [MARK]: 'tensor', key: name };
    }
    const ta = typedArrayName(v);
    if (ta) {
      const name = uniqueName(path);
      const data = v as Float32Array | Float64Array | Int32Array | Uint8Array;
      setOwn(tensors, name, { dtype: TYPED_ARRAY_DTYPES[ta], shape: [data.length], data });
      return { [MARK]: 'array', type: ta, key: name };
    }
    if (typeof v !== 'object') {
      throw new SafetensorsError(`checkpoint: cannot save the ${typeof v} at '${path}'`);
    }
    if (seen.has(v)) throw new SafetensorsError(`checkpoint: '${path}' refers back to itself`);
    seen.add(v);
    try {
      if (Array.isArray(v)) return v.map((item, i) => walk(item, `${path}.${i}`, seen));
      if (!isPlainObject(v)) {
        throw new SafetensorsError(
          `checkpoint: cannot save the ${describe(v)} at '${path}' (only plain objects, arrays, numbers, strings, Tensors)`,
        );
      }
      if (Object.prototype.hasOwnProperty.call(v, MARK)) {
        throw new SafetensorsError(
          `checkpoint: '${path}' has a key named '${MARK}', which checkpoints reserve`,
        );
      }
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) setOwn(out, k, walk(item, `${path}.${k}`, seen));
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return JSON.stringify(walk(value, prefix, new Set()));
}

/** The inverse of flatten: parse the JSON and put the tensors back. */
function unflatten(json: string, field: string, tensors: Record<string, RawTensor>): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new SafetensorsError(
      `checkpoint: metadata '${field}' is not valid JSON: ${(err as Error).message}`,
    );
  }
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if (Object.prototype.hasOwnProperty.call(o, MARK)) {
      const kind = o[MARK];
      if (kind === 'number') return Number(o.value);
      if (kind === 'undefined') return undefined;
      if (kind === 'tensor' || kind === 'array') {
        const key = o.key;
        if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(tensors, key)) {
          throw new SafetensorsError(
            `checkpoint: metadata '${field}' refers to a missing tensor ${JSON.stringify(key)}`,
          );
        }
        const raw = tensors[key]!;
        if (kind === 'tensor') return rawToTensor(key, raw);
        const type = o.type;
        if (typeof type !== 'string' || raw.data.constructor.name !== type || !typedArrayName(raw.data)) {
          throw new SafetensorsError(
            `checkpoint: tensor '${key}' (${raw.dtype}) cannot be restored as array type ${JSON.stringify(type)}`,
          );
        }
        return raw.data;
      }
      throw new SafetensorsError(
        `checkpoint: metadata '${field}' has an unknown marker ${JSON.stringify(kind)}`,
      );
    }
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(o)) setOwn(out, k, walk(item));
    return out;
  };
  return walk(parsed);
}

/** Encode a training checkpoint (see the module comment for the layout). */
export function encodeCheckpoint(state: CheckpointState): Uint8Array {
  if (typeof state.epoch !== 'number' || !Number.isFinite(state.epoch)) {
    throw new SafetensorsError(`checkpoint: epoch must be a number, got ${describe(state.epoch)}`);
  }
  const tensors: Record<string, RawTensor> = {};
  const modelSd = isStateful(state.model) ? state.model.stateDict() : state.model;
  if (typeof modelSd !== 'object' || modelSd === null) {
    throw new SafetensorsError('checkpoint: model must be a Module or a state dict');
  }
  for (const [k, t] of Object.entries(modelSd)) {
    if (!(t instanceof Tensor)) {
      throw new SafetensorsError(
        `checkpoint: model state dict entry '${k}' is not a Tensor (got ${describe(t)})`,
      );
    }
    setOwn(tensors, `model.${k}`, tensorToRaw(k, t));
  }
  const metadata: Record<string, string> = {
    format: 'pt',
    'stride.checkpoint': CHECKPOINT_VERSION,
    epoch: String(state.epoch),
  };
  const parts: [string, unknown][] = [
    ['optimizer', state.optimizer?.stateDict()],
    ['scheduler', state.scheduler?.stateDict()],
    ['history', state.history],
    ['rng', isRng(state.rng) ? state.rng.getState() : state.rng],
    ['extra', state.extra],
  ];
  for (const [field, value] of parts) {
    if (value !== undefined) metadata[field] = flatten(value, field, tensors);
  }
  return encodeSafetensors(tensors, metadata);
}

/**
 * Decode a checkpoint. A plain safetensors file with `model.`-prefixed tensors (from PyTorch, say) is
 * accepted too: its epoch is 0 and the rest absent.
 */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  // Floats stay as stored here (F64 arrays come back exact); rawToTensor converts to float32.
  const { tensors, metadata } = decodeSafetensors(bytes);
  const model: Record<string, Tensor> = {};
  for (const [k, r] of Object.entries(tensors)) {
    if (k.startsWith('model.')) setOwn(model, k.slice(6), rawToTensor(k, r));
  }
  let epoch = 0;
  if (metadata.epoch !== undefined) {
    epoch = Number(metadata.epoch);
    if (metadata.epoch.trim() === '' || !Number.isFinite(epoch)) {
      throw new SafetensorsError(
        `checkpoint: metadata 'epoch' is not a number: ${JSON.stringify(metadata.epoch)}`,
      );
    }
  }
  const ckpt: Checkpoint = { model, epoch, metadata };
  const get = (field: string): unknown =>
    Object.prototype.hasOwnProperty.call(metadata, field)
      ? unflatten(metadata[field]!, field, tensors)
      : undefined;
  const optimizer = get('optimizer');
  const scheduler = get('scheduler');
  const history = get('history');
  const rng = get('rng');
  const extra = get('extra');
  if (optimizer !== undefined) ckpt.optimizer = optimizer as Record<string, unknown>;
  if (scheduler !== undefined) ckpt.scheduler = scheduler as Record<string, unknown>;
  if (history !== undefined) ckpt.history = history;
  if (rng !== undefined) ckpt.rng = rng;
  if (extra !== undefined) ckpt.extra = extra as Record<string, unknown>;
  return ckpt;
}

/** Put a decoded checkpoint's state back into a model, optimizer, scheduler and generator. */
export function restoreCheckpoint(ckpt: Checkpoint, into: RestoreTargets): void {
  if (into.model) into.model.loadStateDict(ckpt.model);
  const restore = (field: 'optimizer' | 'scheduler', target: Stateful | undefined): void => {
    if (!target) return;
    const sd = ckpt[field];
    if (sd === undefined) throw new SafetensorsError(`checkpoint: no ${field} state to restore`);
    target.loadStateDict(sd);
  };
  restore('optimizer', into.optimizer);
  restore('scheduler', into.scheduler);
  if (into.rng) {
    if (ckpt.rng === undefined) throw new SafetensorsError('checkpoint: no rng state to restore');
    into.rng.setState(ckpt.rng as never);
  }
}
