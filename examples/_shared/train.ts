/**
 * The few loops every classification notebook repeats — evaluate a model on a loader, show a
 * progress bar — kept here so that each example's training loop stays on the page, as in the
 * notebook, while the bookkeeping does not.
 */
import cliProgress from 'cli-progress';
import * as st from 'stride';

/** Top-1 accuracy (0..1) and mean loss of `model` over a loader of [images, labels] (st.evaluate, eval mode). */
export async function evaluate(
  model: st.nn.Module,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any sample type, batches of [x, y]
  loader: st.data.DataLoader<any, [st.Tensor, st.Tensor]>,
  lossFn: (logits: st.Tensor, y: st.Tensor) => st.Tensor = (l, y) => st.F.crossEntropy(l, y),
): Promise<{ accuracy: number; loss: number }> {
  const logs = await st.evaluate(model, loader, { loss: lossFn, metrics: ['accuracy'] });
  return { accuracy: logs.accuracy, loss: logs.loss };
}

/** A terminal progress bar (silent when stdout is not a terminal, e.g. under the test runner). */
export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  constructor(label: string, total: number) {
    if (!process.stdout.isTTY) return;
    this.bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} batches | loss {loss} | {eta_formatted} left`,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { loss: '-' });
  }
  tick(loss: number): void {
    this.bar?.increment({ loss: loss.toFixed(4) });
  }
  stop(): void {
    this.bar?.stop();
  }
}

/** Formats a fraction as a percentage with two decimals. */
export function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}
