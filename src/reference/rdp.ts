// The Rényi-DP accountant of the sampled Gaussian mechanism (Mironov, Talwar, Zhang 2019), as Opacus's
// `opacus/accountants/analysis/rdp.py` and TF Privacy's `rdp_accountant.py` compute it, in float64:
// the integer-order and fractional-order series of log A_α, the RDP of a number of steps, and its
// conversion to (ε, δ) by Balle et al. 2020 (Opacus's `get_privacy_spent`). The function names and
// semantics follow Opacus; see docs/guide/privacy.md.
import { GradclipError } from '../core/errors';

/** log(exp(x) + exp(y)), −Infinity standing for 0. */
function logAdd(x: number, y: number): number {
  const [a, b] = [Math.min(x, y), Math.max(x, y)];
  if (a === Number.NEGATIVE_INFINITY) return b;
  return Math.log1p(Math.exp(a - b)) + b;
}

/** log(exp(x) − exp(y)) for x >= y. */
function logSub(x: number, y: number): number {
  if (x < y) throw new Error('logSub: the result would be negative');
  if (y === Number.NEGATIVE_INFINITY) return x;
  if (x === y) return Number.NEGATIVE_INFINITY;
  const difference = Math.expm1(x - y);
  return Number.isFinite(difference) ? Math.log(difference) + y : x;
}

/** erfc(x) for |x| < 2 from erf's Taylor series (terms alternate; 1e-15 absolute here). */
function erfcSeries(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const next = term / (2 * n + 1);
    sum += next;
    if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
  }
  return 1 - (2 / Math.sqrt(Math.PI)) * sum;
}

/** log erfc(x) for x >= 2: −x² − log √π − log K(x), K Laplace's continued fraction (modified Lentz). */
function logErfcLarge(x: number): number {
  // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))).
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - 0.5 * Math.log(Math.PI) - Math.log(f);
}

/** log erfc(x) for any real x, without underflow for large x (Opacus's `_log_erfc`). */
export function logErfc(x: number): number {
  if (x >= 2) return logErfcLarge(x);
  if (x > -2) return Math.log(erfcSeries(x));
  return Math.log(2 - Math.exp(logErfcLarge(-x)));
}

/** log A_α for an integer α: the binomial expansion. */
function logAInteger(q: number, sigma: number, alpha: number): number {
  let logA = Number.NEGATIVE_INFINITY;
  let binomial = 1;
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) binomial *= (alpha - i + 1) / i;
    const logCoefficient = Math.log(binomial) + i * Math.log(q) + (alpha - i) * Math.log(1 - q);
    logA = logAdd(logA, logCoefficient + (i * i - i) / (2 * sigma * sigma));
  }
  return logA;
}

/** log A_α for a fractional α: the two series, summed until their terms fall below e^−30. */
function logAFractional(q: number, sigma: number, alpha: number): number {
  let logA0 = Number.NEGATIVE_INFINITY;
  let logA1 = Number.NEGATIVE_INFINITY;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  let coefficient = 1;
  for (let i = 0; ; i++) {
    if (i > 0) coefficient *= (alpha - i + 1) / i;
    const logCoefficient = Math.log(Math.abs(coefficient));
    const j = alpha - i;
    const logT0 = logCoefficient + i * Math.log(q) + j * Math.log(1 - q);
    const logT1 = logCoefficient + j * Math.log(q) + i * Math.log(1 - q);
    const logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma));
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma));
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
    if (coefficient > 0) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30) break;
  }
  return logAdd(logA0, logA1);
}

/** The RDP of one step of the sampled Gaussian mechanism at order α. */
function rdpOfStep(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0;
  if (sigma === 0) return Number.POSITIVE_INFINITY;
  if (q === 1) return alpha / (2 * sigma * sigma);
  if (alpha === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  const logA = Number.isInteger(alpha) ? logAInteger(q, sigma, alpha) : logAFractional(q, sigma, alpha);
  return logA / (alpha - 1);
}

/** Opacus's default orders: 1.1, 1.2, … 10.9, then 12, 13, … 63. */
export const DEFAULT_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
  ...Array.from({ length: 52 }, (_, x) => 12 + x),
];

export interface RdpOptions {
  /** The probability that an example is in a batch (Poisson sampling), in [0, 1]. */
  sampleRate: number;
  /** The noise's standard deviation over the clip bound, >= 0. */
  noiseMultiplier: number;
  /** Steps taken at these settings. */
  steps: number;
  /** The Rényi orders (>= 1; an order of 1 gives no bound). */
  orders: readonly number[];
}

/** The RDP at each order of `steps` steps of the sampled Gaussian mechanism (Opacus's `compute_rdp`). */
export function computeRdp({ sampleRate, noiseMultiplier, steps, orders }: RdpOptions): number[] {
  checkRate(sampleRate);
  checkMultiplier(noiseMultiplier);
  if (!Number.isInteger(steps) || steps < 0) throw rangeError(`steps must be an integer >= 0, got ${steps}`);
  checkOrders(orders);
  return orders.map((alpha) => rdpOfStep(sampleRate, noiseMultiplier, alpha) * steps);
}

/**
 * The ε of (ε, δ)-DP from RDP values, by Balle et al. 2020 (Theorem 21), at the best order
 * (Opacus's `get_privacy_spent`): ε = rdp − (log δ + log α)/(α − 1) + log((α − 1)/α).
 */
