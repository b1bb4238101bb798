/** `stride eval MODEL [--dataset ...]`: test-set metrics and the confusion matrix of a saved model. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';

import { plotConfusionMatrix } from '../viz/confusion.js';
import { DATASET_HELP, inputShapeOf, limit, openDataset, openModel, positiveInt } from './common.js';
import { evaluate, progressBar } from './loop.js';
import { UsageError } from './errors.js';

interface EvalOptions {
  dataset?: string;
  limit?: number;
  batchSize: number;
  json: boolean;
  out?: string;
  progress: boolean;
}

/** The confusion matrix as an aligned text table (rows true, columns predicted). */
export function confusionTable(counts: ArrayLike<number>, classes: readonly string[]): string {
  const c = classes.length;
  const labels = classes.map((n) => (n.length > 10 ? n.slice(0, 10) : n));
  const w = Math.max(5, ...labels.map((l) => l.length), ...Array.from(counts, (v) => String(v).length)) + 1;
  const first = Math.max(...labels.map((l) => l.length), 'true\\pred'.length);
  const lines = ['true\\pred'.padEnd(first) + labels.map((l) => l.padStart(w)).join('')];
  for (let i = 0; i < c; i++) {
    let line = labels[i].padEnd(first);
    for (let j = 0; j < c; j++) line += String(counts[i * c + j]).padStart(w);
    lines.push(line);
  }
  return lines.join('\n');
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('accuracy, precision, recall, F1 and the confusion matrix of a saved model on a test set')
    .argument('<model>', 'a model file (or run folder) saved by stride train')
    .addOption(new Option('--dataset <name>', `${DATASET_HELP} (default: the one it was trained on)`))
    .option('--limit <n>', 'only the first N test images', positiveInt)
    .option('--batch-size <n>', 'samples per batch', positiveInt, 512)
    .option('--json', 'print the metrics as JSON', false)
    .option('--out <dir>', 'also write confusion.png and confusion.svg there')
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, opts: EvalOptions) => {
      const loaded = await openModel(file);
      const shape = inputShapeOf(loaded);
      const name = opts.dataset ?? loaded.metadata['stride.dataset'] ?? 'mnist';
      // A folder without a test/ sub-folder is split by the training seed: the same held-out images.
      const source = openDataset(name, shape, Number(loaded.metadata['stride.seed'] ?? 0) || 0);
      if (source.inputShape.join('×') !== shape.join('×')) {
        throw new UsageError(
          `the model reads ${shape.join('×')} images but ${name} has ${source.inputShape.join('×')}`,
        );
      }
      const classes = loaded.classNames ?? source.classes;
      if (classes.length !== source.classes.length) {
        throw new UsageError(
          `the model has ${classes.length} classes but ${name} has ${source.classes.length}`,
        );
      }
      const test = limit(source.test, opts.limit);
      const progress = progressBar(opts.progress && !opts.json && Boolean(process.stderr.isTTY));
      const r = await evaluate(loaded.model, test, classes.length, opts.batchSize, progress);
      const counts = Array.from(r.confusion.data);
      if (opts.json) {
        const { confusion: _c, ...metrics } = r;
        process.stdout.write(
          JSON.stringify({ dataset: name, ...metrics, classes, confusion: counts }, null, 2) + '\n',
        );
      } else {
        const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
        process.stdout.write(
          `${name} test set, ${r.samples} images: accuracy ${pct(r.accuracy)}, precision ${pct(r.precision)}, ` +
            `recall ${pct(r.recall)}, F1 ${pct(r.f1)} (macro averages), loss ${r.loss.toFixed(4)}\n\n` +
            confusionTable(counts, classes) +
            '\n',
        );
      }
      if (opts.out !== undefined) {
        mkdirSync(opts.out, { recursive: true });
        const files = [join(opts.out, 'confusion.png'), join(opts.out, 'confusion.svg')];
        await plotConfusionMatrix(r.confusion, files, {
          classNames: classes,
          title: `${name}: accuracy ${(100 * r.accuracy).toFixed(2)}%`,
        });
        if (!opts.json) process.stdout.write(`wrote ${files.join(', ')}\n`);
      }
    });
}
