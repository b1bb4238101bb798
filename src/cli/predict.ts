/** `stride predict MODEL IMAGE...`: the class and top-3 probabilities of each image. */
import { Command } from 'commander';

import { noGrad } from '../autograd/graph.js';
import { softmax } from '../ops/activation.js';
import { imageInput, inputShapeOf, openModel, positiveInt } from './common.js';

export interface Prediction {
  image: string;
  class: string;
  index: number;
  probability: number;
  top: { class: string; index: number; probability: number }[];
}

export function predictCommand(): Command {
  return new Command('predict')
    .description('classify images (PNG, JPEG, ... of any size: converted to the input the model needs)')
    .argument('<model>', 'a model file (or run folder) saved by stride train')
    .argument('<images...>', 'image files')
    .option('--json', 'print the predictions as JSON', false)
    .option('--top <k>', 'how many classes to show per image', positiveInt, 3)
    .action(async (file: string, images: string[], opts: { json: boolean; top: number }) => {
      const loaded = await openModel(file);
      const shape = inputShapeOf(loaded);
      const predictions: Prediction[] = [];
      for (const image of images) {
        const x = await imageInput(image, shape);
        const probs = noGrad(() => softmax(loaded.model.forward(x), 1)).data;
        const names = loaded.classNames ?? Array.from(probs, (_, i) => String(i));
        const order = Array.from(probs, (_, i) => i).sort((a, b) => probs[b] - probs[a]);
        const top = order.slice(0, Math.min(opts.top, probs.length)).map((i) => ({
          class: names[i] ?? String(i),
          index: i,
          probability: probs[i],
        }));
        predictions.push({
          image,
          class: top[0].class,
          index: top[0].index,
          probability: top[0].probability,
          top,
        });
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify(predictions, null, 2) + '\n');
        return;
      }
      for (const p of predictions) {
        const rest = p.top.map((t) => `${t.class} ${(100 * t.probability).toFixed(1)}%`).join(', ');
        process.stdout.write(`${p.image}: ${p.class} (${rest})\n`);
      }
    });
}
