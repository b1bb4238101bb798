/**
 * The kernel contract: everything above this line (ops, autograd, nn) speaks Tensors; everything
 * below speaks flat row-major Float32Arrays that the caller owns. Kernels never allocate their
 * outputs: the caller passes them in, so storage stays JS-owned and garbage-collected.
 *
 * The js backend implements every kernel and is the definition; the native backend overrides the
 * hot ones and must agree with js (and with PyTorch's oracle) within float32 tolerance.
 */

/**
 * Convolution geometry, always described in 3 spatial dims (D, H, W): conv1d uses D = H = 1,
 * conv2d uses D = 1, with kernel 1, stride 1, padding 0 and dilation 1 on the unused dims.
 * Layouts: x [n, cIn, D, H, W], w [cOut, cIn / groups, kD, kH, kW], y [n, cOut, oD, oH, oW].
 */
export interface ConvGeometry {
  n: number;
  cIn: number;
  cOut: number;
  groups: number;
  inSize: [number, number, number];
  outSize: [number, number, number];
  kernel: [number, number, number];
  stride: [number, number, number];
  /** Zeros added before each spatial dim (PyTorch pads symmetrically, except 'same' with even kernels). */
  padBefore: [number, number, number];
  dilation: [number, number, number];
}

/**
 * Pooling geometry over `planes` = n * c independent planes, in 3 spatial dims like ConvGeometry.
 * Windows that would start inside the trailing padding (ceilMode) are already excluded by outSize.
 */
export interface PoolGeometry {
  planes: number;
  inSize: [number, number, number];
  outSize: [number, number, number];
  kernel: [number, number, number];
  stride: [number, number, number];
  padding: [number, number, number];
  dilation: [number, number, number];
}

export interface BackendInfo {
  backend: 'js' | 'native';
  simd: string;
  threads: number;
}

export interface Backend {
  readonly name: 'js' | 'native';
  info(): BackendInfo;

  /** C[m×n] = alpha · op(A) · op(B) + beta · C, row-major; op(A) is m×k, op(B) is k×n. */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;

  /** y = conv(x, w) + bias. Overwrites y. */
  convForward(
    g: ConvGeometry,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
  ): void;
  /** dx = ∂(Σ y·dy)/∂x. Overwrites dx. (Also the forward pass of a transposed convolution.) */
  convBackwardInput(g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void;
  /** dw (and db when given) = ∂(Σ y·dy)/∂w, ∂/∂bias. Overwrites dw and db. */
  convBackwardWeight(
    g: ConvGeometry,
    x: Float32Array,
    dy: Float32Array,
    dw: Float32Array,
    db: Float32Array | null,
  ): void;

  /**
   * A conv block: the convolution, then relu when `relu`, then max pooling when `pool` is given
   * (its planes are the n·cOut output planes of the convolution, its inSize the conv's outSize).
   * y is the block's output and idx, with pool, the pooling's argmax, exactly as convForward,
   * relu and maxPoolForward in a row would give them; the native kernel never stores the
   * convolution's full output. Overwrites y and idx; idx may be null when no backward pass will
   * need it (inference).
   */
  convBlockForward(
    g: ConvGeometry,
    pool: PoolGeometry | null,
    relu: boolean,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
    idx: Int32Array | null,
  ): void;
  /**
   * The conv block's gradients from its output y, idx and dy: those of maxPoolBackward,
   * reluBackward, convBackwardInput and convBackwardWeight in a row. Overwrites dx, dw and db,
   * each only when given.
   */
  convBlockBackward(
    g: ConvGeometry,
    pool: PoolGeometry | null,
    relu: boolean,
    x: Float32Array,
    w: Float32Array,
    y: Float32Array,
    idx: Int32Array | null,
    dy: Float32Array,
    dx: Float32Array | null,
    dw: Float32Array | null,
    db: Float32Array | null,
  ): void;
  /**
   * Max pooling; idx gets each maximum's flat position within its (D, H, W) input plane, as PyTorch
   * gives it (padding counts as -∞, the first maximum wins, a NaN always wins). A window that covers
   * only padding (possible with dilation) gives -∞ and index -1, which the backward pass skips.
   */
  maxPoolForward(g: PoolGeometry, x: Float32Array, y: Float32Array, idx: Int32Array): void;
  /** Overwrites dx with dy scattered (summed) to the positions in idx. */
  maxPoolBackward(g: PoolGeometry, dy: Float32Array, idx: Int32Array, dx: Float32Array): void;
  /**
   * PyTorch's avg_pool: the divisor is the window clipped to the padded input with countIncludePad,
   * else the number of real input elements in it; a window with none outputs 0.
   */
  avgPoolForward(g: PoolGeometry, x: Float32Array, y: Float32Array, countIncludePad: boolean): void;
  /** Overwrites dx. */
  avgPoolBackward(g: PoolGeometry, dy: Float32Array, dx: Float32Array, countIncludePad: boolean): void;

  /** Adam/AdamW update of one parameter in place (PyTorch's formulas, bias-corrected). */
  adamStep(
    p: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    vMax: Float32Array | null,
    o: AdamStepOptions,
  ): void;

  /**
   * Optional elementwise kernels (the native backend has them; ops fall back to their own loops
   * for small arrays or when absent). Both work on the float32 bit patterns, as PyTorch's relu:
   * y[i] = x[i] with its sign bit clear, else +0 (so +NaN passes, -0 and -NaN give +0), over
   * x.length. reluBackward: dx[i] = bits(y[i]) > 0 ? dy[i] : +0 over y.length; dx may be dy.
   */
  relu?(x: Float32Array, y: Float32Array): void;
  reluBackward?(y: Float32Array, dy: Float32Array, dx: Float32Array): void;
}

export interface AdamStepOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** true: AdamW's decoupled decay p -= lr·wd·p; false: Adam's L2 term grad += wd·p. */
  decoupled: boolean;
  /** 1-based step count after this step. */
  step: number;
}
