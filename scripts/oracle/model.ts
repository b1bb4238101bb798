/**
 * Handler for model.json: whole models. Each case gives PyTorch's printed architecture; we build
 * the same model from that text with stride's layers (so a new case needs no code), load the
 * state dict, and check the train-mode logits, the cross-entropy loss, every parameter gradient,
 * the state dict after one Adam step (running statistics and num_batches_tracked included) and the
 * eval-mode logits after it.
 */
import { Tensor } from '../../src/tensor/tensor.js';
import { noGrad } from '../../src/autograd/graph.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { Adam } from '../../src/optim/adam.js';
import * as nn from '../../src/nn/index.js';
import {
  isOracleTensor,
  registerHandler,
  toTensor,
  type OracleCase,
  type OracleContext,
  type OracleTensor,
} from './registry.js';

/** A model whose forward runs its children in order (the shape of both oracle models). */
class ReprModel extends nn.Module {
  constructor(readonly reprName: string) {
    super();
  }
  override forward(x: Tensor): Tensor {
    for (const c of this.children()) x = c.forward(x);
    return x;
  }
}

type Arg = number | boolean | number[] | string | null;

/** Splits `a, b=(1, 2), c` at top-level commas. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function parseValue(v: string): Arg {
  if (v === 'True') return true;
  if (v === 'False') return false;
  if (v === 'None') return null;
  if (v.startsWith('(')) return splitTop(v.slice(1, -1)).map(Number);
  if (/^'.*'$/.test(v)) return v.slice(1, -1);
  const n = Number(v);
  if (Number.isNaN(n)) throw new Error(`model: cannot parse the value '${v}'`);
  return n;
}

/** One leaf layer from PyTorch's repr, e.g. `Conv2d(1, 4, kernel_size=(2, 2), stride=(1, 1))`. */
function buildLayer(type: string, argText: string): nn.Module {
  const pos: Arg[] = [];
  const kw: Record<string, Arg> = {};
  for (const part of splitTop(argText)) {
    const eq = part.indexOf('=');
    if (eq > 0 && /^[a-z_]+$/.test(part.slice(0, eq))) kw[part.slice(0, eq)] = parseValue(part.slice(eq + 1));
    else pos.push(parseValue(part));
  }
  const num = (v: Arg | undefined, d: number): number => (v === undefined ? d : (v as number));
  const tup = (v: Arg | undefined, d: number): number | number[] =>
    v === undefined ? d : (v as number | number[]);
  switch (type) {
    case 'Conv1d':
    case 'Conv2d':
    case 'Conv3d': {
      const C = type === 'Conv1d' ? nn.Conv1d : type === 'Conv2d' ? nn.Conv2d : nn.Conv3d;
      return new C(pos[0] as number, pos[1] as number, {
        kernelSize: tup(kw.kernel_size, 1),
        stride: tup(kw.stride, 1),
        padding: kw.padding === undefined ? 0 : (kw.padding as number | number[] | 'same' | 'valid'),
        dilation: tup(kw.dilation, 1),
        groups: num(kw.groups, 1),
        bias: kw.bias !== false,
      });
    }
    case 'Linear':
      return new nn.Linear(num(kw.in_features, 0), num(kw.out_features, 0), { bias: kw.bias !== false });
    case 'ReLU':
      return new nn.ReLU();
    case 'MaxPool2d':
      return new nn.MaxPool2d({
        kernelSize: tup(kw.kernel_size, 1),
        stride: tup(kw.stride, num(kw.kernel_size as number, 1)),
        padding: tup(kw.padding, 0),
        dilation: tup(kw.dilation, 1),
        ceilMode: kw.ceil_mode === true,
      });
    case 'Flatten':
      return new nn.Flatten(num(kw.start_dim, 1), num(kw.end_dim, -1));
    case 'Dropout':
      return new nn.Dropout(num(kw.p, 0.5));
    case 'BatchNorm1d':
    case 'BatchNorm2d': {
      const B = type === 'BatchNorm1d' ? nn.BatchNorm1d : nn.BatchNorm2d;
      return new B(pos[0] as number, {
        eps: num(kw.eps, 1e-5),
        momentum: kw.momentum === null ? null : num(kw.momentum, 0.1),
        affine: kw.affine !== false,
        trackRunningStats: kw.track_running_stats !== false,
      });
    }
    default:
      throw new Error(`model: no builder for layer type '${type}'`);
  }
}

