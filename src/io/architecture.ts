/**
 * Models that load without code: a Sequential (nested too) of built-in layers is described as JSON
 * (`{ type: 'Conv2d', args: [1, 32, [2, 2]], options: { padding: [1, 1] } }`), stored in the
 * safetensors file's `__metadata__` under `stride.architecture` next to the weights, and rebuilt
 * by `loadModel(path)`. Only constructor arguments are recorded, never code, so a file can never
 * run anything: an unknown type is an error.
 *
 *   await saveModel(model, 'model.safetensors', { inputShape: [1, 28, 28], classNames });
 *   const { model, inputShape, classNames } = await loadModelWithInfo('model.safetensors');
 */
import { Module, typeName } from '../nn/module.js';
import * as nn from '../nn/index.js';
import { loadWithMetadata, save, type SaveOptions } from './index.js';

/** One module's description: its class, constructor arguments and (for containers) children. */
export interface ArchitectureNode {
  type: string;
  args?: unknown[];
  options?: Record<string, unknown>;
  /** Sequential's children, in order, with their names. */
  children?: [string, ArchitectureNode][];
}

export const ARCHITECTURE_KEY = 'stride.architecture';
export const INPUT_SHAPE_KEY = 'stride.inputShape';
export const CLASS_NAMES_KEY = 'stride.classNames';

type AnyLayer = Module & Record<string, unknown>;

interface LayerCodec {
  describe(m: AnyLayer): Omit<ArchitectureNode, 'type' | 'children'>;
  build(args: unknown[], options: Record<string, unknown>): Module;
}

const noArgs = (ctor: new () => Module): LayerCodec => ({ describe: () => ({}), build: () => new ctor() });

function convCodec(ctor: new (i: number, o: number, k: number[], opts: object) => Module): LayerCodec {
  return {
    describe: (m) => ({
      args: [m.inChannels, m.outChannels, m.kernelSize],
      options: {
        stride: m.stride,
        padding: m.padding,
        dilation: m.dilation,
        groups: m.groups,
        bias: m.bias !== null,
        ...(m.transposed ? { outputPadding: m.outputPadding } : {}),
      },
    }),
    build: (a, o) => new ctor(a[0] as number, a[1] as number, a[2] as number[], o),
  };
}

function maxPoolCodec(ctor: new (k: unknown, o: object) => Module): LayerCodec {
  return {
    describe: (m) => ({
      args: [m.kernelSize],
      options: { stride: m.stride, padding: m.padding, dilation: m.dilation, ceilMode: m.ceilMode },
    }),
    build: (a, o) => new ctor(a[0], o),
  };
}

function batchNormCodec(ctor: new (n: number, o: object) => Module): LayerCodec {
  return {
    describe: (m) => ({
      args: [m.numFeatures],
      options: { eps: m.eps, momentum: m.momentum, affine: m.affine, trackRunningStats: m.trackRunningStats },
    }),
    build: (a, o) => new ctor(a[0] as number, o),
  };
}

