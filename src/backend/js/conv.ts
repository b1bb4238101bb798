/**
 * Convolution kernels by im2col + GEMM, the way the course teaches them.
 *
 * For one sample and one group, unfold the input into a column matrix
 *   col[K × P],  K = cInG · kD · kH · kW (one row per weight tap),  P = oD · oH · oW (one column per output)
 * so that convolution becomes a matrix product with the group's weights W_g[cOutG × K]:
 *   forward          y_g  = W_g · col (+ bias)
 *   backward-input   dcol = W_gᵀ · dy_g, then col2im scatters (adds) dcol back onto dx
 *   backward-weight  dW_g += dy_g · colᵀ, summed over the batch; db = Σ dy
 * Everything is 3-D (D, H, W); conv1d and conv2d use size-1 leading dims.
 */
import type { ConvGeometry } from '../backend.js';
import { gemm } from './gemm.js';

interface Dims {
  cInG: number;
  cOutG: number;
  /** Rows of the column matrix: cInG · kD · kH · kW. */
  K: number;
  /** Columns of the column matrix: oD · oH · oW. */
  P: number;
  /** Elements of one input channel plane: D · H · W. */
  inPlane: number;
}

function dims(g: ConvGeometry): Dims {
  const cInG = g.cIn / g.groups;
  const cOutG = g.cOut / g.groups;
  const [kD, kH, kW] = g.kernel;
  const [oD, oH, oW] = g.outSize;
  const [D, H, W] = g.inSize;
  return { cInG, cOutG, K: cInG * kD * kH * kW, P: oD * oH * oW, inPlane: D * H * W };
}

/**
 * Unfolds channels [c0, c0 + cInG) of x (starting at element xOff) into col[K × P].
 * Taps that fall into the padding read as 0.
 */
