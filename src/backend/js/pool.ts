/**
 * Pooling kernels over `planes` independent (D, H, W) planes, following PyTorch's CPU kernels:
 *
 * max: padding counts as -∞; the first maximum wins, but a NaN always takes over (so the last NaN wins and NaNs propagate);
 *      idx holds the flat position of the maximum within its (D, H, W) input plane (-1 for a
 *      window that only covers padding; backward skips those).
 * avg: PyTorch's avg_pool. Along each dim the window [start, start + k) is first clipped to the
 *      padded input [−pad, in + pad) — that size is the divisor with countIncludePad — and then to
 *      the real input [0, in) — that size is the divisor without it. A window with no real element
 *      outputs 0. (Dilation is not part of PyTorch's avg_pool; it is honoured here by counting taps.)
 */
import type { PoolGeometry } from '../backend.js';

/** Per output position along one dim: the first real tap, how many real taps, and the padded tap count. */
interface Span {
  first: Int32Array;
  count: Int32Array;
  padded: Int32Array;
}

/** Taps along one dim: start = o·s − p, taps at start + t·d for t < k. */
function spans(inSize: number, outSize: number, k: number, s: number, p: number, d: number): Span {
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const padded = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const start = o * s - p;
    // Clip to the padded input first (avg_pool's countIncludePad divisor, ceilMode windows).
    const endPadded = Math.min(start + (k - 1) * d + 1, inSize + p);
    padded[o] = Math.max(0, Math.ceil((endPadded - start) / d));
    // Then to the real input.
    let f = start;
    while (f < 0) f += d;
    const end = Math.min(start + (k - 1) * d + 1, inSize);
    first[o] = f;
    count[o] = f < end ? Math.ceil((end - f) / d) : 0;
  }
  return { first, count, padded };
}

function allSpans(g: PoolGeometry): [Span, Span, Span] {
  return [0, 1, 2].map((i) =>
    spans(g.inSize[i], g.outSize[i], g.kernel[i], g.stride[i], g.padding[i], g.dilation[i]),
  ) as [Span, Span, Span];
}

export function maxPoolForward(g: PoolGeometry, x: Float32Array, y: Float32Array, idx: Int32Array): void {
  const [, H, W] = g.inSize;
  const [oD, oH, oW] = g.outSize;
  const [dD, dH, dW] = g.dilation;
  const [sd, sh, sw] = allSpans(g);
  const inPlane = g.inSize[0] * H * W;
  const outPlane = oD * oH * oW;
  for (let pl = 0; pl < g.planes; pl++) {
    const xo = pl * inPlane;
    let q = pl * outPlane;
    for (let od = 0; od < oD; od++) {
      for (let oh = 0; oh < oH; oh++) {
        for (let ow = 0; ow < oW; ow++, q++) {
          let best = -Infinity;
          // As in PyTorch, the index starts at the first in-bounds tap (so a window of -∞ points
          // there); a window made only of padding (possible with dilation) gets -1 and output -∞.
          const empty = sd.count[od] === 0 || sh.count[oh] === 0 || sw.count[ow] === 0;
          let bestIdx = empty ? -1 : (sd.first[od] * H + sh.first[oh]) * W + sw.first[ow];
          for (let a = 0, id = sd.first[od]; a < sd.count[od]; a++, id += dD) {
            for (let b = 0, ih = sh.first[oh]; b < sh.count[oh]; b++, ih += dH) {
              const rowIdx = (id * H + ih) * W;
              for (let c = 0, iw = sw.first[ow]; c < sw.count[ow]; c++, iw += dW) {
                const v = x[xo + rowIdx + iw];
                if (v > best || Number.isNaN(v)) {
                  best = v;
                  bestIdx = rowIdx + iw;
                }
              }
            }
          }
          y[q] = best;
          idx[q] = bestIdx;
        }
      }
    }
  }
}

export function maxPoolBackward(g: PoolGeometry, dy: Float32Array, idx: Int32Array, dx: Float32Array): void {
  const inPlane = g.inSize[0] * g.inSize[1] * g.inSize[2];
  const outPlane = g.outSize[0] * g.outSize[1] * g.outSize[2];
  dx.fill(0, 0, g.planes * inPlane);
  for (let pl = 0; pl < g.planes; pl++) {
    const xo = pl * inPlane;
    for (let q = pl * outPlane; q < (pl + 1) * outPlane; q++) if (idx[q] >= 0) dx[xo + idx[q]] += dy[q];
  }
}

function avgPool(
  g: PoolGeometry,
  src: Float32Array,
  dst: Float32Array,
  countIncludePad: boolean,
  backward: boolean,
) {
  const [, H, W] = g.inSize;
  const [oD, oH, oW] = g.outSize;
  const [dD, dH, dW] = g.dilation;
  const [sd, sh, sw] = allSpans(g);
  const inPlane = g.inSize[0] * H * W;
  const outPlane = oD * oH * oW;
  if (backward) dst.fill(0, 0, g.planes * inPlane);
  for (let pl = 0; pl < g.planes; pl++) {
    const xo = pl * inPlane;
    let q = pl * outPlane;
    for (let od = 0; od < oD; od++) {
      for (let oh = 0; oh < oH; oh++) {
        for (let ow = 0; ow < oW; ow++, q++) {
          const real = sd.count[od] * sh.count[oh] * sw.count[ow];
          if (real === 0) {
            if (!backward) dst[q] = 0;
            continue;
          }
          const divisor = countIncludePad ? sd.padded[od] * sh.padded[oh] * sw.padded[ow] : real;
          const gq = backward ? src[q] / divisor : 0;
          let sum = 0;
          for (let a = 0, id = sd.first[od]; a < sd.count[od]; a++, id += dD) {
            for (let b = 0, ih = sh.first[oh]; b < sh.count[oh]; b++, ih += dH) {
              const rowIdx = xo + (id * H + ih) * W;
              for (let c = 0, iw = sw.first[ow]; c < sw.count[ow]; c++, iw += dW) {
                if (backward) dst[rowIdx + iw] += gq;
                else sum += src[rowIdx + iw];
              }
            }
          }
          if (!backward) dst[q] = sum / divisor;
        }
      }
    }
  }
}

export function avgPoolForward(
  g: PoolGeometry,
  x: Float32Array,
  y: Float32Array,
  countIncludePad: boolean,
): void {
  avgPool(g, x, y, countIncludePad, false);
}

export function avgPoolBackward(
  g: PoolGeometry,
  dy: Float32Array,
  dx: Float32Array,
  countIncludePad: boolean,
): void {
  avgPool(g, dy, dx, countIncludePad, true);
}
