import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import {
  decodeCheckpoint,
  decodeSafetensors,
  encodeCheckpoint,
  encodeSafetensors,
  load,
  loadCheckpoint,
  loadCheckpointSync,
  loadSync,
  loadWithMetadata,
  rawToStateDict,
  readSafetensorsFileSync,
  save,
  saveCheckpoint,
  saveCheckpointSync,
  saveSync,
  SafetensorsError,
  stateDictToRaw,
  type Stateful,
} from '../src/io/index.js';
import { Generator } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';

const ORACLE = new URL('../../shared/oracle/', import.meta.url);

interface T {
  shape: number[];
  data: number[];
  dtype?: string;
}

function fromOracle(t: T): Tensor {
  return new Tensor(t.dtype === 'int' ? Int32Array.from(t.data) : Float32Array.from(t.data), t.shape);
}

function miniCatsDogsStateDict(): Record<string, Tensor> {
  const json = JSON.parse(fs.readFileSync(new URL('model.json', ORACLE), 'utf8')) as {
    cases: { name: string; stateDict: Record<string, T> }[];
  };
  const c = json.cases.find((x) => x.name === 'miniCatsDogs')!;
  return Object.fromEntries(Object.entries(c.stateDict).map(([k, t]) => [k, fromOracle(t)]));
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'stride-ckpt-'));
}

function assertSameTensors(a: Record<string, Tensor>, b: Record<string, Tensor>): void {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  for (const k of Object.keys(a)) {
    assert.equal(a[k]!.dtype, b[k]!.dtype, k);
    assert.deepEqual(a[k]!.shape, b[k]!.shape, k);
    assert.deepEqual(a[k]!.data, b[k]!.data, k);
  }
}

/** A stand-in for nn.Module: just a state dict with PyTorch-like loading. */
class FakeModel implements Stateful {
  constructor(public sd: Record<string, Tensor>) {}
  stateDict(): Record<string, Tensor> {
    return { ...this.sd };
  }
  loadStateDict(sd: Record<string, unknown>): void {
    for (const [k, t] of Object.entries(this.sd)) {
      const src = sd[k];
      if (!(src instanceof Tensor)) throw new Error(`missing key ${k}`);
      assert.deepEqual(src.shape, t.shape);
      t.data.set(src.data);
    }
  }
}

/** A stand-in for an optimizer with PyTorch's state-dict layout, plus a raw typed array. */
class FakeAdam implements Stateful {
  state: Record<string, unknown> = {
    state: {
      0: {
        step: 3,
        exp_avg: new Tensor(Float32Array.from([0.1, -0.2]), [2]),
        exp_avg_sq: Float32Array.from([1e-3, 2e-3]),
      },
      1: {
        step: 3,
        exp_avg: new Tensor(Float32Array.from([5]), []),
        exp_avg_sq: Float64Array.from([Math.PI]),
      },
    },
    param_groups: [
      { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, params: [0, 1] },
    ],
  };
  loaded: Record<string, unknown> | undefined;
  stateDict(): Record<string, unknown> {
    return this.state;
  }
  loadStateDict(sd: Record<string, unknown>): void {
    this.loaded = sd;
  }
}

class FakeScheduler implements Stateful {
  loaded: Record<string, unknown> | undefined;
  stateDict(): Record<string, unknown> {
    return {
      lastEpoch: 4,
      baseLrs: [0.1],
      best: Infinity,
      mode: 'min',
      cooldown: undefined,
      nested: { n: null },
    };
  }
  loadStateDict(sd: Record<string, unknown>): void {
    this.loaded = sd;
  }
}

