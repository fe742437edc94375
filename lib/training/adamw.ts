// AdamW (decoupled weight decay, Loshchilov & Hutter) over Float32Array parameters, as torch.optim.AdamW computes
// it: p -= lr * wd * p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr * m_hat / (sqrt(v_hat) + eps).

interface AdamWOptions {
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  readonly weightDecay?: number;
}

export interface AdamWState {
  step: number;
  readonly m: Float32Array[];
  readonly v: Float32Array[];
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly state: AdamWState;

  /** `shapes` are the lengths of the parameter tensors, in the order `step` receives them. */
  constructor(sizes: readonly number[], options: AdamWOptions = {}, state?: AdamWState) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    if (state) {
      if (state.m.length !== sizes.length || state.m.some((m, i) => m.length !== sizes[i])) {
        throw new Error('AdamW state does not match the parameter sizes; it belongs to another model');
      }
      this.state = state;
    } else {
      this.state = { step: 0, m: sizes.map((n) => new Float32Array(n)), v: sizes.map((n) => new Float32Array(n)) };
    }
  }

  /** One update in place with learning rate `lr`. */
  step(params: readonly Float32Array[], grads: readonly Float32Array[], lr: number): void {
    if (params.length !== this.state.m.length || grads.length !== params.length) {
      throw new Error(`AdamW.step: expected ${this.state.m.length} parameter and gradient tensors, got ${params.length} and ${grads.length}`);
    }
    const t = ++this.state.step;
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    const decay = 1 - lr * this.weightDecay;
    for (let k = 0; k < params.length; k++) {
      const p = params[k]!;
      const g = grads[k]!;
      const m = this.state.m[k]!;
      const v = this.state.v[k]!;
      if (p.length !== m.length || g.length !== m.length) throw new Error(`AdamW.step: tensor ${k} has the wrong length`);
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]!;
        const mi = (m[i] = this.beta1 * m[i]! + (1 - this.beta1) * gi);
        const vi = (v[i] = this.beta2 * v[i]! + (1 - this.beta2) * gi * gi);
        p[i] = p[i]! * decay - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + this.eps);
      }
    }
  }
}

/**
 * Linear warm-up from 0 to `peak` over `warmupSteps`, then linear decay to 0 at `totalSteps` (the schedule of
 * transformers' get_linear_schedule_with_warmup). `step` counts from 0.
 */
export function linearSchedule(step: number, totalSteps: number, warmupSteps: number, peak: number): number {
  if (step < warmupSteps) return (peak * step) / Math.max(1, warmupSteps);
  return (peak * Math.max(0, totalSteps - step)) / Math.max(1, totalSteps - warmupSteps);
}

/** Scales gradients in place so their global L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGradNorm(grads: readonly Float32Array[], maxNorm: number): number {
  let sq = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  const norm = Math.sqrt(sq);
  const scale = maxNorm / (norm + 1e-6);
  if (scale < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = g[i]! * scale;
  return norm;
}
