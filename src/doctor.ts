/**
 * The training doctor: detects mistakes that silently ruin training (softmax before
 * CrossEntropyLoss, zeroGrad() between backward() and step(), NaN losses, swapped splits,
 * unnormalised pixels) and warns once per kind, with the fix. Warnings, never errors.
 * Silence with `doctor.enabled = false` or the environment variable STRIDE_DOCTOR=0.
 */

export interface DoctorWarning {
  /** A stable identifier, e.g. 'softmax-before-cross-entropy'. */
  code: string;
  message: string;
}

type Listener = (w: DoctorWarning) => void;

const envOff =
  typeof process !== 'undefined' && typeof process.env === 'object' && process.env?.STRIDE_DOCTOR === '0';

class Doctor {
  enabled = !envOff;
  /** Every warning given so far (in order), for tests and reports. */
  readonly warnings: DoctorWarning[] = [];
  private seen = new Set<string>();
  private listeners: Listener[] = [];

  /** Warns once per code (unless disabled). Returns whether a warning was given. */
  warn(code: string, message: string): boolean {
    if (!this.enabled || this.seen.has(code)) return false;
    this.seen.add(code);
    const w = { code, message };
    this.warnings.push(w);
    if (this.listeners.length === 0) console.warn(`stride doctor: ${message}`);
    for (const l of this.listeners) l(w);
    return true;
  }

  /** Whether this warning was already given (checks skip their scan once it has been). */
  given(code: string): boolean {
    return this.seen.has(code);
  }

  /** Replaces console output with a listener (e.g. to route warnings into a progress bar). */
  onWarning(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Forgets what was said, so each warning can be given again (tests, new training runs). */
  reset(): void {
    this.seen.clear();
    this.warnings.length = 0;
  }
}

export const doctor = new Doctor();
