/**
 * PNG output for the examples: a CHW tensor in [0, 1] → file, and a grid of images → one tensor,
 * as torchvision's make_grid + save_image. Written here (with sharp) so that the examples do not
 * wait for the library's own image I/O.
 */
import sharp from 'sharp';
import * as st from 'stride';

/** [C, H, W] or [H, W] in [0, 1] → HWC bytes (C = 1 or 3). */
function toBytes(t: st.Tensor): { data: Uint8Array; width: number; height: number; channels: 1 | 3 } {
  const [c, h, w] = t.ndim === 2 ? [1, t.shape[0], t.shape[1]] : t.shape;
  if (t.ndim !== 2 && t.ndim !== 3)
    throw new Error(`savePng: expected [C, H, W] or [H, W], got [${t.shape}]`);
  if (c !== 1 && c !== 3) throw new Error(`savePng: expected 1 or 3 channels, got ${c}`);
  const src = t.data;
  const hw = h * w;
  const out = new Uint8Array(hw * c);
  for (let p = 0; p < hw; p++) {
    for (let ch = 0; ch < c; ch++) {
      const v = src[ch * hw + p] * 255;
      out[p * c + ch] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
  return { data: out, width: w, height: h, channels: c as 1 | 3 };
}

/** Writes a [C, H, W] / [H, W] tensor in [0, 1] as a PNG, optionally scaled up (nearest) for viewing. */
export async function savePng(t: st.Tensor, path: string, scale = 1): Promise<void> {
  const { data, width, height, channels } = toBytes(t.detach());
  let img = sharp(Buffer.from(data), { raw: { width, height, channels } });
  if (scale !== 1) img = img.resize(width * scale, height * scale, { kernel: 'nearest' });
  await img.png().toFile(path);
}

/** [N, C, H, W] → one [C, H', W'] image, `nrow` per row with `pad` pixels of `fill` between. */
export function makeGrid(batch: st.Tensor, nrow = 8, pad = 2, fill = 1): st.Tensor {
  const [n, c, h, w] = batch.shape;
  const cols = Math.min(nrow, n);
  const rows = Math.ceil(n / cols);
  const H = rows * (h + pad) + pad;
  const W = cols * (w + pad) + pad;
  const out = new Float32Array(c * H * W).fill(fill);
  const src = batch.data;
  for (let i = 0; i < n; i++) {
    const y0 = pad + Math.floor(i / cols) * (h + pad);
    const x0 = pad + (i % cols) * (w + pad);
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          out[ch * H * W + (y0 + y) * W + x0 + x] = src[((i * c + ch) * h + y) * w + x];
        }
      }
    }
  }
  return st.tensor(out, [c, H, W]);
}