const CODECS: Record<string, LayerCodec> = {
  Conv1d: convCodec(nn.Conv1d as never),
  Conv2d: convCodec(nn.Conv2d as never),
  Conv3d: convCodec(nn.Conv3d as never),
  ConvTranspose2d: convCodec(nn.ConvTranspose2d as never),
  MaxPool1d: maxPoolCodec(nn.MaxPool1d as never),
  MaxPool2d: maxPoolCodec(nn.MaxPool2d as never),
  MaxPool3d: maxPoolCodec(nn.MaxPool3d as never),
  AvgPool2d: {
    describe: (m) => ({
      args: [m.kernelSize],
      options: {
        stride: m.stride,
        padding: m.padding,
        ceilMode: m.ceilMode,
        countIncludePad: m.countIncludePad,
        divisorOverride: m.divisorOverride,
      },
    }),
    build: (a, o) => new nn.AvgPool2d(a[0] as number, o),
  },
  AdaptiveAvgPool2d: {
    describe: (m) => ({ args: [m.outputSize] }),
    build: (a) => new nn.AdaptiveAvgPool2d(a[0] as number),
  },
  AdaptiveMaxPool2d: {
    describe: (m) => ({ args: [m.outputSize] }),
    build: (a) => new nn.AdaptiveMaxPool2d(a[0] as number),
  },
  BatchNorm1d: batchNormCodec(nn.BatchNorm1d),
  BatchNorm2d: batchNormCodec(nn.BatchNorm2d),
  Dropout: {
    describe: (m) => ({ args: [m.p] }),
    build: (a) => new nn.Dropout(a[0] as number),
  },
  Linear: {
    describe: (m) => ({ args: [m.inFeatures, m.outFeatures], options: { bias: m.bias !== null } }),
    build: (a, o) => new nn.Linear(a[0] as number, a[1] as number, o),
  },
  Identity: noArgs(nn.Identity),
  Flatten: {
    describe: (m) => ({ args: [m.startDim, m.endDim] }),
    build: (a) => new nn.Flatten(a[0] as number, a[1] as number),
  },
  Unflatten: {
    describe: (m) => ({ args: [m.dim, m.sizes] }),
    build: (a) => new nn.Unflatten(a[0] as number, a[1] as number[]),
  },
  ReLU: noArgs(nn.ReLU),
  Sigmoid: noArgs(nn.Sigmoid),
  Tanh: noArgs(nn.Tanh),
  LeakyReLU: {
    describe: (m) => ({ args: [m.negativeSlope] }),
    build: (a) => new nn.LeakyReLU(a[0] as number),
  },
  GELU: {
    describe: (m) => ({ options: { approximate: m.approximate } }),
    build: (_a, o) => new nn.GELU(o as { approximate?: 'none' | 'tanh' }),
  },
  ELU: {
    describe: (m) => ({ args: [m.alpha] }),
    build: (a) => new nn.ELU(a[0] as number),
  },
  Softmax: { describe: (m) => ({ args: [m.dim] }), build: (a) => new nn.Softmax(a[0] as number) },
  LogSoftmax: { describe: (m) => ({ args: [m.dim] }), build: (a) => new nn.LogSoftmax(a[0] as number) },
  Upsample: {
    describe: (m) => ({
      options: Object.fromEntries(
        Object.entries({
          size: m.size,
          scaleFactor: m.scaleFactor,
          mode: m.mode,
          alignCorners: m.alignCorners,
        }).filter(([, v]) => v !== undefined),
      ),
    }),
    build: (_a, o) => new nn.Upsample(o as nn.UpsampleOptions),
  },
};

/** The layer types `describeModel` can record and `buildModel` can rebuild. */
export function supportedLayers(): string[] {
  return ['Sequential', ...Object.keys(CODECS)].sort();
}

/**
 * The JSON description of a Sequential of built-in layers. A custom module anywhere in it is an
 * error naming its path, since its forward is code that no file can carry.
 */
export function describeModel(model: Module, path = ''): ArchitectureNode {
  if (!(model instanceof Module)) {
    throw new TypeError(`describeModel: expected a Module, got ${model === null ? 'null' : typeof model}`);
  }
  const type = typeName(model);
  const at = path === '' ? `the model (${type})` : `${path} (${type})`;
  if (model instanceof nn.Sequential && type === 'Sequential') {
    return {
      type,
      children: model
        .namedChildren()
        .map(([name, child]) => [name, describeModel(child, path ? `${path}.${name}` : name)]),
    };
  }
  const codec = CODECS[type];
  // The class must be the built-in one, not a subclass that happens to share the name.
  const builtin = (nn as unknown as Record<string, unknown>)[type];
  if (codec === undefined || builtin === undefined || model.constructor !== builtin) {
    throw new Error(
      `describeModel: ${at} is not a built-in layer, so its architecture cannot be recorded ` +
        '(only Sequential models of built-in layers can; save the weights with save() and rebuild the model in code)',
    );
  }
  const d = codec.describe(model as AnyLayer);
  return { type, ...d };
}

