/** `stride inspect MODEL IMAGE --out DIR`: every conv layer's filters and its feature maps for one image, as PNG. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';

import { convActivations } from '../viz/features.js';
import { plotFeatureMaps, plotFilters } from '../viz/grid.js';
import { writeImage } from '../vision/image-io.js';
import { imageInput, inputShapeOf, openModel } from './common.js';
import { UsageError } from './errors.js';

export function inspectCommand(): Command {
  return new Command('inspect')
    .description("write each conv layer's filters and the feature maps of one image as PNG")
    .argument('<model>', 'a model file (or run folder) saved by stride train')
    .argument('<image>', 'an image file')
    .requiredOption('--out <dir>', 'folder for the PNG files')
    .action(async (file: string, image: string, opts: { out: string }) => {
      const loaded = await openModel(file);
      if (!loaded.model.modules().some((m) => m.constructor.name === 'Conv2d')) {
        throw new UsageError(
          `inspect: ${loaded.file} has no Conv2d layers, so there are no filters or feature maps to show`,
        );
      }
      const x = await imageInput(image, inputShapeOf(loaded));
      mkdirSync(opts.out, { recursive: true });
      const written: string[] = [join(opts.out, 'input.png')];
      await writeImage(x.reshape(x.shape.slice(1)), written[0]);
      for (const { name, layer, output } of convActivations(loaded.model, x)) {
        const slug = name.replace(/\./g, '_') || 'model';
        const filters = join(opts.out, `filters-${slug}.png`);
        const maps = join(opts.out, `features-${slug}.png`);
        await plotFilters(layer, filters, {
          title: `${name} (Conv2d) filters ${layer.weight.shape.join('×')}`,
        });
        await plotFeatureMaps(output, maps, {
          title: `${name} (Conv2d) feature maps ${output.shape.slice(1).join('×')}`,
        });
        written.push(filters, maps);
      }
      process.stdout.write(
        `wrote ${written.length} images to ${opts.out}: ${written.map((f) => f.slice(opts.out.length + 1)).join(', ')}\n`,
      );
    });
}
