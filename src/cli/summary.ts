/** `stride summary (MODEL | --model NAME)`: the layer table with output shapes and parameter counts. */
import { Command } from 'commander';

import { summary } from '../nn/summary.js';
import { MODEL_NAMES, modelSpec } from './models.js';
import { inputShapeOf, openModel } from './common.js';
import { UsageError } from './errors.js';

export function summaryCommand(): Command {
  return new Command('summary')
    .description('print the layer table (output shapes, parameter counts) of a saved model or a built-in one')
    .argument('[model]', 'a model file (or run folder) saved by stride train')
    .option('--model <name>', `a built-in model instead: ${MODEL_NAMES.join(', ')}`)
    .action(async (file: string | undefined, opts: { model?: string }) => {
      if ((file === undefined) === (opts.model === undefined)) {
        throw new UsageError('summary: give either a model file or --model NAME (not both)');
      }
      if (opts.model !== undefined) {
        const spec = modelSpec(opts.model);
        process.stdout.write(`${opts.model}: ${spec.description}\n`);
        process.stdout.write(summary(spec.build(), spec.inputShape) + '\n');
        return;
      }
      const loaded = await openModel(file!);
      process.stdout.write(`${loaded.file}\n`);
      process.stdout.write(summary(loaded.model, inputShapeOf(loaded)) + '\n');
    });
}
