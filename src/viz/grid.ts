/**
 * Grids of small images: a conv layer's filters, and the feature maps one input produces. Each tile
 * is encoded by sharp (nearest-neighbour upscaling, so 3×3 kernels stay 3×3 blocks) and placed by
 * Vega as an image mark with its index above it; the chart is then written as SVG/PNG like every
 * other plot. Tiles are min-max scaled one by one (or all together), gray for filters, viridis for maps.
 */
import type * as Vega from 'vega';
import sharp from 'sharp';

import { Tensor } from '../tensor/tensor.js';
import type { ChartSpec } from './render.js';
import { loadVega, writeChart, type RenderOptions } from './render.js';

export interface GridOptions {
  title?: string;
  /** Tiles per row (default about √n, at most 16). */
  columns?: number;
  /** At most this many tiles (default 256); the title says when some were left out. */
  maxTiles?: number;
  /** Scale each tile to its own min..max ('each', default) or all tiles to the global one ('all'). */
  normalize?: 'each' | 'all';
  /** 'gray' or any Vega colour scheme name ('viridis', 'magma', ...). */
  colormap?: string;
  /** Smallest tile side in SVG units (default 48). */
  tileSize?: number;
}

interface Tile {
  label: string;
  /** channels × h × w values (1 or 3 channels). */
  values: Float32Array;
  channels: 1 | 3;
}

function lut(vega: typeof Vega, colormap: string): Uint8Array | null {
  if (colormap === 'gray' || colormap === 'grey') return null;
  const interp = (vega as unknown as { scheme(name: string): unknown }).scheme(colormap);
  if (typeof interp !== 'function') {
    throw new Error(`viz: unknown colormap '${colormap}' (use 'gray' or a Vega scheme such as 'viridis')`);
  }
  const table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const c = parseColour(String((interp as (t: number) => string)(i / 255)));
    if (!c) throw new Error(`viz: colormap '${colormap}' gave an unreadable colour`);
    table.set(c, i * 3);
  }
  return table;
}

/** 'rgb(68, 1, 84)' or '#440154' → [r, g, b] (the two forms Vega's interpolators return). */
function parseColour(s: string): [number, number, number] | null {
  const m = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(s);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  const h = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(s);
  if (h) return [parseInt(h[1], 16), parseInt(h[2], 16), parseInt(h[3], 16)];
  return null;
}

