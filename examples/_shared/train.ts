/**
 * The few loops every classification notebook repeats — evaluate a model on a loader, show a
 * progress bar — kept here so that each example's training loop stays on the page, as in the
 * notebook, while the bookkeeping does not.
 */
import cliProgress from 'cli-progress';
import * as st from 'stride';

/** Top-1 accuracy (0..1) and mean loss of `model` over a loader of [images, labels], in eval mode. */
export async function evaluate(
  model: st.nn.Module,
  loader: AsyncIterable<[st.Tensor, st.Tensor]>,
  lossFn: (logits: st.Tensor, y: st.Tensor) => st.Tensor = (l, y) => st.F.crossEntropy(l, y),
): Promise<{ accuracy: number; loss: number; predictions: Int32Array; labels: Int32Array }> {
  const wasTraining = model.training;
  model.eval();
  let correct = 0;
  let seen = 0;
  let lossSum = 0;
  const preds: number[] = [];
  const labels: number[] = [];
  for await (const [x, y] of loader) {
    st.noGrad(() => {
      const logits = model.forward(x);
      lossSum += lossFn(logits, y).item() * y.shape[0];
      const p = logits.argmax(1).data;
      for (let i = 0; i < p.length; i++) {
        preds.push(p[i]);
        labels.push(y.data[i]);
        if (p[i] === y.data[i]) correct++;
      }
      seen += y.shape[0];
    });
  }
  model.train(wasTraining);
  return {
    accuracy: correct / seen,
    loss: lossSum / seen,
    predictions: Int32Array.from(preds),
    labels: Int32Array.from(labels),
  };
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
