/**
 * The tape. Every differentiable op builds its output and, when grad mode is on and some input
 * requires grad, attaches a GradFn: the inputs and a closure that maps the output's gradient to
 * one gradient per input. `backward()` walks the graph in reverse topological order, sums the
 * gradients flowing into each tensor, accumulates into leaves' `.grad`, and frees the graph.
 */
import type { Tensor } from '../tensor/tensor.js';
import { emptyFloat32 } from '../tensor/storage.js';

export interface GradFn {
  /** The op's name, for error messages and `toString()`. */
  readonly name: string;
  readonly inputs: readonly Tensor[];
  /** Gradients for each input (null where an input needs none), shaped like that input. */
  backward(gradOutput: Tensor): readonly (Tensor | null)[];
}

let gradEnabled = true;
let backwardCalls = 0;

/** How many backward passes have run so far (the doctor uses it to spot a misplaced zeroGrad()). */
export function backwardCount(): number {
  return backwardCalls;
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording a graph (like `with torch.no_grad():`). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Sets grad mode and returns the previous value (for code that spans awaits). */
export function setGradEnabled(enabled: boolean): boolean {
  const prev = gradEnabled;
  gradEnabled = enabled;
  return prev;
}

/**
 * Attaches the gradient function to `out` when any input requires grad and grad mode is on.
 * The backward closure is only created lazily through `makeBackward` so no-grad paths pay nothing.
 */
export function record(
  out: Tensor,
  name: string,
  inputs: readonly Tensor[],
  backward: (gradOutput: Tensor) => readonly (Tensor | null)[],
): Tensor {
  if (!gradEnabled) return out;
  let needs = false;
  for (const t of inputs) if (t.requiresGrad) needs = true;
  if (!needs) return out;
  out.requiresGrad = true;
  out.gradFn = { name, inputs, backward };
  return out;
}

/** Whether input i of an op needs a gradient (saves work in backward closures). */
export function needsGrad(t: Tensor): boolean {
  return t.requiresGrad;
}

// ---- gradient buffers ---------------------------------------------------------------------------
//
// Interior gradients live exactly as long as backward() needs them: made by one node's backward,
// consumed by the next. Allocating each one fresh costs more than the loops that fill it (a fresh
// Float32Array is zeroed pages the OS faults in one by one, and hundreds of MB of them per step
// make V8 run a full GC every few steps), so backward closures that overwrite every element ask
// `gradBuffer()` for storage, and runBackward hands a buffer back to a small pool once its
// gradient is consumed. Only buffers nobody else can see are recycled: a gradient that becomes a
// leaf's `.grad` or a retained `.grad`, that is passed on to more than one input, or that reaches
// user code any other way stays the garbage collector's.

/** Per length, buffers free for reuse; bounded so that memory stays flat. */
const freeBuffers = new Map<number, Float32Array[]>();
let freeBytes = 0;
const MAX_FREE_BYTES = 256 * 1024 * 1024;
const MAX_FREE_PER_LENGTH = 4;
/** Buffers handed out during the running backward pass and not yet escaped (keyed by ArrayBuffer). */
let owned: Set<ArrayBufferLike> | null = null;

/**
 * Storage for a gradient that a backward closure is about to overwrite completely: a recycled
 * buffer during backward(), a fresh one otherwise; either way its contents are unspecified.
 */
export function gradBuffer(n: number): Float32Array {
  if (owned === null) return emptyFloat32(n);
  const list = freeBuffers.get(n);
  let b = list?.pop();
  if (b === undefined) b = emptyFloat32(n);
  else freeBytes -= b.byteLength;
  owned.add(b.buffer);
  return b;
}

/**
 * Storage for an elementwise backward's result: the incoming gradient's own buffer when the graph
 * owns it (no one else can see it, and it dies once this backward returns), else `gradBuffer(n)`.
 * Only for loops that read each g[i] before writing the same index.
 */
export function gradBufferFrom(g: Tensor): Float32Array {
  const d = g.data;
  if (owned !== null && d instanceof Float32Array && owned.has(d.buffer)) return d;
  return gradBuffer(d.length);
}

function release(data: Float32Array | Int32Array): void {
  if (owned === null || !owned.delete(data.buffer)) return;
  if (!(data instanceof Float32Array) || data.byteLength + freeBytes > MAX_FREE_BYTES) return;
  let list = freeBuffers.get(data.length);
  if (list === undefined) freeBuffers.set(data.length, (list = []));
  if (list.length >= MAX_FREE_PER_LENGTH) return;
  list.push(data);
  freeBytes += data.byteLength;
}

/** The buffer leaves the graph's hands (a `.grad`, or shared): never recycle it. */
function escape(data: Float32Array | Int32Array): void {
  owned?.delete(data.buffer);
}

function isOwned(t: Tensor): boolean {
  return owned !== null && owned.has(t.data.buffer);
}

/** Sums two gradients for the same tensor, in place into one the graph owns when it can. */
function accumulate(acc: Tensor, gi: Tensor): Tensor {
  if (acc.data.buffer !== gi.data.buffer && acc.shape.length === gi.shape.length) {
    let same = true;
    for (let d = 0; d < acc.shape.length; d++) if (acc.shape[d] !== gi.shape[d]) same = false;
    if (same) {
      const [into, from] = isOwned(acc) ? [acc, gi] : isOwned(gi) ? [gi, acc] : [null, null];
      if (into !== null && from !== null) {
        const a = into.data;
        const b = from.data;
        for (let i = 0; i < a.length; i++) a[i] += b[i];
        release(from.data);
        return into;
      }
    }
  }
  const sum = acc.add(gi);
  release(acc.data);
  release(gi.data);
  return sum;
}

/** Reverse-mode differentiation from `root`, seeded with `gradient` (ones for a scalar root). */
export function runBackward(root: Tensor, gradient: Tensor, retainGraph = false): void {
  backwardCalls++;
  // Iterative DFS post-order: a deep network must not overflow the call stack.
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.gradFn?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i];
      if (child.requiresGrad && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }

  const grads = new Map<Tensor, Tensor>();
  grads.set(root, gradient);
  const prev = setGradEnabled(false);
  const outerOwned = owned;
  owned = new Set();
  try {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k];
      const g = grads.get(t);
      if (g === undefined) continue;
      grads.delete(t);
      const fn = t.gradFn;
      if (fn === null) {
        t.accumulateGrad(g);
        // The first gradient becomes `.grad` itself; a later one was added into a new tensor.
        if (t.grad !== null && t.grad.data.buffer === g.data.buffer) escape(g.data);
        else release(g.data);
        continue;
      }
      if (t.retainsGrad) {
        t.accumulateGrad(g);
        escape(g.data);
      }
      const inputGrads = fn.backward(g);
      let passedOn = false;
      for (let j = 0; j < inputGrads.length; j++) {
        const gi = inputGrads[j];
        if (gi === null || gi === undefined) continue;
        if (gi.data.buffer === g.data.buffer) passedOn = true;
        // One buffer handed to two inputs (add's gradient, x·x) must not be changed in place.
        for (let i = 0; i < j; i++) {
          const other = inputGrads[i];
          if (other && other.data.buffer === gi.data.buffer) escape(gi.data);
        }
      }
      for (let j = 0; j < fn.inputs.length; j++) {
        const input = fn.inputs[j];
        const gi = inputGrads[j];
        if (!input.requiresGrad || gi === null || gi === undefined) continue;
        if (gi.shape.length !== input.shape.length || gi.numel() !== input.numel()) {
          throw new Error(
            `backward of ${fn.name}: gradient for input ${j} has shape [${gi.shape}] but the input has [${input.shape}]`,
          );
        }
        const acc = grads.get(input);
        grads.set(input, acc === undefined ? gi : accumulate(acc, gi));
      }
      if (!passedOn) release(g.data);
      if (!retainGraph) t.gradFn = freed(fn);
    }
  } finally {
    owned = outerOwned;
    setGradEnabled(prev);
  }
}

/** What a used graph node becomes: a second backward through it is an error, as in PyTorch. */
function freed(fn: GradFn): GradFn {
  return {
    name: fn.name,
    inputs: [],
    backward() {
      throw new Error(
        `backward: trying to backward through the graph a second time (through ${fn.name}); ` +
          'pass { retainGraph: true } to the first backward() if you need to',
      );
    },
  };
}