function range(v: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    if (!Number.isFinite(x)) continue;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

async function tileUrl(
  t: Tile,
  h: number,
  w: number,
  k: number,
  [lo, hi]: [number, number],
  table: Uint8Array | null,
): Promise<string> {
  const hw = h * w;
  const span = hi > lo ? hi - lo : 1;
  const level = (x: number): number => (Number.isFinite(x) ? Math.round(((x - lo) / span) * 255) : 0);
  const colour = t.channels === 3 || table !== null;
  const raw = Buffer.alloc(hw * (colour ? 3 : 1));
  for (let p = 0; p < hw; p++) {
    if (t.channels === 3) {
      for (let c = 0; c < 3; c++) raw[p * 3 + c] = level(t.values[c * hw + p]);
    } else if (table) {
      const l = Math.min(255, Math.max(0, level(t.values[p])));
      raw[p * 3] = table[l * 3];
      raw[p * 3 + 1] = table[l * 3 + 1];
      raw[p * 3 + 2] = table[l * 3 + 2];
    } else {
      raw[p] = level(t.values[p]);
    }
  }
  const png = await sharp(raw, { raw: { width: w, height: h, channels: colour ? 3 : 1 } })
    .resize(w * k, h * k, { kernel: 'nearest' })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

async function gridSpec(
  tiles: Tile[],
  h: number,
  w: number,
  total: number,
  options: GridOptions,
  defaults: { title: string; colormap: string },
): Promise<ChartSpec> {
  const normalize = options.normalize ?? 'each';
  if (normalize !== 'each' && normalize !== 'all') {
    throw new Error(`viz: normalize must be 'each' or 'all', got ${String(normalize)}`);
  }
  const [vega] = await loadVega();
  const table = lut(vega, options.colormap ?? defaults.colormap);
  const n = tiles.length;
  const columns = options.columns ?? Math.min(16, Math.ceil(Math.sqrt(n)));
  if (!Number.isInteger(columns) || columns < 1)
    throw new Error(`viz: columns must be a positive integer, got ${columns}`);
  const k = Math.max(1, Math.ceil((options.tileSize ?? 48) / Math.max(h, w)));
  const tw = w * k;
  const th = h * k;
  const gap = 8;
  const labelH = 14;
  const global = range(Float32Array.from(tiles.flatMap((t) => [...range(t.values)])));
  const values = await Promise.all(
    tiles.map(async (t, i) => ({
      label: t.label,
      px: (i % columns) * (tw + gap),
      py: Math.floor(i / columns) * (th + gap + labelH) + labelH,
      url: await tileUrl(t, h, w, k, normalize === 'each' ? range(t.values) : global, table),
    })),
  );
  const rows = Math.ceil(n / columns);
  const title = options.title ?? defaults.title;
  return {
    title: total > n ? `${title} (first ${n} of ${total})` : title,
    width: Math.min(n, columns) * (tw + gap) - gap,
    height: rows * (th + gap + labelH) - gap,
    data: { values },
    view: { stroke: null },
    encoding: {
      x: { field: 'px', type: 'quantitative', scale: null, axis: null },
      y: { field: 'py', type: 'quantitative', scale: null, axis: null },
    },
    layer: [
      {
        mark: { type: 'image', width: tw, height: th, align: 'left', baseline: 'top' },
        encoding: { url: { field: 'url' } },
      },
      {
        mark: { type: 'text', align: 'left', baseline: 'bottom', dy: -2, fontSize: 10 },
        encoding: { text: { field: 'label' } },
      },
    ],
  } as ChartSpec;
}

function checkTensor(where: string, t: unknown, ranks: number[]): Tensor {
  if (!(t instanceof Tensor) || !ranks.includes(t.ndim)) {
    const got = t instanceof Tensor ? `shape [${t.shape.join(', ')}]` : String(t);
    throw new Error(`${where}: expected a tensor of rank ${ranks.join(' or ')}, got ${got}`);
  }
  return t;
}

type FilterSource = Tensor | { weight: Tensor | null } | { modules(): object[] };

/** A conv weight, a layer holding one, or a model (its first Conv2d: the filters that see pixels). */
function weightOf(layer: FilterSource): Tensor {
  if (layer instanceof Tensor) return layer;
  if (layer && typeof layer === 'object') {
    const w = (layer as { weight?: unknown }).weight;
    if (w instanceof Tensor) return w;
    if (typeof (layer as { modules?: unknown }).modules === 'function') {
      const first = (layer as { modules(): object[] })
        .modules()
        .find((m) => m.constructor.name === 'Conv2d' && (m as { weight?: unknown }).weight instanceof Tensor);
      if (first) return (first as { weight: Tensor }).weight;
      throw new Error('viz.filters: the model has no Conv2d layer');
    }
  }
  throw new Error('viz.filters: expected a model, a Conv2d layer or its [out, in, kH, kW] weight tensor');
}

/**
 * The filters of a conv layer (or of a model's first one): one tile per output channel (RGB when it reads 3 channels, gray
 * when 1), or one per (output, input) pair (labelled `o.i`) for deeper layers.
 */
export async function filtersSpec(layer: FilterSource, options: GridOptions = {}): Promise<ChartSpec> {
  const w = checkTensor('viz.filters', weightOf(layer), [4]).detach();
  const [out, inC, kh, kw] = w.shape;
  const per = kh * kw;
  const max = options.maxTiles ?? 256;
  const tiles: Tile[] = [];
  const d = w.data as Float32Array;
  let total: number;
  if (inC === 3 || inC === 1) {
    total = out;
    for (let o = 0; o < Math.min(out, max); o++) {
      tiles.push({ label: String(o), values: d.slice(o * inC * per, (o + 1) * inC * per), channels: inC });
    }
  } else {
    total = out * inC;
    for (let o = 0; o < out && tiles.length < max; o++) {
      for (let i = 0; i < inC && tiles.length < max; i++) {
        const at = (o * inC + i) * per;
        tiles.push({ label: `${o}.${i}`, values: d.slice(at, at + per), channels: 1 });
      }
    }
  }
  return gridSpec(tiles, kh, kw, total, options, {
    title: `filters ${out}×${inC}×${kh}×${kw}`,
    colormap: 'gray',
  });
}

/** The feature maps of one input: a [C, H, W] tensor (or [1, C, H, W]), one tile per channel. */
export async function featureMapsSpec(maps: Tensor, options: GridOptions = {}): Promise<ChartSpec> {
  let t = checkTensor('viz.featureMaps', maps, [3, 4]).detach();
  if (t.ndim === 4) {
    if (t.shape[0] !== 1) {
      throw new Error(
        `viz.featureMaps: expected the maps of one input ([1, C, H, W]), got batch ${t.shape[0]}`,
      );
    }
    t = t.reshape(t.shape.slice(1));
  }
  const [c, h, w] = t.shape;
  const hw = h * w;
  const max = options.maxTiles ?? 256;
  const d = t.data as Float32Array;
  const tiles: Tile[] = [];
  for (let i = 0; i < Math.min(c, max); i++) {
    tiles.push({ label: String(i), values: d.slice(i * hw, (i + 1) * hw), channels: 1 });
  }
  return gridSpec(tiles, h, w, c, options, { title: `feature maps ${c}×${h}×${w}`, colormap: 'viridis' });
}

export async function plotFilters(
  layer: FilterSource,
  files: string | readonly string[],
  options: GridOptions & RenderOptions = {},
): Promise<void> {
  await writeChart(await filtersSpec(layer, options), files, options);
}

export async function plotFeatureMaps(
  maps: Tensor,
  files: string | readonly string[],
  options: GridOptions & RenderOptions = {},
): Promise<void> {
  await writeChart(await featureMapsSpec(maps, options), files, options);
}
