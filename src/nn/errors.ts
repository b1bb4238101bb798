/**
 * ShapeError: a wrong input somewhere in a model, reported with the place. A layer throws it with
 * what it expected and what came; every module it propagates through (see `Module`'s forward
 * wrapper) prefixes the name under which it holds the child that failed, so a nested model reports
 * `features.3 (Conv2d): expected input with 32 channels, got 16 (input shape [8, 16, 14, 14])`.
 * Notes (e.g. Sequential's "the previous layer 4 (Flatten) gives ...") name modules by paths that
 * grow with the same prefixes, so they stay correct however deep the container sits.
 */
import { formatShape } from '../tensor/shape.js';

/**
 * A module mentioned in a note, by path (relative to the same root as the error's path).
 * `type: null` means the input of the module at `path` ([] = the root's input).
 */
export interface NoteRef {
  path: string[];
  type: string | null;
}

/** "the previous layer <layer> gives <shape> from <from>'s output <dims>". */
export interface ShapeNote {
  layer: NoteRef;
  shape: readonly number[];
  from: NoteRef;
  fromShape: readonly number[];
}

export class ShapeError extends Error {
  /** The module names from the root that saw the error down to the module that threw. */
  readonly path: string[] = [];
  /** The class name of the module that threw (e.g. 'Conv2d'); set by the first module it leaves. */
  moduleType: string | undefined;
  /** What was expected and what came, without the place. */
  readonly detail: string;
  readonly notes: ShapeNote[] = [];
  /** @internal: the last module that annotated this error (to find its name in the parent). */
  source: object | undefined;

  constructor(detail: string, options: { moduleType?: string; cause?: unknown } = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ShapeError';
    this.detail = detail;
    this.moduleType = options.moduleType;
  }

  /** The path as written in messages and stateDict keys: `features.3`. */
  get where(): string {
    return this.path.join('.');
  }

  /** Called by a parent module: the failing child is held under `name`. */
  prefix(name: string): void {
    this.path.unshift(name);
    for (const n of this.notes) {
      n.layer.path.unshift(name);
      n.from.path.unshift(name);
    }
    this.refresh();
  }

  addNote(note: ShapeNote): void {
    this.notes.push(note);
    this.refresh();
  }

  /** Rebuilds `message` (and the stack's first line, which V8 captured with the old message). */
  refresh(): void {
    const old = this.message;
    const type = this.moduleType ?? 'Module';
    const place = this.path.length > 0 ? `${this.where} (${type})` : type;
    let msg = `${place}: ${this.detail}`;
    for (const n of this.notes) {
      const dims = n.fromShape.slice(1).join('×');
      const from =
        n.from.type !== null
          ? `${n.from.path.join('.')} (${n.from.type})'s output ${dims}`
          : n.from.path.length > 0
            ? `${n.from.path.join('.')}'s input ${dims}`
            : `the input ${dims}`;
      msg += `; the previous layer ${n.layer.path.join('.')} (${n.layer.type}) gives ${formatShape(n.shape)} from ${from}`;
    }
    this.message = msg;
    if (typeof this.stack === 'string' && this.stack.startsWith(`${this.name}: ${old}`)) {
      this.stack = `${this.name}: ${msg}${this.stack.slice(this.name.length + 2 + old.length)}`;
    }
  }
}

/** Formats a shape for messages: `[8, 16, 14, 14]`. */
export { formatShape };