/** Rebuilds a model from its description (fresh weights: load the state dict into it). */
export function buildModel(node: unknown, path = ''): Module {
  const where = `buildModel: ${path === '' ? 'the model' : path}`;
  if (typeof node !== 'object' || node === null || typeof (node as ArchitectureNode).type !== 'string') {
    throw new Error(`${where}: expected an object with a string "type", got ${JSON.stringify(node)}`);
  }
  const n = node as ArchitectureNode;
  if (n.type === 'Sequential') {
    if (!Array.isArray(n.children)) throw new Error(`${where}: a Sequential needs a "children" list`);
    const children: Record<string, Module> = {};
    for (const entry of n.children) {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
        throw new Error(`${where}: each child must be [name, description], got ${JSON.stringify(entry)}`);
      }
      children[entry[0]] = buildModel(entry[1], path ? `${path}.${entry[0]}` : entry[0]);
    }
    const seq = new nn.Sequential();
    // Numbered children keep their positions (seq[2]); named ones are registered under their names.
    for (const [name, m] of Object.entries(children)) {
      if (name === String(seq.length)) seq.append(m);
      else seq.registerModule(name, m);
    }
    return seq;
  }
  const codec = Object.prototype.hasOwnProperty.call(CODECS, n.type) ? CODECS[n.type] : undefined;
  if (codec === undefined) {
    throw new Error(`${where}: unknown layer type '${n.type}' (known: ${supportedLayers().join(', ')})`);
  }
  const args = n.args ?? [];
  const options = n.options ?? {};
  if (!Array.isArray(args) || typeof options !== 'object' || options === null) {
    throw new Error(`${where} (${n.type}): "args" must be a list and "options" an object`);
  }
  try {
    return codec.build(args, options);
  } catch (err) {
    throw new Error(`${where} (${n.type}): ${(err as Error).message}`, { cause: err });
  }
}

export interface SaveModelOptions extends SaveOptions {
  /** One input's shape without the batch dimension ([1, 28, 28]), for predict and summary. */
  inputShape?: readonly number[];
  /** Class names in output order, for predict and the confusion matrix. */
  classNames?: readonly string[];
}

/** Saves the weights with the architecture (and input shape / class names) in the metadata. */
export async function saveModel(
  model: Module,
  file: string | URL,
  options: SaveModelOptions = {},
): Promise<void> {
  const metadata: Record<string, string> = {
    ...options.metadata,
    [ARCHITECTURE_KEY]: JSON.stringify(describeModel(model)),
  };
  if (options.inputShape) metadata[INPUT_SHAPE_KEY] = JSON.stringify([...options.inputShape]);
  if (options.classNames) metadata[CLASS_NAMES_KEY] = JSON.stringify([...options.classNames]);
  await save(model, file, { metadata });
}

export interface LoadedModel {
  model: Module;
  inputShape: number[] | null;
  classNames: string[] | null;
  metadata: Record<string, string>;
}

function parseJson(file: string, key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(
      `loadModel: ${file}: the metadata entry '${key}' is not valid JSON (${(err as Error).message})`,
    );
  }
}

/** loadModel() plus the recorded input shape, class names and raw metadata. */
export async function loadModelWithInfo(file: string | URL): Promise<LoadedModel> {
  const p = typeof file === 'string' ? file : file.pathname;
  const { stateDict, metadata } = await loadWithMetadata(file);
  const arch = metadata[ARCHITECTURE_KEY];
  if (arch === undefined) {
    throw new Error(
      `loadModel: ${p} has no '${ARCHITECTURE_KEY}' metadata, so the model cannot be rebuilt from the file alone; ` +
        'build the model in code and use model.loadStateDict(await load(path))',
    );
  }
  let model: Module;
  try {
    model = buildModel(parseJson(p, ARCHITECTURE_KEY, arch));
    model.loadStateDict(stateDict);
  } catch (err) {
    throw new Error(`loadModel: ${p}: ${(err as Error).message}`, { cause: err });
  }
  const shape =
    metadata[INPUT_SHAPE_KEY] === undefined ? null : parseJson(p, INPUT_SHAPE_KEY, metadata[INPUT_SHAPE_KEY]);
  const names =
    metadata[CLASS_NAMES_KEY] === undefined ? null : parseJson(p, CLASS_NAMES_KEY, metadata[CLASS_NAMES_KEY]);
  if (shape !== null && !(Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d > 0))) {
    throw new Error(
      `loadModel: ${p}: '${INPUT_SHAPE_KEY}' must be a list of positive integers, got ${metadata[INPUT_SHAPE_KEY]}`,
    );
  }
  if (names !== null && !(Array.isArray(names) && names.every((s) => typeof s === 'string'))) {
    throw new Error(
      `loadModel: ${p}: '${CLASS_NAMES_KEY}' must be a list of strings, got ${metadata[CLASS_NAMES_KEY]}`,
    );
  }
  return { model, inputShape: shape as number[] | null, classNames: names as string[] | null, metadata };
}

/** Rebuilds a model saved by saveModel() (or `stride train`) from the file alone. */
export async function loadModel(file: string | URL): Promise<Module> {
  return (await loadModelWithInfo(file)).model;
}