describe('state dicts', () => {
  it('writes PyTorch dtypes and names: F32, and I64 for num_batches_tracked', () => {
    const sd = miniCatsDogsStateDict();
    const raw = stateDictToRaw(sd);
    assert.equal(raw['features.2.num_batches_tracked']!.dtype, 'I64');
    assert.equal(raw['features.2.running_mean']!.dtype, 'F32');
    const other = stateDictToRaw({ 'head.counts': new Tensor(Int32Array.from([1, 2]), [2]) });
    assert.equal(other['head.counts']!.dtype, 'I32');
    const bytes = encodeSafetensors(raw, { format: 'pt' });
    const { tensors } = decodeSafetensors(bytes, { int64: 'bigint' });
    assert.deepEqual(tensors['classifier.3.num_batches_tracked'], {
      dtype: 'I64',
      shape: [],
      data: BigInt64Array.from([0n]),
    });
    assertSameTensors(rawToStateDict(decodeSafetensors(bytes).tensors), sd);
  });

  it('save/load round-trips a state dict, and load gives int32 tensors for integers', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'model.safetensors');
    const sd = miniCatsDogsStateDict();
    sd['features.2.num_batches_tracked'] = new Tensor(Int32Array.from([17]), []);
    await save(sd, file, { metadata: { note: 'hi' } });
    const back = await load(file);
    assertSameTensors(back, sd);
    assert.equal(back['features.2.num_batches_tracked']!.dtype, 'int32');
    assert.equal(back['features.2.num_batches_tracked']!.item(), 17);
    assert.deepEqual((await loadWithMetadata(file)).metadata, { format: 'pt', note: 'hi' });
    // a Module-like object is accepted in place of its state dict; sync variants agree
    saveSync(new FakeModel(sd), file);
    assertSameTensors(loadSync(file), sd);
    assert.deepEqual(readSafetensorsFileSync(file).metadata, { format: 'pt' });
    fs.rmSync(dir, { recursive: true });
  });

  it("loads PyTorch's own file", async () => {
    const sd = await load(new URL('miniSimpleCNN.safetensors', ORACLE));
    assert.deepEqual(sd['sequential.5.weight']!.shape, [16, 288]);
    assert.equal(sd['sequential.5.weight']!.dtype, 'float32');
  });

  it('converts other dtypes to float32 or int32 tensors', () => {
    const bytes = encodeSafetensors({
      h: { dtype: 'F16', shape: [2], data: Uint16Array.from([0x3c00, 0xc000]) },
      d: { dtype: 'F64', shape: [1], data: Float64Array.from([0.5]) },
      m: { dtype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
      s: { dtype: 'I16', shape: [1], data: Int16Array.from([-7]) },
    });
    const sd = rawToStateDict(decodeSafetensors(bytes).tensors);
    assert.deepEqual(sd.h!.data, Float32Array.from([1, -2]));
    assert.deepEqual(sd.d!.data, Float32Array.from([0.5]));
    assert.deepEqual(sd.m!.data, Int32Array.from([1, 0]));
    assert.deepEqual(sd.s!.data, Int32Array.from([-7]));
    // and the bigint form of I64 too
    const big = decodeSafetensors(
      encodeSafetensors({ n: { dtype: 'I64', shape: [1], data: BigInt64Array.from([5n]) } }),
      {
        int64: 'bigint',
      },
    );
    assert.deepEqual(rawToStateDict(big.tensors).n!.data, Int32Array.from([5]));
  });

  it('names the file and the key in errors', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'bad.safetensors');
    await assert.rejects(save({ w: [1, 2] as unknown as Tensor }, file), (e: Error) => {
      assert.ok(e instanceof SafetensorsError);
      assert.equal(e.message, `${file}: state dict entry 'w' is not a Tensor (got Array)`);
      return true;
    });
    assert.ok(!fs.existsSync(file));
    await assert.rejects(load(path.join(dir, 'missing.safetensors')), /cannot read .*missing\.safetensors/);
    fs.writeFileSync(file, 'not a safetensors file at all');
    assert.throws(
      () => loadSync(file),
      new RegExp(`^SafetensorsError: ${file.replace(/\./g, '\\.')}: header length`),
    );
    fs.rmSync(dir, { recursive: true });
  });
});