/** Builds a model from PyTorch's `print(model)` text (containers: the root and Sequential). */
export function buildFromRepr(text: string): nn.Module {
  const lines = text.split('\n');
  let i = 0;
  const parseBody = (container: nn.Module): void => {
    while (i < lines.length) {
      const line = lines[i].trim();
      i++;
      if (line === ')') return;
      const m = /^\(([^)]+)\): (\w+)\((.*)$/.exec(line);
      if (!m) throw new Error(`model: cannot parse the line '${line}'`);
      const [, name, type, rest] = m;
      if (rest === '') {
        const child = type === 'Sequential' ? new nn.Sequential() : new ReprModel(type);
        parseBody(child);
        container.registerModule(name, child);
      } else {
        container.registerModule(name, buildLayer(type, rest.slice(0, -1)));
      }
    }
  };
  const head = /^(\w+)\($/.exec(lines[0].trim());
  if (!head) throw new Error(`model: expected 'Name(' on the first line, got '${lines[0]}'`);
  const root = new ReprModel(head[1]);
  i = 1;
  parseBody(root);
  return root;
}

function oracleStateDict(sd: Record<string, OracleTensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(sd)) out[k] = toTensor(v);
  return out;
}

function sameKeys(ctx: OracleContext, what: string, actual: string[], expected: string[]): boolean {
  if (actual.join('\n') === expected.join('\n')) return true;
  ctx.fail(what, `keys differ:\n  stride:  ${actual.join(', ')}\n  PyTorch: ${expected.join(', ')}`);
  return false;
}

async function runModelCase(c: OracleCase, ctx: OracleContext): Promise<void> {
  const args = (c.args ?? {}) as { architecture?: string; optimizer?: string; lr?: number };
  if (typeof args.architecture !== 'string') {
    ctx.fail('architecture', 'the case has no architecture string');
    return;
  }
  const model = buildFromRepr(args.architecture);
  if (typeof c.numParameters === 'number')
    ctx.expectExact('numParameters', model.numParameters(), c.numParameters);
  const sd = c.stateDict as Record<string, OracleTensor>;
  if (!sameKeys(ctx, 'stateDict keys', Object.keys(model.stateDict()), Object.keys(sd))) return;
  model.loadStateDict(oracleStateDict(sd));

  // Train-mode forward, loss, backward.
  model.train();
  const input = toTensor(c.input as OracleTensor);
  const target = toTensor(c.target as OracleTensor);
  const logits = model.forward(input);
  ctx.expectClose('trainLogits', logits, c.trainLogits as OracleTensor);
  const loss = crossEntropy(logits, target);
  ctx.expectClose('loss', loss.item(), c.loss as number);
  loss.backward();
  const params = new Map(model.namedParameters());
  const grads = c.paramGrads as Record<string, OracleTensor>;
  for (const [key, expected] of Object.entries(grads)) {
    const p = params.get(key);
    if (!p) ctx.fail(`grad ${key}`, 'the model has no such parameter');
    else ctx.expectClose(`grad ${key}`, p.grad ?? new Float32Array(p.numel()), expected);
  }
  // Adam steps from PyTorch's gradients, not ours. Where a gradient is zero in exact arithmetic
  // (a Linear bias feeding BatchNorm through an all-active ReLU), both libraries hold rounding noise
  // (PyTorch ~1e-9, stride ~1e-11), and Adam's m/(√v + ε) turns any noise of 1e-9 into a full
  // lr-sized step. Our gradients were checked just above; this checks the step and the state.
  for (const [key, expected] of Object.entries(grads)) {
    const p = params.get(key);
    if (p) p.grad = toTensor(expected);
  }

  // One optimizer step, then every state entry (running stats and counters included).
  if (args.optimizer !== undefined && args.optimizer !== 'adam') {
    ctx.fail('optimizer', `unsupported optimizer '${args.optimizer}'`);
    return;
  }
  const opt = new Adam(model.parameters(), { lr: args.lr ?? 1e-3 });
  opt.step();
  const after = c.stateDictAfterAdamStep as Record<string, OracleTensor>;
  const mine = model.stateDict();
  if (sameKeys(ctx, 'stateDictAfterAdamStep keys', Object.keys(mine), Object.keys(after))) {
    for (const [key, expected] of Object.entries(after)) {
      if (!isOracleTensor(expected)) continue;
      if (expected.dtype === 'int') {
        if (mine[key].dtype !== 'int32') ctx.fail(key, `expected an int32 tensor, got ${mine[key].dtype}`);
        ctx.expectExact(`after step ${key}`, mine[key], expected);
      } else ctx.expectClose(`after step ${key}`, mine[key], expected);
    }
  }

  model.eval();
  const evalLogits = noGrad(() => model.forward(input));
  ctx.expectClose('evalLogitsAfterStep', evalLogits, c.evalLogitsAfterStep as OracleTensor);
}

registerHandler('model', runModelCase);
