/**
 * The tape. Every differentiable op builds its output and, when grad mode is on and some input
 * requires grad, attaches a GradFn: the inputs and a closure that maps the output's gradient to
 * one gradient per input. `backward()` walks the graph in reverse topological order, sums the
 * gradients flowing into each tensor, accumulates into leaves' `.grad`, and frees the graph.
 */
import type { Tensor } from '../tensor/tensor.js';

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
  try {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k];
      const g = grads.get(t);
      if (g === undefined) continue;
      grads.delete(t);
      const fn = t.gradFn;
      if (fn === null) {
        t.accumulateGrad(g);
        continue;
      }
      if (t.retainsGrad) t.accumulateGrad(g);
      const inputGrads = fn.backward(g);
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
        grads.set(input, acc === undefined ? gi : acc.add(gi));
      }
      if (!retainGraph) t.gradFn = freed(fn);
    }
  } finally {
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
