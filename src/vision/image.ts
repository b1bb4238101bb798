/**
 * RawImage: decoded pixels as they come from a decoder or a canvas, HWC interleaved uint8 (0..255),
 * the form `ToTensor` turns into a CHW float tensor in [0, 1]. Browser-safe.
 */
import { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';

export interface RawImage {
  /** height × width × channels bytes, row-major, channels interleaved (RGBRGB...). */
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  /** 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA). A browser ImageData (no `channels`) has 4. */
  channels?: number;
}

export function isRawImage(x: unknown): x is RawImage {
  const r = x as Partial<RawImage> | null;
  return (
    r !== null &&
    typeof r === 'object' &&
    (r.data instanceof Uint8Array || r.data instanceof Uint8ClampedArray) &&
    Number.isInteger(r.width) &&
    Number.isInteger(r.height)
  );
}

/** HWC uint8 → CHW float32 in [0, 1] (torchvision's to_tensor). */
export function rawToTensor(img: RawImage, where = 'ToTensor'): Tensor {
  const { width: w, height: h, data } = img;
  const c = img.channels ?? 4;
  if (!(w > 0 && h > 0 && c >= 1 && c <= 4) || data.length !== w * h * c) {
    throw new Error(
      `${where}: image data has ${data.length} bytes, which does not match height ${h} × width ${w} × channels ${c}`,
    );
  }
  const out = new Float32Array(c * h * w);
  const hw = h * w;
  const inv = 1 / 255;
  for (let p = 0; p < hw; p++) {
    for (let ch = 0; ch < c; ch++) out[ch * hw + p] = data[p * c + ch] * inv;
  }
  return new Tensor(out, [c, h, w]);
}

/**
 * CHW (or HW) float in [0, 1] → HWC uint8, clamping and rounding (×255), as torchvision's
 * to_pil_image does for float tensors... except it rounds instead of truncating, so 0.5/255 steps survive.
 */
export function tensorToRaw(t: Tensor, where = 'tensorToRaw'): RawImage {
  if (!(t instanceof Tensor) || (t.ndim !== 2 && t.ndim !== 3)) {
    throw new Error(
      `${where}: expected an image tensor of shape [C, H, W] or [H, W], got ${t instanceof Tensor ? formatShape(t.shape) : typeof t}`,
    );
  }
  const [c, h, w] = t.ndim === 2 ? [1, t.shape[0], t.shape[1]] : t.shape;
  if (c < 1 || c > 4)
    throw new Error(`${where}: expected 1 to 4 channels, got ${c} (shape ${formatShape(t.shape)})`);
  const hw = h * w;
  const out = new Uint8Array(hw * c);
  const src = t.data;
  for (let p = 0; p < hw; p++) {
    for (let ch = 0; ch < c; ch++) {
      const v = src[ch * hw + p] * 255;
      out[p * c + ch] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
  return { data: out, width: w, height: h, channels: c };
}
