/**
 * Module: the base of every layer and model, like torch.nn.Module. It owns parameters, buffers and
 * child modules under names, and everything else (parameters(), stateDict(), train()/eval(),
 * printing, error paths) walks that tree.
 *
 * Registration: explicit (`this.weight = this.registerParameter('weight', p)`, needed for buffers
 * and for names that differ from the property, such as `running_mean`), or implicit: any own
 * property holding a Parameter or a Module is registered under the property's name the next time
 * the tree is walked. So a user model is just a class with fields:
 *
 *   class Net extends nn.Module {
 *     conv = new nn.Conv2d(1, 8, 3);
 *     fc = new nn.Linear(8 * 26 * 26, 10);
 *     override forward(x: Tensor) { return this.fc.forward(F.relu(this.conv.forward(x)).flatten(1)); }
 *   }
 *
 * No Proxy: a Proxy would break `#private` fields and slow every property read in forward.
 *
 * The constructor wraps `forward` so that an error raised inside a module comes out as a
 * ShapeError naming the module's path (`features.3 (Conv2d): ...`), and so forward hooks run.
 */
import { Tensor } from '../tensor/tensor.js';
import { formatShape, shapesEqual } from '../tensor/shape.js';
import { doctor } from '../doctor.js';
import { Parameter } from './parameter.js';
import { ShapeError } from './errors.js';

/** Called after a module's forward with its inputs and output; a non-undefined result replaces the output. */
export type ForwardHook = (module: Module, inputs: readonly unknown[], output: unknown) => unknown;

export interface RemovableHandle {
  remove(): void;
}

export interface LoadStateDictOptions {
  /** Require exactly the model's keys (default true). Shape mismatches are errors either way. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export type StateDict = Record<string, Tensor>;

/** The class name shown in errors and printing (`Conv2d`). */
export function typeName(m: object): string {
  return (m.constructor as { name?: string }).name || 'Module';
}

function checkName(owner: Module, kind: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(
      `${typeName(owner)}.register${kind}: name must be a non-empty string, got ${String(name)}`,
    );
  }
  if (name.includes('.')) {
    throw new TypeError(`${typeName(owner)}.register${kind}: name must not contain '.', got '${name}'`);
  }
}

/** Each module's forward wrapper as its constructor made it (see unobservedForward). */
const ownForwards = new WeakMap<Module, (...args: unknown[]) => Tensor>();

/**
 * Whether m's forward is `classForward` (its class's, not overridden by a subclass or replaced on
 * the instance) and nothing observes its calls (no forward hooks): only then may a container run
 * it fused with its neighbours (nn/fusion.ts) without anyone being able to tell.
 */
export function unobservedForward(m: Module, classForward: (...args: never[]) => unknown): boolean {
  return (
    m._forwardHooks.size === 0 &&
    m.forward === ownForwards.get(m) &&
    (Object.getPrototypeOf(m) as Module).forward === classForward
  );
}

export class Module {
  /**
   * Whether every forward argument must be a Tensor (the built-in layers say yes), so that a wrong
   * argument is a ShapeError naming the layer instead of a TypeError from deep inside an op.
   */
  static readonly tensorInputs: boolean = false;
  /** Whether the module is in training mode (Dropout active, BatchNorm using batch statistics). */
  training = true;
  /** @internal registries, in registration order (which is stateDict order). */
  readonly _parameters = new Map<string, Parameter | null>();
  readonly _buffers = new Map<string, Tensor | null>();
  readonly _nonPersistent = new Set<string>();
  readonly _modules = new Map<string, Module>();
  readonly _forwardHooks = new Map<number, ForwardHook>();

