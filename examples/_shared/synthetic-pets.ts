/**
 * A stand-in for Kaggle's dogs-vs-cats, which cannot be downloaded here: a flat folder of JPEGs
 * named `cat.N.jpg` / `dog.N.jpg`, the layout the blog notebook reads. Each image is a cartoon
 * animal head drawn into a raw RGB buffer: cats have pointed ears standing up and whiskers, dogs
 * have long ears hanging down and a snout. Fur colour, size, position and the background (a random
 * gradient with clutter) vary, so the network has to find the ears, not a colour.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as st from 'stride';

export interface PetsOptions {
  /** Images per class. */
  perClass: number;
  /** Side of the square images, in pixels. */
  size?: number;
  seed?: number;
}

type RGB = [number, number, number];

class Canvas {
  readonly px: Uint8Array;
  constructor(readonly size: number) {
    this.px = new Uint8Array(size * size * 3);
  }
  set(x: number, y: number, c: RGB): void {
    const s = this.size;
    if (x < 0 || y < 0 || x >= s || y >= s) return;
    const i = (Math.floor(y) * s + Math.floor(x)) * 3;
    this.px[i] = c[0];
    this.px[i + 1] = c[1];
    this.px[i + 2] = c[2];
  }
  /** Fills every pixel whose centre satisfies `inside`, within the bounding box. */
  fill(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    c: RGB,
    inside: (x: number, y: number) => boolean,
  ): void {
    const s = this.size;
    for (let y = Math.max(0, Math.floor(y0)); y <= Math.min(s - 1, Math.ceil(y1)); y++) {
      for (let x = Math.max(0, Math.floor(x0)); x <= Math.min(s - 1, Math.ceil(x1)); x++) {
        if (inside(x + 0.5, y + 0.5)) this.set(x, y, c);
      }
    }
  }
  ellipse(cx: number, cy: number, rx: number, ry: number, c: RGB, angle = 0): void {
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const r = Math.max(rx, ry);
    this.fill(cx - r, cy - r, cx + r, cy + r, c, (x, y) => {
      const u = (x - cx) * cos + (y - cy) * sin;
      const v = -(x - cx) * sin + (y - cy) * cos;
      return (u / rx) ** 2 + (v / ry) ** 2 <= 1;
    });
  }
  triangle(a: [number, number], b: [number, number], d: [number, number], c: RGB): void {
    const side = (p: [number, number], q: [number, number], x: number, y: number): number =>
      (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
    this.fill(
      Math.min(a[0], b[0], d[0]),
      Math.min(a[1], b[1], d[1]),
      Math.max(a[0], b[0], d[0]),
      Math.max(a[1], b[1], d[1]),
      c,
      (x, y) => {
        const s1 = side(a, b, x, y);
        const s2 = side(b, d, x, y);
        const s3 = side(d, a, x, y);
        return (s1 >= 0 && s2 >= 0 && s3 >= 0) || (s1 <= 0 && s2 <= 0 && s3 <= 0);
      },
    );
  }
  line(x0: number, y0: number, x1: number, y1: number, c: RGB): void {
    const n = Math.ceil(Math.hypot(x1 - x0, y1 - y0)) + 1;
    for (let i = 0; i <= n; i++) this.set(x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * i) / n, c);
  }
}