export function im2col(
  g: ConvGeometry,
  x: Float32Array,
  xOff: number,
  cInG: number,
  col: Float32Array,
): void {
  const [D, H, W] = g.inSize;
  const [oD, oH, oW] = g.outSize;
  const [kD, kH, kW] = g.kernel;
  const [sD, sH, sW] = g.stride;
  const [pD, pH, pW] = g.padBefore;
  const [dD, dH, dW] = g.dilation;
  const P = oD * oH * oW;
  let row = 0;
  for (let c = 0; c < cInG; c++) {
    const xc = xOff + c * D * H * W;
    for (let kd = 0; kd < kD; kd++) {
      for (let kh = 0; kh < kH; kh++) {
        for (let kw = 0; kw < kW; kw++, row++) {
          let q = row * P;
          for (let od = 0; od < oD; od++) {
            const id = od * sD - pD + kd * dD;
            const dIn = id >= 0 && id < D;
            for (let oh = 0; oh < oH; oh++) {
              const ih = oh * sH - pH + kh * dH;
              const hIn = dIn && ih >= 0 && ih < H;
              const base = xc + (id * H + ih) * W;
              for (let ow = 0; ow < oW; ow++, q++) {
                const iw = ow * sW - pW + kw * dW;
                col[q] = hIn && iw >= 0 && iw < W ? x[base + iw] : 0;
              }
            }
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: adds every entry of col[K × P] onto the input position it was read from. */
export function col2im(
  g: ConvGeometry,
  col: Float32Array,
  cInG: number,
  dx: Float32Array,
  dxOff: number,
): void {
  const [D, H, W] = g.inSize;
  const [oD, oH, oW] = g.outSize;
  const [kD, kH, kW] = g.kernel;
  const [sD, sH, sW] = g.stride;
  const [pD, pH, pW] = g.padBefore;
  const [dD, dH, dW] = g.dilation;
  const P = oD * oH * oW;
  let row = 0;
  for (let c = 0; c < cInG; c++) {
    const xc = dxOff + c * D * H * W;
    for (let kd = 0; kd < kD; kd++) {
      for (let kh = 0; kh < kH; kh++) {
        for (let kw = 0; kw < kW; kw++, row++) {
          let q = row * P;
          for (let od = 0; od < oD; od++) {
            const id = od * sD - pD + kd * dD;
            const dIn = id >= 0 && id < D;
            for (let oh = 0; oh < oH; oh++) {
              const ih = oh * sH - pH + kh * dH;
              const hIn = dIn && ih >= 0 && ih < H;
              const base = xc + (id * H + ih) * W;
              for (let ow = 0; ow < oW; ow++, q++) {
                const iw = ow * sW - pW + kw * dW;
                if (hIn && iw >= 0 && iw < W) dx[base + iw] += col[q];
              }
            }
          }
        }
      }
    }
  }
}

export function convForward(
  g: ConvGeometry,
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  y: Float32Array,
): void {
  const { cInG, cOutG, K, P, inPlane } = dims(g);
  const col = new Float32Array(K * P);
  for (let s = 0; s < g.n; s++) {
    for (let grp = 0; grp < g.groups; grp++) {
      im2col(g, x, (s * g.cIn + grp * cInG) * inPlane, cInG, col);
      const yOff = (s * g.cOut + grp * cOutG) * P;
      const yG = y.subarray(yOff, yOff + cOutG * P);
      const wG = w.subarray(grp * cOutG * K, (grp + 1) * cOutG * K);
      gemm(false, false, cOutG, P, K, 1, wG, K, col, P, 0, yG, P);
      if (bias) {
        for (let oc = 0; oc < cOutG; oc++) {
          const bv = bias[grp * cOutG + oc];
          for (let q = oc * P; q < (oc + 1) * P; q++) yG[q] += bv;
        }
      }
    }
  }
}

export function convBackwardInput(
  g: ConvGeometry,
  dy: Float32Array,
  w: Float32Array,
  dx: Float32Array,
): void {
  const { cInG, cOutG, K, P, inPlane } = dims(g);
  const col = new Float32Array(K * P);
  dx.fill(0, 0, g.n * g.cIn * inPlane);
  for (let s = 0; s < g.n; s++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const dyOff = (s * g.cOut + grp * cOutG) * P;
      const dyG = dy.subarray(dyOff, dyOff + cOutG * P);
      const wG = w.subarray(grp * cOutG * K, (grp + 1) * cOutG * K);
      // dcol[K × P] = W_gᵀ · dy_g
      gemm(true, false, K, P, cOutG, 1, wG, K, dyG, P, 0, col, P);
      col2im(g, col, cInG, dx, (s * g.cIn + grp * cInG) * inPlane);
    }
  }
}

export function convBackwardWeight(
  g: ConvGeometry,
  x: Float32Array,
  dy: Float32Array,
  dw: Float32Array,
  db: Float32Array | null,
): void {
  const { cInG, cOutG, K, P, inPlane } = dims(g);
  const col = new Float32Array(K * P);
  dw.fill(0, 0, g.cOut * K);
  for (let s = 0; s < g.n; s++) {
    for (let grp = 0; grp < g.groups; grp++) {
      im2col(g, x, (s * g.cIn + grp * cInG) * inPlane, cInG, col);
      const dyOff = (s * g.cOut + grp * cOutG) * P;
      const dyG = dy.subarray(dyOff, dyOff + cOutG * P);
      const dwG = dw.subarray(grp * cOutG * K, (grp + 1) * cOutG * K);
      // dW_g[cOutG × K] += dy_g · colᵀ
      gemm(false, true, cOutG, K, P, 1, dyG, P, col, P, 1, dwG, K);
    }
  }
  if (db) convBackwardBias(g, dy, db);
}

/** db[oc] = Σ over samples and positions of dy (summed per sample, then over samples). */
export function convBackwardBias(g: ConvGeometry, dy: Float32Array, db: Float32Array): void {
  const { P } = dims(g);
  db.fill(0, 0, g.cOut);
  for (let s = 0; s < g.n; s++) {
    for (let oc = 0; oc < g.cOut; oc++) {
      const off = (s * g.cOut + oc) * P;
      let sum = 0;
      for (let q = 0; q < P; q++) sum += dy[off + q];
      db[oc] += sum;
    }
  }
}