  constructor() {
    // `this.forward` is already the most derived class's method here (the prototype is set before
    // the base constructor runs). Wrap it in an own, non-enumerable property.
    const inner = this.forward;
    const wrapped = (...args: unknown[]) => this.callForward(inner, args);
    ownForwards.set(this, wrapped);
    Object.defineProperty(this, 'forward', {
      value: wrapped,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    for (const key of ['_parameters', '_buffers', '_nonPersistent', '_modules', '_forwardHooks']) {
      Object.defineProperty(this, key, { enumerable: false });
    }
  }

  /** The computation. Subclasses override it; call it as `module.forward(x)`. */
  forward(..._inputs: Tensor[]): Tensor {
    // A TypeError: a missing forward is a bug in the model, not a bad input (see annotateError).
    throw new TypeError(`${typeName(this)}: forward() is not implemented; override it in the subclass`);
  }

  private callForward(inner: (...a: never[]) => unknown, args: unknown[]): Tensor {
    if ((this.constructor as typeof Module).tensorInputs) {
      for (let i = 0; i < args.length; i++) {
        if (!(args[i] instanceof Tensor)) {
          const which = args.length > 1 ? (['input', 'target'][i] ?? `argument ${i}`) : 'input';
          throw annotateError(
            new ShapeError(`expected a Tensor as ${which}, got ${describe(args[i])}`),
            this,
          );
        }
      }
    }
    let out: unknown;
    try {
      out = inner.apply(this, args as never[]);
    } catch (e) {
      throw annotateError(e, this);
    }
    if (this._forwardHooks.size > 0) {
      for (const hook of [...this._forwardHooks.values()]) {
        const r = hook(this, args, out);
        if (r !== undefined) out = r;
      }
    }
    return out as Tensor;
  }

  // ---- registration ---------------------------------------------------------------------------

  registerParameter<P extends Parameter | null>(name: string, param: P): P {
    checkName(this, 'Parameter', name);
    if (param !== null && !(param instanceof Parameter)) {
      throw new TypeError(
        `${typeName(this)}.registerParameter('${name}'): expected a Parameter (or null), got ${describe(param)}; wrap tensors with new Parameter(t)`,
      );
    }
    this.checkFree(name, this._parameters, 'Parameter');
    this._parameters.set(name, param);
    return param;
  }

  registerBuffer<T extends Tensor | null>(
    name: string,
    tensor: T,
    options: { persistent?: boolean } = {},
  ): T {
    checkName(this, 'Buffer', name);
    if (tensor !== null && !(tensor instanceof Tensor)) {
      throw new TypeError(
        `${typeName(this)}.registerBuffer('${name}'): expected a Tensor (or null), got ${describe(tensor)}`,
      );
    }
    this.checkFree(name, this._buffers, 'Buffer');
    this._buffers.set(name, tensor);
    if (options.persistent === false) this._nonPersistent.add(name);
    else this._nonPersistent.delete(name);
    return tensor;
  }

  registerModule<M extends Module>(name: string, module: M): M {
    checkName(this, 'Module', name);
    if (!(module instanceof Module)) {
      throw new TypeError(
        `${typeName(this)}.registerModule('${name}'): expected a Module, got ${describe(module)}`,
      );
    }
    this.checkFree(name, this._modules, 'Module');
    this._modules.set(name, module);
    return module;
  }

  private checkFree(name: string, own: Map<string, unknown>, kind: string): void {
    for (const [map, k] of [
      [this._parameters, 'a parameter'],
      [this._buffers, 'a buffer'],
      [this._modules, 'a module'],
    ] as const) {
      if (map !== own && map.has(name)) {
        throw new Error(`${typeName(this)}.register${kind}: '${name}' is already registered as ${k}`);
      }
    }
  }

  /** Registers Parameters and Modules assigned to own properties since the last walk. */
  private sync(): void {
    const self = this as unknown as Record<string, unknown>;
    for (const key of Object.keys(this)) {
      const v = self[key];
      if (v instanceof Parameter) adopt(this._parameters, key, v);
      else if (v instanceof Module) adopt(this._modules, key, v);
      else if (v === null) {
        if (this._parameters.get(key) instanceof Parameter) this._parameters.set(key, null);
      } else if (Array.isArray(v) && v.some((x) => x instanceof Module)) {
        doctor.warn(
          'module-array-not-registered',
          `${typeName(this)}.${key} is a plain array of modules: their parameters are not registered, ` +
            'so the optimizer will not train them and stateDict() will not save them; use nn.ModuleList',
        );
      }
    }
  }

  // ---- walking the tree -----------------------------------------------------------------------

  namedChildren(): [string, Module][] {
    this.sync();
    return [...this._modules];
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module ('' ) and every descendant, depth first, each once. */
  namedModules(prefix = '', memo = new Set<Module>()): [string, Module][] {
    if (memo.has(this)) return [];
    memo.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, m] of this.namedChildren()) {
      out.push(...m.namedModules(prefix ? `${prefix}.${name}` : name, memo));
    }
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Parameters with dotted names (`features.0.weight`); a shared parameter is listed once. */
  namedParameters(options: { prefix?: string; recurse?: boolean } = {}): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Tensor>();
    const mods: [string, Module][] =
      options.recurse === false ? [[options.prefix ?? '', this]] : this.namedModules(options.prefix ?? '');
    for (const [mp, m] of mods) {
      m.sync();
      for (const [name, p] of m._parameters) {
        if (p === null || seen.has(p)) continue;
        seen.add(p);
        out.push([mp ? `${mp}.${name}` : name, p]);
      }
    }
    return out;
  }

  parameters(recurse = true): Parameter[] {
    return this.namedParameters({ recurse }).map(([, p]) => p);
  }

  namedBuffers(options: { prefix?: string; recurse?: boolean } = {}): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const mods: [string, Module][] =
      options.recurse === false ? [[options.prefix ?? '', this]] : this.namedModules(options.prefix ?? '');
    for (const [mp, m] of mods) {
      for (const [name, b] of m._buffers) {
        if (b === null || seen.has(b)) continue;
        seen.add(b);
        out.push([mp ? `${mp}.${name}` : name, b]);
      }
    }
    return out;
  }

