/**
 * Containers: Sequential (children run in order) and ModuleList (children held for a custom
 * forward). Children are registered under '0', '1', ... (or the given names), which become the
 * stateDict prefixes PyTorch uses (`features.2.running_mean`), and are readable as `seq[2]`.
 */
import type { Tensor } from '../tensor/tensor.js';
import { Module, annotateError, typeName } from './module.js';
import { ShapeError } from './errors.js';
import { Flatten, Unflatten } from './flatten.js';
import { fusedRunAt, runFused } from './fusion.js';
import { afterStep, recycling } from './recycle.js';

function checkModule(where: string, m: unknown, i: number | string): Module {
  if (!(m instanceof Module)) {
    const got = m === null ? 'null' : typeof m === 'object' ? typeName(m as object) : typeof m;
    throw new TypeError(`${where}: argument ${i} must be a Module, got ${got}`);
  }
  return m;
}

function indexOf(where: string, index: number, length: number): number {
  if (!Number.isInteger(index) || index < -length || index >= length) {
    throw new RangeError(`${where}: index ${index} is out of range for ${length} modules`);
  }
  return index < 0 ? index + length : index;
}

/** The layers whose output shape Sequential's note explains (looking past shape-keeping layers). */
function isReshaper(m: Module): boolean {
  return m instanceof Flatten || m instanceof Unflatten;
}

export class Sequential extends Module {
  [index: number]: Module;

  /** `new Sequential(a, b, c)` or, with names, `new Sequential({ conv: a, relu: b })`. */
  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    if (modules.length === 1 && !(modules[0] instanceof Module) && typeof modules[0] === 'object') {
      for (const [name, m] of Object.entries(modules[0] as Record<string, Module>)) {
        this.registerModule(name, checkModule('Sequential', m, name));
      }
    } else {
      (modules as Module[]).forEach((m, i) => this.append(checkModule('Sequential', m, i)));
    }
  }

  get length(): number {
    return this._modules.size;
  }

  /** The i-th module (negative counts from the end). */
  at(index: number): Module {
    return [...this._modules.values()][indexOf('Sequential.at', index, this.length)];
  }

  append(module: Module): this {
    const i = this.length;
    this.registerModule(String(i), checkModule('Sequential.append', module, 0));
    Object.defineProperty(this, i, { value: module, enumerable: false, configurable: true, writable: true });
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this._modules.values();
  }

  /**
   * Runs the children in order. It keeps their output shapes so that a failing layer's error can
   * say where its input came from: `5 (Linear): expected 14400 input features, got 12544 (...);
   * the previous layer 4 (Flatten) gives [128, 12544] from 3 (MaxPool2d)'s output 64×14×14`.
   */
  override forward(input: Tensor): Tensor {
    const entries = [...this._modules];
    const layers = entries.map((e) => e[1]);
    const shapes: (readonly number[])[] = [];
    // Under noGrad, activations no one else sees are recycled once consumed (see recycle.ts).
    const recycle = recycling();
    let owned: Float32Array | null = null;
    let x = input;
    for (let i = 0; i < entries.length; i++) {
      const before = x;
      // Conv → ReLU → MaxPool runs as one op where no one can tell (see fusion.ts).
      const run = fusedRunAt(layers, i);
      const fused = run && runFused(run, x);
      if (run && fused) {
        x = fused.out;
        shapes.push(...fused.shapes);
        if (recycle) owned = afterStep(owned, layers.slice(i, i + run.length), before, x);
        i += run.length - 1;
        continue;
      }
      const m = entries[i][1];
      try {
        x = m.forward(x);
      } catch (e) {
        throw this.explain(annotateError(e, m), i, entries, input.shape, shapes);
      }
      shapes.push((x as Tensor | undefined)?.shape ?? []); // a child may return a non-tensor
      if (recycle) owned = afterStep(owned, [m], before, x);
    }
    return x;
  }

  private explain(
    e: unknown,
    i: number,
    entries: [string, Module][],
    inputShape: readonly number[],
    shapes: (readonly number[])[],
  ): unknown {
    const failed = annotateError(e, this); // prefixes the child's name
    if (!(failed instanceof ShapeError)) return failed;
    if (failed.path.length > 1) {
      // The failure is inside child i; a note ending at child i's input now learns which sibling
      // produced that input (or, for the first child, that it is this container's input).
      for (const n of failed.notes) {
        if (n.from.type === null && n.from.path.length === 1 && n.from.path[0] === entries[i][0]) {
          n.from =
            i > 0
              ? { path: [entries[i - 1][0]], type: typeName(entries[i - 1][1]) }
              : { path: [], type: null };
        }
      }
      failed.refresh();
      return failed;
    }
    // Look back past layers that keep the shape (ReLU, Dropout, ...) for a Flatten/Unflatten.
    let j = i - 1;
    while (j >= 0 && !isReshaper(entries[j][1]) && shapesEqual(shapes[j], j > 0 ? shapes[j - 1] : inputShape))
      j--;
    if (j < 0 || !isReshaper(entries[j][1])) return failed;
    failed.addNote({
      layer: { path: [entries[j][0]], type: typeName(entries[j][1]) },
      shape: shapes[j],
      from:
        j > 0 ? { path: [entries[j - 1][0]], type: typeName(entries[j - 1][1]) } : { path: [], type: null },
      fromShape: j > 0 ? shapes[j - 1] : inputShape,
    });
    return failed;
  }
}

function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, k) => v === b[k]);
}

/** A list of modules, registered so their parameters train and save; you write the forward. */
export class ModuleList extends Module {
  [index: number]: Module;

  constructor(modules: Iterable<Module> = []) {
    super();
    let i = 0;
    for (const m of modules) this.append(checkModule('ModuleList', m, i++));
  }

  get length(): number {
    return this._modules.size;
  }

  at(index: number): Module {
    return [...this._modules.values()][indexOf('ModuleList.at', index, this.length)];
  }

  append(module: Module): this {
    const i = this.length;
    this.registerModule(String(i), checkModule('ModuleList.append', module, 0));
    Object.defineProperty(this, i, { value: module, enumerable: false, configurable: true, writable: true });
    return this;
  }

  extend(modules: Iterable<Module>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this._modules.values();
  }

  override forward(): Tensor {
    throw new TypeError("ModuleList has no forward(): iterate over it in your own module's forward");
  }
}

/** Modules by name, registered (stateDict keys `name.weight`); you write the forward. */
export class ModuleDict extends Module {
  constructor(modules: Record<string, Module> = {}) {
    super();
    for (const [name, m] of Object.entries(modules)) this.set(name, m);
  }

  get size(): number {
    return this._modules.size;
  }

  get(name: string): Module {
    const m = this._modules.get(name);
    if (m === undefined) {
      throw new RangeError(
        `ModuleDict: no module '${name}' (it has: ${[...this._modules.keys()].join(', ') || 'none'})`,
      );
    }
    return m;
  }

  has(name: string): boolean {
    return this._modules.has(name);
  }

  /** Adds or replaces the module under `name`. */
  set(name: string, module: Module): this {
    checkModule('ModuleDict.set', module, name);
    if (this._modules.has(name))
      this._modules.set(name, module); // keeps its place, as in PyTorch
    else this.registerModule(name, module);
    return this;
  }

  keys(): string[] {
    return [...this._modules.keys()];
  }

  values(): Module[] {
    return [...this._modules.values()];
  }

  entries(): [string, Module][] {
    return [...this._modules.entries()];
  }

  override forward(): Tensor {
    throw new TypeError("ModuleDict has no forward(): pick modules by name in your own module's forward");
  }
}
