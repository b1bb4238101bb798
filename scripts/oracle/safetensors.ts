/**
 * Handler for `NAME.safetensors` + `NAME.safetensors.json`: builds the architecture named NAME
 * with stride's layers, loads PyTorch's file with `load()` (strict: every key, every shape), runs
 * the companion's input through it in eval mode and compares the logits. A NAME without a builder
 * here is a failure that says so, never a skip.
 */
import { noGrad } from '../../src/autograd/graph.js';
import * as nn from '../../src/nn/index.js';
import { load } from '../../src/io/index.js';
import { isOracleTensor, registerHandler, toTensor } from './registry.js';

/** Architectures of the oracle's safetensors files, by file name (PyTorch's module names → state-dict keys). */
export const ORACLE_ARCHITECTURES: Record<string, () => nn.Module> = {
  // seed 000's SimpleCNN shrunk to 10×10 inputs: MiniSimpleCNN(sequential = Sequential(...)).
  miniSimpleCNN: () =>
    new nn.Sequential({
      sequential: new nn.Sequential(
        new nn.Conv2d(1, 4, 2, { padding: 1 }),
        new nn.ReLU(),
        new nn.Conv2d(4, 8, 2, { padding: 1 }),
        new nn.MaxPool2d(2),
        new nn.Flatten(),
        new nn.Linear(288, 16),
        new nn.ReLU(),
        new nn.Linear(16, 10),
      ),
    }),
};

registerHandler('safetensors', async (c, ctx) => {
  const name = c.name.replace(/\.safetensors$/, '');
  const build = Object.prototype.hasOwnProperty.call(ORACLE_ARCHITECTURES, name)
    ? ORACLE_ARCHITECTURES[name]
    : undefined;
  if (build === undefined) {
    ctx.fail(name, `no architecture registered for '${name}' in scripts/oracle/safetensors.ts`);
    return;
  }
  if (!isOracleTensor(c.input) || !isOracleTensor(c.logits)) {
    ctx.fail(name, 'the companion JSON needs "input" and "logits" tensors');
    return;
  }
  const file = c.safetensorsFile as string;
  let model: nn.Module;
  try {
    model = build();
    model.loadStateDict(await load(file));
  } catch (err) {
    ctx.fail('load', (err as Error).message);
    return;
  }
  model.eval();
  const logits = noGrad(() => model.forward(toTensor(c.input as never)));
  ctx.expectClose('logits', logits, c.logits as never);
});
