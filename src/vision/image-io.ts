/**
 * Image files through sharp (libvips): decoding JPEG, PNG, WebP (and TIFF, GIF, AVIF/HEIF where
 * libvips has them) to raw pixels, resizing at decode time, and writing PNG/JPEG/WebP. sharp works
 * in its own threads, so `await readImage(...)` leaves the main thread free while it decodes.
 */
import sharp from 'sharp';
import { extname } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';
import { rawToTensor, tensorToRaw, type RawImage } from './image.js';

export interface DecodeOptions {
  /** 3 = RGB (default), 1 = grayscale, 4 = RGBA, 'keep' = as stored. Alpha is dropped for 1 and 3. */
  channels?: 1 | 3 | 4 | 'keep';
  /**
   * Resize while decoding (fast, antialiased): [height, width] exactly, or n = the smaller edge
   * becomes n and the aspect ratio is kept, as `Resize` does.
   */
  size?: number | readonly [number, number];
}

function checkDecodeOptions(options: DecodeOptions, where: string): void {
  const c = options.channels;
  if (c !== undefined && c !== 1 && c !== 3 && c !== 4 && c !== 'keep') {
    throw new Error(`${where}: channels must be 1, 3, 4 or 'keep', got ${JSON.stringify(c)}`);
  }
  const s = options.size;
  if (
    s !== undefined &&
    !(typeof s === 'number' && Number.isInteger(s) && s > 0) &&
    !(Array.isArray(s) && s.length === 2 && s.every((v) => Number.isInteger(v) && v > 0))
  ) {
    throw new Error(`${where}: size must be a positive integer or [height, width], got ${JSON.stringify(s)}`);
  }
}

/** Decodes an image file (path) or encoded bytes to HWC uint8 pixels. */
export async function decodeImage(
  input: string | Uint8Array,
  options: DecodeOptions = {},
): Promise<RawImage> {
  checkDecodeOptions(options, 'decodeImage');
  const channels = options.channels ?? 3;
  let img = sharp(input, { failOn: 'error' }).rotate(); // rotate(): honour EXIF orientation, as viewers do
  const s = options.size;
  if (typeof s === 'number') img = img.resize({ width: s, height: s, fit: 'outside' });
  else if (s) img = img.resize({ width: s[1], height: s[0], fit: 'fill' });
  if (channels === 1) img = img.removeAlpha().toColourspace('b-w');
  else if (channels === 3) img = img.removeAlpha().toColourspace('srgb');
  else if (channels === 4) img = img.toColourspace('srgb').ensureAlpha();
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  const out: RawImage = {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
    channels: info.channels,
  };
  if (channels !== 'keep' && info.channels !== channels) {
    throw new Error(`decodeImage: asked for ${channels} channels but the decoder gave ${info.channels}`);
  }
  return out;
}

/** Reads an image file as a CHW float tensor in [0, 1] (RGB by default). */
export async function readImage(path: string, options: DecodeOptions = {}): Promise<Tensor> {
  checkDecodeOptions(options, 'readImage');
  let raw: RawImage;
  try {
    raw = await decodeImage(path, options);
  } catch (e) {
    throw new Error(`readImage: cannot read ${path}: ${(e as Error).message}`);
  }
  return rawToTensor(raw, 'readImage');
}

export interface WriteImageOptions {
  /** JPEG/WebP quality 1..100 (default 90). */
  quality?: number;
}

const FORMATS: Record<string, 'png' | 'jpeg' | 'webp'> = {
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.webp': 'webp',
};

/**
 * Writes a CHW (1, 3 or 4 channels) or HW float tensor with values in [0, 1] (clamped, ×255,
 * rounded) as PNG, JPEG or WebP, chosen by the file extension. Use `imageGrid(..., { normalize })`
 * first for tensors in another range.
 */
export async function writeImage(t: Tensor, path: string, options: WriteImageOptions = {}): Promise<void> {
  const format = FORMATS[extname(path).toLowerCase()];
  if (!format) {
    throw new Error(
      `writeImage: cannot tell the format of ${path}; use a .png, .jpg, .jpeg or .webp extension`,
    );
  }
  if (
    !(t instanceof Tensor) ||
    (t.ndim !== 2 && t.ndim !== 3) ||
    (t.ndim === 3 && (t.shape[0] < 1 || t.shape[0] > 4))
  ) {
    throw new Error(
      `writeImage: expected an image tensor [C, H, W] with C in 1..4, or [H, W], got ${t instanceof Tensor ? formatShape(t.shape) : typeof t}`,
    );
  }
  const quality = options.quality ?? 90;
  if (!(Number.isInteger(quality) && quality >= 1 && quality <= 100)) {
    throw new Error(`writeImage: quality must be an integer in 1..100, got ${quality}`);
  }
  const raw = tensorToRaw(t, 'writeImage');
  const channels = raw.channels as 1 | 2 | 3 | 4;
  let img = sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels } });
  if (format === 'png') img = img.png();
  else if (format === 'jpeg') img = img.jpeg({ quality });
  else img = img.webp({ quality });
  try {
    await img.toFile(path);
  } catch (e) {
    throw new Error(`writeImage: cannot write ${path}: ${(e as Error).message}`);
  }
}