  buffers(recurse = true): Tensor[] {
    return this.namedBuffers({ recurse }).map(([, b]) => b);
  }

  /** The submodule at a dotted path (`'features.3'`); '' is this module. */
  getSubmodule(target: string): Module {
    if (target === '') return this;
    const parts = target.split('.');
    return parts.reduce<Module>((m, part, i) => {
      m.sync();
      const next = m._modules.get(part);
      if (next === undefined) {
        const at = parts.slice(0, i).join('.') || typeName(this);
        throw new Error(
          `getSubmodule: ${at} has no submodule '${part}' (it has: ${[...m._modules.keys()].join(', ') || 'none'})`,
        );
      }
      return next;
    }, this);
  }

  /**
   * Every module under every name it is held by, as PyTorch's state_dict walks: a module shared by
   * two parents (or listed twice in a Sequential) saves its tensors under both names, so PyTorch's
   * files load strictly. Only a cycle (a module inside itself) is cut.
   */
  private stateModules(prefix: string, ancestors = new Set<Module>()): [string, Module][] {
    if (ancestors.has(this)) return [];
    ancestors.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, m] of this.namedChildren()) {
      out.push(...m.stateModules(prefix ? `${prefix}.${name}` : name, ancestors));
    }
    ancestors.delete(this);
    return out;
  }

  /** @internal: the name under which `child` is held, if it is a direct child. */
  childName(child: object): string | undefined {
    for (const [name, m] of this._modules) if (m === child) return name;
    this.sync();
    for (const [name, m] of this._modules) if (m === child) return name;
    return undefined;
  }

  /** Applies fn to every submodule (children first) and then to this module, like `model.apply(init)`. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  // ---- modes and gradients --------------------------------------------------------------------

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    if (typeof mode !== 'boolean')
      throw new TypeError(`${typeName(this)}.train: mode must be a boolean, got ${describe(mode)}`);
    this.training = mode;
    for (const c of this.children()) c.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Clears every parameter's gradient (to null, like PyTorch's default setToNone=true). */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    for (const p of this.parameters()) {
      if (p.grad === null) continue;
      if (options.setToNone === false) p.grad.data.fill(0);
      else p.grad = null;
    }
  }

  /** Freezes (false) or unfreezes (true) every parameter, e.g. for transfer learning. */
  setRequiresGrad(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  /** The number of parameter elements (shared parameters counted once). */
  numParameters(options: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const p of this.parameters()) if (!options.trainableOnly || p.requiresGrad) n += p.numel();
    return n;
  }

  // ---- state ----------------------------------------------------------------------------------

  /**
   * Parameters and persistent buffers under PyTorch's keys (`features.2.running_mean`), as
   * detached tensors sharing the module's storage (save them; don't write into them).
   */
  stateDict(options: { prefix?: string } = {}): StateDict {
    const out: StateDict = {};
    for (const [mp, m] of this.stateModules(options.prefix ?? '')) {
      const at = (name: string): string => (mp ? `${mp}.${name}` : name);
      for (const [name, p] of m._parameters) if (p !== null) out[at(name)] = p.detach();
      for (const [name, b] of m._buffers) {
        if (b !== null && !m._nonPersistent.has(name)) out[at(name)] = b.detach();
      }
    }
    return out;
  }

  /**
   * Copies a state dict into this module's existing tensors (so optimizers holding them keep
   * working). Everything is checked before anything is copied: a shape mismatch (always) or a
   * missing/unexpected key (when strict) throws one error listing every problem, and nothing changes.
   */
  loadStateDict(stateDict: Record<string, unknown>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    if (typeof stateDict !== 'object' || stateDict === null) {
      throw new TypeError(
        `loadStateDict (${typeName(this)}): expected an object of tensors, got ${describe(stateDict)}`,
      );
    }
    const own = new Map<string, Tensor>();
    for (const [mp, m] of this.stateModules('')) {
      const at = (name: string): string => (mp ? `${mp}.${name}` : name);
      for (const [name, p] of m._parameters) if (p !== null) own.set(at(name), p);
      for (const [name, b] of m._buffers) if (b !== null && !m._nonPersistent.has(name)) own.set(at(name), b);
    }
    const missingKeys = [...own.keys()].filter((k) => !Object.prototype.hasOwnProperty.call(stateDict, k));
    const unexpectedKeys = Object.keys(stateDict).filter((k) => !own.has(k));
    const problems: string[] = [];
    if (strict && missingKeys.length > 0) problems.push(`missing keys: ${missingKeys.map(quote).join(', ')}`);
    if (strict && unexpectedKeys.length > 0)
      problems.push(`unexpected keys: ${unexpectedKeys.map(quote).join(', ')}`);
    const copies: [Tensor, Tensor][] = [];
    for (const [key, dst] of own) {
      if (!Object.prototype.hasOwnProperty.call(stateDict, key)) continue;
      const src = stateDict[key];
      if (!(src instanceof Tensor)) {
        problems.push(`${quote(key)} is ${describe(src)}, not a Tensor`);
      } else if (!shapesEqual(src.shape, dst.shape)) {
        problems.push(
          `size mismatch for ${quote(key)}: the state dict has shape ${formatShape(src.shape)}, the model has ${formatShape(dst.shape)}`,
        );
      } else {
        copies.push([src, dst]);
      }
    }
    if (problems.length > 0) {
      throw new Error(
        `loadStateDict (${typeName(this)}): ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`}` +
          (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0)
            ? '\n(pass { strict: false } to load the matching keys only)'
            : ''),
      );
    }
    for (const [src, dst] of copies) if (src.data !== dst.data) dst.data.set(src.data);
    return { missingKeys, unexpectedKeys };
  }

  // ---- hooks ----------------------------------------------------------------------------------

  registerForwardHook(hook: ForwardHook): RemovableHandle {
    const id = nextHookId++;
    this._forwardHooks.set(id, hook);
    return { remove: () => void this._forwardHooks.delete(id) };
  }

  // ---- printing -------------------------------------------------------------------------------

  /** The settings shown between the parentheses when printed; layers show non-default ones. */
  extraRepr(): string {
    return '';
  }

  /** `console.log(model)` in Node prints the same as toString(), like PyTorch's print(model). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** PyTorch's print format: `Net(\n  (conv): Conv2d(1, 8, kernelSize=(3, 3))\n)`. */
  toString(): string {
    const extra = this.extraRepr();
    const extraLines = extra ? extra.split('\n') : [];
    const childLines = this.namedChildren().map(
      ([name, m]) => `(${name}): ${m.toString().split('\n').join('\n  ')}`,
    );
    const lines = [...extraLines, ...childLines];
    let s = `${typeName(this)}(`;
    if (extraLines.length === 1 && childLines.length === 0) s += extraLines[0];
    else if (lines.length > 0) s += `\n  ${lines.join('\n  ')}\n`;
    return `${s})`;
  }
}

let nextHookId = 0;

function adopt<T>(map: Map<string, T | null>, key: string, v: T): void {
  const cur = map.get(key);
  if (cur === v) return;
  if (cur !== undefined) {
    map.set(key, v); // the property was reassigned: follow it, as PyTorch's __setattr__ does
    return;
  }
  for (const x of map.values()) if (x === v) return; // registered explicitly under another name
  map.set(key, v);
}

function quote(s: string): string {
  return `'${s}'`;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (x instanceof Tensor) return `a tensor of shape ${formatShape(x.shape)}`;
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return `a ${typeName(x)}`;
  return `${typeof x} ${String(x)}`;
}

/**
 * Turns an error leaving `module`'s forward into a ShapeError that names the place: errors from
 * ops (plain Error/RangeError) become ShapeErrors of this module; a ShapeError coming from a child
 * gets the child's name prefixed. TypeErrors and other classes (bugs, not bad inputs) pass unchanged.
 */
export function annotateError(e: unknown, module: Module): unknown {
  if (e instanceof ShapeError) {
    if (e.source === module) return e;
    if (e.source === undefined) {
      e.moduleType ??= typeName(module);
      e.source = module;
      e.refresh();
      return e;
    }
    // A module that is called but not registered (created inside forward) has no name: say so
    // rather than let the parent's name pass for the failing layer's.
    e.prefix(module.childName(e.source) ?? '?');
    e.source = module;
    return e;
  }
  if (e instanceof Error && (e.constructor === Error || e.constructor === RangeError)) {
    const type = typeName(module);
    // 'Conv2d: conv2d: output height ...' says the same place twice: drop the op's own prefix when
    // it is this layer's op; keep it inside custom modules, where it tells which call failed.
    const op = /^([a-z][A-Za-z0-9]*): /.exec(e.message);
    const detail =
      op && type.toLowerCase().startsWith(op[1].toLowerCase()) ? e.message.slice(op[0].length) : e.message;
    const se = new ShapeError(detail, { moduleType: type, cause: e });
    se.source = module;
    se.refresh();
    return se;
  }
  return e;
}
