/**
 * Rendering: every plot in st.viz is a Vega-Lite spec, compiled by vega-lite, laid out and drawn
 * to SVG by vega (headless, renderer 'none'), and rasterised to PNG by sharp (librsvg). Nothing
 * here draws pixels itself, so text, axes and legends look like any Vega chart.
 */
import * as path from 'node:path';
import type * as Vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import sharp from 'sharp';

import { writeFileAtomic } from '../io/atomic.js';

export type ChartSpec = TopLevelSpec;

export interface RenderOptions {
  /** PNG pixels per SVG unit (default 2, for crisp text). */
  scale?: number;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** The spec with a schema and a white background (PNG viewers show transparency as black or checks). */
function complete(spec: ChartSpec): ChartSpec {
  return { $schema: SCHEMA, background: 'white', ...spec } as ChartSpec;
}

let vegaModules: Promise<[typeof Vega, typeof import('vega-lite')]> | null = null;

/**
 * vega and vega-lite, loaded on first use: they add ~13 MB to the JS heap, which would make every
 * full garbage collection of a training run that never plots slower.
 */
export function loadVega(): Promise<[typeof Vega, typeof import('vega-lite')]> {
  vegaModules ??= Promise.all([import('vega'), import('vega-lite')]);
  return vegaModules;
}

/** A Vega-Lite spec as an SVG document. */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  const [vega, { compile }] = await loadVega();
  let compiled: Vega.Spec;
  try {
    compiled = compile(complete(spec)).spec as Vega.Spec;
  } catch (err) {
    throw new Error(`viz: the chart spec does not compile: ${(err as Error).message}`, { cause: err });
  }
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG text as PNG bytes (sharp rasterises it with librsvg). */
export async function svgToPng(svg: string, options: RenderOptions = {}): Promise<Uint8Array> {
  const scale = options.scale ?? 2;
  if (!(scale > 0 && scale <= 16)) throw new RangeError(`viz: scale must be in (0, 16], got ${scale}`);
  const buf = await sharp(Buffer.from(svg), { density: 72 * scale })
    .png()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A Vega-Lite spec as PNG bytes. */
export async function renderPng(spec: ChartSpec, options: RenderOptions = {}): Promise<Uint8Array> {
  return svgToPng(await renderSvg(spec), options);
}

/**
 * Writes a chart to each file, the format chosen by the extension (.svg or .png); the SVG is
 * rendered once. Writes are atomic, so a crash never leaves half a picture.
 */
export async function writeChart(
  spec: ChartSpec,
  files: string | readonly string[],
  options: RenderOptions = {},
): Promise<void> {
  const list = typeof files === 'string' ? [files] : [...files];
  for (const f of list) formatOf(f);
  const svg = await renderSvg(spec);
  for (const f of list) {
    const bytes = formatOf(f) === 'svg' ? new TextEncoder().encode(svg) : await svgToPng(svg, options);
    await writeFileAtomic(f, bytes);
  }
}

export function formatOf(file: string): 'svg' | 'png' {
  if (typeof file !== 'string' || file === '') {
    throw new TypeError(`viz: expected a file path ending in .png or .svg, got ${String(file)}`);
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.svg') return 'svg';
  if (ext === '.png') return 'png';
  throw new Error(`viz: cannot tell the image format of ${file}: use a name ending in .png or .svg`);
}