describe('checkpoints', () => {
  it('round-trips model, optimizer, scheduler, epoch, history, rng and extra', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'ckpt.safetensors');
    const model = new FakeModel(miniCatsDogsStateDict());
    const optimizer = new FakeAdam();
    const scheduler = new FakeScheduler();
    const rng = new Generator(42);
    rng.normal(); // leaves a spare normal in the state
    const history = { loss: [1.25, 0.5, NaN], valAccuracy: [0.5, -Infinity, Infinity] };
    const extra = { bestLoss: 0.5, tags: ['a', 'b'], mask: new Tensor(Int32Array.from([1, 0, 1]), [3]) };
    await saveCheckpoint(file, { model, optimizer, scheduler, epoch: 3, history, rng, extra });

    // the tensor section is plain safetensors with PyTorch names
    const { tensors, metadata } = readSafetensorsFileSync(file);
    assert.equal(tensors['model.features.2.num_batches_tracked']!.dtype, 'I64');
    assert.equal(tensors['model.features.0.weight']!.dtype, 'F32');
    assert.deepEqual(tensors['optimizer.state.0.exp_avg']!.shape, [2]);
    assert.equal(tensors['optimizer.state.1.exp_avg_sq']!.dtype, 'F64');
    assert.equal(metadata.epoch, '3');
    assert.equal(metadata.format, 'pt');
    assert.equal(JSON.parse(metadata.optimizer!).param_groups[0].lr, 1e-3);

    const expected = [rng.normal(), rng.random(), rng.nextUint32()];
    const model2 = new FakeModel(
      Object.fromEntries(
        Object.entries(model.sd).map(([k, t]) => [k, new Tensor(t.data.slice().fill(0), t.shape)]),
      ),
    );
    const optimizer2 = new FakeAdam();
    const scheduler2 = new FakeScheduler();
    const rng2 = new Generator(7);
    const ckpt = await loadCheckpoint(file, {
      model: model2,
      optimizer: optimizer2,
      scheduler: scheduler2,
      rng: rng2,
    });

    assert.equal(ckpt.epoch, 3);
    assertSameTensors(ckpt.model, model.sd);
    assertSameTensors(model2.sd, model.sd);
    assert.deepEqual(ckpt.history, history);
    assert.deepEqual([rng2.normal(), rng2.random(), rng2.nextUint32()], expected);
    assert.deepEqual(ckpt.scheduler, {
      lastEpoch: 4,
      baseLrs: [0.1],
      best: Infinity,
      mode: 'min',
      cooldown: undefined,
      nested: { n: null },
    });
    assert.deepEqual(scheduler2.loaded, ckpt.scheduler);

    const opt = optimizer2.loaded as {
      state: Record<string, Record<string, unknown>>;
      param_groups: unknown[];
    };
    assert.deepEqual(opt.param_groups, (optimizer.state as { param_groups: unknown[] }).param_groups);
    const s0 = opt.state['0']!;
    assert.equal(s0.step, 3);
    assert.ok(s0.exp_avg instanceof Tensor);
    assert.deepEqual((s0.exp_avg as Tensor).data, Float32Array.from([0.1, -0.2]));
    assert.deepEqual(s0.exp_avg_sq, Float32Array.from([1e-3, 2e-3]));
    assert.deepEqual(opt.state['1']!.exp_avg_sq, Float64Array.from([Math.PI]));
    assert.deepEqual((opt.state['1']!.exp_avg as Tensor).shape, []);

    assert.equal(ckpt.extra!.bestLoss, 0.5);
    assert.deepEqual(ckpt.extra!.tags, ['a', 'b']);
    assert.deepEqual((ckpt.extra!.mask as Tensor).data, Int32Array.from([1, 0, 1]));
    fs.rmSync(dir, { recursive: true });
  });

  it('works synchronously, with a plain state dict and only an epoch', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'ckpt.safetensors');
    const sd = { w: new Tensor(Float32Array.from([1, 2, 3]), [3]) };
    saveCheckpointSync(file, { model: sd, epoch: 0 });
    const ckpt = loadCheckpointSync(file);
    assertSameTensors(ckpt.model, sd);
    assert.equal(ckpt.epoch, 0);
    assert.equal(ckpt.optimizer, undefined);
    assert.equal(ckpt.history, undefined);
    fs.rmSync(dir, { recursive: true });
  });

  it('reads a plain file with model.-prefixed tensors (as a PyTorch script would write)', () => {
    const bytes = encodeSafetensors({
      'model.fc.weight': { dtype: 'F32', shape: [1, 2], data: Float32Array.from([1, 2]) },
      'model.bn.num_batches_tracked': { dtype: 'I64', shape: [], data: BigInt64Array.from([9n]) },
      'other.x': { dtype: 'F32', shape: [], data: Float32Array.from([0]) },
    });
    const ckpt = decodeCheckpoint(bytes);
    assert.deepEqual(Object.keys(ckpt.model).sort(), ['bn.num_batches_tracked', 'fc.weight']);
    assert.equal(ckpt.model['bn.num_batches_tracked']!.item(), 9);
    assert.equal(ckpt.epoch, 0);
  });

  it('gives tensors that collide on a path distinct names', () => {
    const opt: Stateful = {
      stateDict: () => ({
        'a.b': new Tensor(Float32Array.from([1]), [1]),
        a: { b: new Tensor(Float32Array.from([2]), [1]) },
      }),
      loadStateDict: () => undefined,
    };
    const ckpt = decodeCheckpoint(encodeCheckpoint({ model: {}, optimizer: opt, epoch: 1 }));
    const o = ckpt.optimizer as { 'a.b': Tensor; a: { b: Tensor } };
    assert.equal(o['a.b'].item(), 1);
    assert.equal(o.a.b.item(), 2);
  });

  it('rejects what it cannot save, naming where it is', () => {
    const withState = (state: unknown): Stateful => ({
      stateDict: () => state as Record<string, unknown>,
      loadStateDict: () => undefined,
    });
    const st = (fn: () => unknown, re: RegExp): void =>
      assert.throws(fn, (e: Error) => e instanceof SafetensorsError && re.test(e.message));
    st(
      () => encodeCheckpoint({ model: {}, optimizer: withState({ state: { m: new Map() } }), epoch: 1 }),
      /cannot save the Map at 'optimizer\.state\.m'/,
    );
    st(
      () => encodeCheckpoint({ model: {}, extra: { f: () => 1 }, epoch: 1 }),
      /cannot save the function at 'extra\.f'/,
    );
    st(
      () => encodeCheckpoint({ model: {}, extra: { n: 1n }, epoch: 1 }),
      /cannot save the bigint at 'extra\.n'/,
    );
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    st(() => encodeCheckpoint({ model: {}, extra: loop, epoch: 1 }), /'extra\.self' refers back to itself/);
    st(() => encodeCheckpoint({ model: {}, extra: { __stride__: 1 }, epoch: 1 }), /reserve/);
    st(() => encodeCheckpoint({ model: {}, epoch: NaN }), /epoch must be a number/);
    st(
      () => encodeCheckpoint({ model: { w: 1 } as unknown as Record<string, Tensor>, epoch: 1 }),
      /model state dict entry 'w' is not a Tensor/,
    );
    // the same object twice (not a cycle) is fine
    const shared = { x: 1 };
    assert.doesNotThrow(() => encodeCheckpoint({ model: {}, extra: { a: shared, b: shared }, epoch: 1 }));
  });

  it('rejects damaged checkpoint metadata', async () => {
    const bad = (metadata: Record<string, string>, tensors = {}): Uint8Array =>
      encodeSafetensors(tensors, metadata);
    assert.throws(
      () => decodeCheckpoint(bad({ epoch: 'three' })),
      /metadata 'epoch' is not a number: "three"/,
    );
    assert.throws(
      () => decodeCheckpoint(bad({ epoch: '1', history: '{' })),
      /metadata 'history' is not valid JSON/,
    );
    assert.throws(
      () =>
        decodeCheckpoint(bad({ epoch: '1', optimizer: '{"m":{"__stride__":"tensor","key":"optimizer.m"}}' })),
      /metadata 'optimizer' refers to a missing tensor "optimizer\.m"/,
    );
    assert.throws(
      () =>
        decodeCheckpoint(
          bad(
            { epoch: '1', extra: '{"m":{"__stride__":"array","type":"Int32Array","key":"x"}}' },
            { x: { dtype: 'F32', shape: [1], data: new Float32Array(1) } },
          ),
        ),
      /tensor 'x' \(F32\) cannot be restored as array type "Int32Array"/,
    );
    assert.throws(() => restoreOptimizerWithout(), /no optimizer state to restore/);
    const dir = tmpDir();
    const file = path.join(dir, 'c.safetensors');
    fs.writeFileSync(file, bad({ epoch: 'x' }));
    await assert.rejects(loadCheckpoint(file), (e: Error) =>
      e.message.startsWith(`${file}: checkpoint: metadata 'epoch'`),
    );
    // a failing save leaves the previous checkpoint as it was
    saveCheckpointSync(file, { model: {}, epoch: 1 });
    const before = fs.readFileSync(file);
    await assert.rejects(saveCheckpoint(file, { model: {}, extra: { f: () => 1 }, epoch: 2 }), /extra\.f/);
    assert.deepEqual(fs.readFileSync(file), before);
    assert.deepEqual(fs.readdirSync(dir), ['c.safetensors']);
    fs.rmSync(dir, { recursive: true });
  });
});

function restoreOptimizerWithout(): void {
  const dir = tmpDir();
  const file = path.join(dir, 'c.safetensors');
  try {
    saveCheckpointSync(file, { model: {}, epoch: 1 });
    loadCheckpointSync(file, { optimizer: new FakeAdam() });
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
}
