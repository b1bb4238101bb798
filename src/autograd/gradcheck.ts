/**
 * Finite-difference gradient check, like torch.autograd.gradcheck but with float32-sized
 * tolerances: compares the analytical gradient of sum(f(inputs) · w) (w random, fixed) with central
 * differences on each input element that requires grad.
 */
import { Tensor } from '../tensor/tensor.js';
import { Generator } from '../tensor/random.js';
import { noGrad } from './graph.js';

export interface GradcheckOptions {
  /** Finite-difference step (float32 needs a large one). */
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Throw with the worst mismatch (default) or return false. */
  raiseException?: boolean;
  /** Check at most this many elements per input (sampled deterministically); default all. */
  maxElements?: number;
}

export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): boolean {
  const eps = options.eps ?? 1e-2;
  const atol = options.atol ?? 1e-2;
  const rtol = options.rtol ?? 1e-2;
  const gen = new Generator(1234);

  const out0 = noGrad(() => fn(...inputs));
  const w = new Float32Array(out0.numel());
  for (let i = 0; i < w.length; i++) w[i] = gen.random() * 2 - 1;
  const objective = (): number => {
    const out = noGrad(() => fn(...inputs));
    let s = 0;
    for (let i = 0; i < w.length; i++) s += out.data[i] * w[i];
    return s;
  };

  for (const t of inputs) t.grad = null;
  const out = fn(...inputs);
  if (!out.requiresGrad)
    throw new Error('gradcheck: the output does not require grad (no input requires grad?)');
  out.backward(new Tensor(w, out.shape));

  for (const [k, t] of inputs.entries()) {
    if (!t.requiresGrad) continue;
    const analytic = t.grad?.data ?? new Float32Array(t.numel());
    const n = t.numel();
    const limit = options.maxElements ?? n;
    const step = Math.max(1, Math.floor(n / limit));
    for (let i = 0; i < n; i += step) {
      const orig = t.data[i];
      t.data[i] = orig + eps;
      const plus = objective();
      t.data[i] = orig - eps;
      const minus = objective();
      t.data[i] = orig;
      const numeric = (plus - minus) / (2 * eps);
      const a = analytic[i];
      if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
        if (options.raiseException === false) return false;
        throw new Error(
          `gradcheck: input ${k} (shape [${t.shape}]) element ${i}: analytical ${a} vs numerical ${numeric}`,
        );
      }
    }
  }
  return true;
}