/** Draws one animal (0 = cat, 1 = dog) and returns the RGB bytes. */
export function drawPet(kind: 0 | 1, size: number, g: st.Generator): Uint8Array {
  const u = (a: number, b: number): number => a + (b - a) * g.random();
  const colour = (lo = 0, hi = 255): RGB => [u(lo, hi), u(lo, hi), u(lo, hi)].map(Math.round) as RGB;
  const cv = new Canvas(size);
  // Background: a gradient between two random colours, plus a few random blobs and bars of clutter.
  const c0 = colour();
  const c1 = colour();
  const vertical = g.random() < 0.5;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = (vertical ? y : x) / (size - 1);
      cv.set(x, y, [0, 1, 2].map((k) => c0[k] + (c1[k] - c0[k]) * t) as RGB);
    }
  }
  for (let i = 0, n = Math.floor(u(0, 4)); i < n; i++) {
    if (g.random() < 0.5) cv.ellipse(u(0, size), u(0, size), u(2, size / 8), u(2, size / 8), colour());
    else {
      const x = u(0, size);
      const y = u(0, size);
      cv.fill(x, y, x + u(2, size / 3), y + u(1, size / 12), colour(), () => true);
    }
  }
  // The head: centre and radius such that the ears stay mostly inside the frame.
  const r = u(0.16, 0.26) * size;
  const cx = u(r * 1.4, size - r * 1.4);
  const cy = u(r * 1.5, size - r * 1.3);
  const fur = colour(30, 230);
  const dark: RGB = fur.map((v) => Math.round(v * 0.45)) as RGB;
  const light: RGB = fur.map((v) => Math.round(v + (255 - v) * 0.55)) as RGB;
  if (kind === 0) {
    // Cat: two pointed ears standing up, tips slightly outwards.
    for (const s of [-1, 1]) {
      const bx = cx + s * r * u(0.35, 0.55);
      cv.triangle(
        [bx - r * 0.42, cy - r * 0.55],
        [bx + r * 0.42, cy - r * 0.55],
        [bx + s * r * u(0.1, 0.35), cy - r * u(1.35, 1.65)],
        fur,
      );
    }
    cv.ellipse(cx, cy, r, r * u(0.85, 1), fur);
  } else {
    // Dog: two long ears hanging down the sides of the head, and a snout.
    cv.ellipse(cx, cy, r, r * u(0.9, 1.05), fur);
    for (const s of [-1, 1]) {
      cv.ellipse(
        cx + s * r * 0.95,
        cy + r * 0.35,
        r * u(0.22, 0.32),
        r * u(0.6, 0.8),
        dark,
        s * u(0.05, 0.35),
      );
    }
    cv.ellipse(cx, cy + r * 0.45, r * 0.42, r * 0.3, light);
  }
  // Eyes and nose for both.
  const eye: RGB = [20, 20, 20];
  for (const s of [-1, 1]) cv.ellipse(cx + s * r * 0.38, cy - r * 0.12, r * 0.11, r * 0.13, eye);
  cv.ellipse(
    cx,
    cy + (kind === 0 ? r * 0.25 : r * 0.32),
    r * 0.1,
    r * 0.07,
    kind === 0 ? [230, 120, 140] : eye,
  );
  if (kind === 0) {
    // Whiskers.
    for (const s of [-1, 1]) {
      for (const dy of [-0.08, 0.05, 0.18]) {
        cv.line(cx + s * r * 0.2, cy + r * 0.3, cx + s * r * 1.15, cy + r * (0.3 + dy * 2), [240, 240, 240]);
      }
    }
  }
  return cv.px;
}

/**
 * Writes `perClass` cats and `perClass` dogs as JPEGs into `dir` (created), unless the folder already
 * holds exactly this set (a small marker file records the options). Returns the folder.
 */
export async function generatePets(dir: string, options: PetsOptions): Promise<string> {
  const size = options.size ?? 64;
  const seed = options.seed ?? 42;
  const marker = join(dir, '.generated.json');
  const want = JSON.stringify({ perClass: options.perClass, size, seed, version: 1 });
  if (existsSync(marker) && readFileSync(marker, 'utf8') === want) return dir;
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) {
    if (/^(cat|dog)\.\d+\.jpg$/.test(f)) unlinkSync(join(dir, f)); // another set's leftovers
  }
  const g = new st.Generator(seed);
  const jobs: Promise<unknown>[] = [];
  for (let i = 0; i < options.perClass; i++) {
    for (const kind of [0, 1] as const) {
      const px = drawPet(kind, size, g);
      const path = join(dir, `${kind === 0 ? 'cat' : 'dog'}.${i}.jpg`);
      jobs.push(
        sharp(Buffer.from(px), { raw: { width: size, height: size, channels: 3 } })
          .jpeg({ quality: 90 })
          .toFile(path),
      );
      if (jobs.length >= 64) await Promise.all(jobs.splice(0));
    }
  }
  await Promise.all(jobs);
  writeFileSync(marker, want);
  return dir;
}