export function getPrivacySpent({
  orders,
  rdp,
  delta,
}: {
  orders: readonly number[];
  rdp: readonly number[];
  delta: number;
}): { epsilon: number; order: number } {
  checkOrders(orders);
  if (rdp.length !== orders.length)
    throw rangeError(`rdp has ${rdp.length} values but orders has ${orders.length}; they must match`);
  if (!(delta > 0 && delta < 1)) throw rangeError(`delta must be in (0, 1), got ${delta}`);
  let best = -1;
  let bestEpsilon = Number.NaN;
  orders.forEach((alpha, i) => {
    const epsilon = rdp[i] - (Math.log(delta) + Math.log(alpha)) / (alpha - 1) + Math.log((alpha - 1) / alpha);
    if (!Number.isNaN(epsilon) && (best < 0 || epsilon < bestEpsilon)) [best, bestEpsilon] = [i, epsilon];
  });
  return best < 0
    ? { epsilon: Number.POSITIVE_INFINITY, order: Number.NaN }
    : { epsilon: bestEpsilon, order: orders[best] };
}

/** One entry of an accountant's history: `steps` consecutive steps at one (noise multiplier, sample rate). */
export interface RdpHistoryEntry {
  noiseMultiplier: number;
  sampleRate: number;
  steps: number;
}

/** Opacus's RDPAccountant. */
export interface RdpAccountant {
  /** Records `steps` (default 1) more steps; consecutive steps at the same settings are merged. */
  step(options: { noiseMultiplier: number; sampleRate: number; steps?: number }): void;
  /** ε at `delta` over the history so far, and the order that gives it ((0, NaN) before any step). */
  getEpsilon(delta: number, orders?: readonly number[]): { epsilon: number; order: number };
  readonly history: readonly RdpHistoryEntry[];
}

export function createRdpAccountant(): RdpAccountant {
  const history: RdpHistoryEntry[] = [];
  return {
    history,
    step({ noiseMultiplier, sampleRate, steps = 1 }) {
      checkMultiplier(noiseMultiplier);
      checkRate(sampleRate);
      if (!Number.isInteger(steps) || steps < 1) throw rangeError(`steps must be an integer >= 1, got ${steps}`);
      const last = history.at(-1);
      if (last && last.noiseMultiplier === noiseMultiplier && last.sampleRate === sampleRate) last.steps += steps;
      else history.push({ noiseMultiplier, sampleRate, steps });
    },
    getEpsilon(delta, orders = DEFAULT_ORDERS) {
      if (!history.length) return { epsilon: 0, order: Number.NaN };
      const rdp = orders.map(() => 0);
      for (const entry of history) {
        const r = computeRdp({
          sampleRate: entry.sampleRate,
          noiseMultiplier: entry.noiseMultiplier,
          steps: entry.steps,
          orders,
        });
        r.forEach((value, i) => (rdp[i] += value));
      }
      return getPrivacySpent({ orders, rdp, delta });
    },
  };
}

/**
 * The smallest noise multiplier whose ε after the given steps (or epochs: steps = ⌊epochs /
 * sampleRate⌋) is at most `targetEpsilon`, within `epsilonTolerance` (default 0.01): Opacus's
 * `get_noise_multiplier`, its doubling from 10 and its bisection.
 */
export function getNoiseMultiplier(options: {
  targetEpsilon: number;
  delta: number;
  sampleRate: number;
  steps?: number;
  epochs?: number;
  epsilonTolerance?: number;
  orders?: readonly number[];
}): number {
  const { targetEpsilon, delta, sampleRate, epsilonTolerance = 0.01, orders = DEFAULT_ORDERS } = options;
  if ((options.steps === undefined) === (options.epochs === undefined))
    throw rangeError('give exactly one of steps and epochs');
  if (!(targetEpsilon > 0)) throw rangeError(`targetEpsilon must be > 0, got ${targetEpsilon}`);
  checkRate(sampleRate);
  const steps = options.steps ?? Math.floor(options.epochs! / sampleRate);
  const epsilonOf = (sigma: number) => {
    const accountant = createRdpAccountant();
    accountant.step({ noiseMultiplier: sigma, sampleRate, steps });
    return accountant.getEpsilon(delta, orders).epsilon;
  };
  let epsilonHigh = Number.POSITIVE_INFINITY;
  let sigmaLow = 0;
  let sigmaHigh = 10;
  while (epsilonHigh > targetEpsilon) {
    sigmaHigh *= 2;
    epsilonHigh = epsilonOf(sigmaHigh);
    if (sigmaHigh > 1e6) throw rangeError('the privacy budget is too low: no noise multiplier up to 1e6 meets it');
  }
  while (targetEpsilon - epsilonHigh > epsilonTolerance) {
    const sigma = (sigmaLow + sigmaHigh) / 2;
    const epsilon = epsilonOf(sigma);
    if (epsilon < targetEpsilon) {
      sigmaHigh = sigma;
      epsilonHigh = epsilon;
    } else {
      sigmaLow = sigma;
    }
  }
  return sigmaHigh;
}

function rangeError(message: string): GradclipError {
  return new GradclipError('invalid-argument', message);
}

function checkRate(q: number): void {
  if (typeof q !== 'number' || !(q >= 0 && q <= 1)) throw rangeError(`sampleRate must be in [0, 1], got ${q}`);
}

function checkMultiplier(sigma: number): void {
  if (typeof sigma !== 'number' || !(sigma >= 0) || !Number.isFinite(sigma))
    throw rangeError(`noiseMultiplier must be a finite number >= 0, got ${sigma}`);
}

function checkOrders(orders: readonly number[]): void {
  if (!Array.isArray(orders) || orders.length === 0 || orders.some((a) => !(a >= 1)))
    throw rangeError('orders must be a non-empty list of numbers >= 1');
}
