// Summary statistics of timing samples: the benchmark reports medians and the p10/p90 spread.

/** Percentile by linear interpolation between closest ranks (q in [0, 1]). */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples');
  if (!(q >= 0 && q <= 1)) throw new Error(`percentile q must be in [0, 1], got ${q}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = q * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export interface Summary {
  median: number;
  p10: number;
  p90: number;
  min: number;
  samples: number;
}

export function summarize(samples: readonly number[]): Summary {
  return {
    median: percentile(samples, 0.5),
    p10: percentile(samples, 0.1),
    p90: percentile(samples, 0.9),
    min: Math.min(...samples),
    samples: samples.length,
  };
}
