/**
 * Pictures of tensors (browser-safe): imageGrid tiles images like torchvision's make_grid, and
 * toChannels renders each channel of an RGB image in its own colour (the lecture's red, green and
 * blue views of one photo).
 */
import { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';

export interface ImageGridOptions {
  /** Images per row (default 8). */
  nrow?: number;
  /** Pixels between and around images (default 2). */
  padding?: number;
  /** Rescale to [0, 1] by the min and max (over all images, or each with `scaleEach`). */
  normalize?: boolean;
  /** [min, max] to use for `normalize` instead of the data's. */
  valueRange?: readonly [number, number];
  scaleEach?: boolean;
  /** Value of the padding (default 0). */
  padValue?: number;
}

/**
 * Tiles a batch (N, C, H, W) or a list of same-shaped CHW images into one CHW image, exactly as
 * make_grid: single-channel images become 3-channel, ⌈N / nrow⌉ rows of min(nrow, N) cells, and a
 * single image comes back unpadded.
 */
export function imageGrid(tensors: Tensor | readonly Tensor[], options: ImageGridOptions = {}): Tensor {
  const { nrow = 8, padding = 2, normalize = false, scaleEach = false, padValue = 0 } = options;
  if (!Number.isInteger(nrow) || nrow < 1)
    throw new Error(`imageGrid: nrow must be a positive integer, got ${nrow}`);
  if (!Number.isInteger(padding) || padding < 0)
    throw new Error(`imageGrid: padding must be a non-negative integer, got ${padding}`);
  let images: Tensor[];
  if (tensors instanceof Tensor) {
    if (tensors.ndim === 2) images = [tensors.reshape([1, ...tensors.shape])];
    else if (tensors.ndim === 3) images = [tensors];
    else if (tensors.ndim === 4)
      images = Array.from({ length: tensors.shape[0] }, (_, n) => tensors.select(0, n));
    else
      throw new Error(
        `imageGrid: expected (N, C, H, W), (C, H, W) or (H, W), got ${formatShape(tensors.shape)}`,
      );
  } else if (Array.isArray(tensors) && tensors.length > 0) {
    images = tensors.map((t, k) => {
      if (!(t instanceof Tensor) || t.ndim < 2 || t.ndim > 3) {
        throw new Error(
          `imageGrid: image ${k} must be a (C, H, W) or (H, W) tensor, got ${t instanceof Tensor ? formatShape(t.shape) : typeof t}`,
        );
      }
      return t.ndim === 2 ? t.reshape([1, ...t.shape]) : t;
    });
  } else {
    throw new Error('imageGrid: expected a tensor or a non-empty array of tensors');
  }
  const [c0, h, w] = images[0].shape;
  images.forEach((t, k) => {
    if (t.shape[0] !== c0 || t.shape[1] !== h || t.shape[2] !== w) {
      throw new Error(
        `imageGrid: image ${k} has shape ${formatShape(t.shape)} but image 0 has ${formatShape(images[0].shape)}`,
      );
    }
  });
  if (c0 !== 1 && c0 !== 3) throw new Error(`imageGrid: images must have 1 or 3 channels, got ${c0}`);
  const hw = h * w;
  // the (normalised) pixels of each image, as 3 planes
  const planes = images.map((t) => {
    const src = t.data;
    const out = new Float32Array(3 * hw);
    for (let ch = 0; ch < 3; ch++)
      out.set(src.subarray((c0 === 1 ? 0 : ch) * hw, ((c0 === 1 ? 0 : ch) + 1) * hw), ch * hw);
    return out;
  });
  if (normalize) {
    const rescale = (arrs: Float32Array[]): void => {
      let lo: number;
      let hi: number;
      if (options.valueRange) [lo, hi] = options.valueRange;
      else {
        lo = Infinity;
        hi = -Infinity;
        for (const a of arrs) {
          for (const v of a) {
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
        }
      }
      const span = Math.max(hi - lo, 1e-5);
      for (const a of arrs)
        for (let i = 0; i < a.length; i++) a[i] = (Math.min(Math.max(a[i], lo), hi) - lo) / span;
    };
    if (scaleEach) planes.forEach((p) => rescale([p]));
    else rescale(planes);
  }
  const n = images.length;
  // make_grid returns a single image as it is (3 channels, normalised), without padding
  if (n === 1) return new Tensor(planes[0], [3, h, w]);
  const xmaps = Math.min(nrow, n);
  const ymaps = Math.ceil(n / xmaps);
  const cellH = h + padding;
  const cellW = w + padding;
  const H = cellH * ymaps + padding;
  const W = cellW * xmaps + padding;
  const grid = new Float32Array(3 * H * W).fill(padValue);
  for (let k = 0; k < n; k++) {
    const top = Math.floor(k / xmaps) * cellH + padding;
    const left = (k % xmaps) * cellW + padding;
    for (let ch = 0; ch < 3; ch++) {
      for (let i = 0; i < h; i++) {
        grid.set(
          planes[k].subarray(ch * hw + i * w, ch * hw + (i + 1) * w),
          ch * H * W + (top + i) * W + left,
        );
      }
    }
  }
  return new Tensor(grid, [3, H, W]);
}

/** A colour map: a value in [0, 1] → [r, g, b] in [0, 1]. */
export type Colormap = (v: number) => [number, number, number];

const lerp = (a: readonly number[], b: readonly number[], t: number): [number, number, number] => [
  a[0] + (b[0] - a[0]) * t,
  a[1] + (b[1] - a[1]) * t,
  a[2] + (b[2] - a[2]) * t,
];

/** Piecewise-linear map through evenly spaced colours. */
function ramp(stops: readonly (readonly number[])[]): Colormap {
  return (v) => {
    const x = Math.min(Math.max(v, 0), 1) * (stops.length - 1);
    const i = Math.min(Math.floor(x), stops.length - 2);
    return lerp(stops[i], stops[i + 1], x - i);
  };
}

/**
 * Named colour maps: 'Reds'/'Greens'/'Blues'/'Greys' approximate matplotlib's (white → dark), which
 * is what `plt.imshow(img[:, :, c], cmap='Reds')` shows; 'red'/'green'/'blue'/'gray' go from black
 * to the pure colour, i.e. the channel kept and the others zeroed.
 */
export const colormaps: Record<string, Colormap> = {
  red: (v) => [v, 0, 0],
  green: (v) => [0, v, 0],
  blue: (v) => [0, 0, v],
  gray: (v) => [v, v, v],
  Reds: ramp([
    [1, 0.961, 0.941],
    [0.988, 0.573, 0.447],
    [0.871, 0.176, 0.149],
    [0.404, 0, 0.051],
  ]),
  Greens: ramp([
    [0.969, 0.988, 0.961],
    [0.631, 0.851, 0.608],
    [0.192, 0.639, 0.329],
    [0, 0.267, 0.106],
  ]),
  Blues: ramp([
    [0.969, 0.984, 1],
    [0.62, 0.792, 0.882],
    [0.129, 0.443, 0.71],
    [0.031, 0.188, 0.42],
  ]),
  Greys: ramp([
    [1, 1, 1],
    [0.588, 0.588, 0.588],
    [0, 0, 0],
  ]),
};

export interface ToChannelsOptions {
  /**
   * 'pure' (default): channel c through red/green/blue (black → colour); 'matplotlib': through
   * Reds/Greens/Blues (white → dark); or one map name / function used for every channel.
   */
  colormap?: 'pure' | 'matplotlib' | string | Colormap;
}

/**
 * One RGB image (3, H, W) per channel of `img` (C, H, W), channel c rendered through a colour map,
 * so the three can be shown side by side (e.g. `imageGrid(toChannels(photo))`).
 */
export function toChannels(img: Tensor, options: ToChannelsOptions = {}): Tensor[] {
  if (!(img instanceof Tensor) || img.ndim !== 3) {
    throw new Error(
      `toChannels: expected a (C, H, W) image tensor, got ${img instanceof Tensor ? formatShape(img.shape) : typeof img}`,
    );
  }
  const [c, h, w] = img.shape;
  const cm = options.colormap ?? 'pure';
  const mapFor = (ch: number): Colormap => {
    if (typeof cm === 'function') return cm;
    if (cm === 'pure' || cm === 'matplotlib') {
      if (c !== 3)
        throw new Error(
          `toChannels: colormap '${cm}' needs 3 (RGB) channels, got ${c}; name a single map instead`,
        );
      return colormaps[cm === 'pure' ? ['red', 'green', 'blue'][ch] : ['Reds', 'Greens', 'Blues'][ch]];
    }
    const m = colormaps[cm];
    if (!m)
      throw new Error(
        `toChannels: unknown colormap '${cm}'; use one of ${Object.keys(colormaps).join(', ')} or a function`,
      );
    return m;
  };
  const hw = h * w;
  return Array.from({ length: c }, (_, ch) => {
    const map = mapFor(ch);
    const out = new Float32Array(3 * hw);
    for (let p = 0; p < hw; p++) {
      const [r, g, b] = map(img.data[ch * hw + p]);
      out[p] = r;
      out[hw + p] = g;
      out[2 * hw + p] = b;
    }
    return new Tensor(out, [3, h, w]);
  });
}
