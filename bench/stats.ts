/** The figures every benchmark prints: a percentile (nearest rank) and a summary of samples. */
export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

export function summary(xs: number[]): { n: number; p50: number; p95: number; min: number; max: number } {
  return { n: xs.length, p50: pct(xs, 50), p95: pct(xs, 95), min: Math.min(...xs), max: Math.max(...xs) };
}
