// Exponential moving average as TensorBoard and W&B draw it: debiased (the first points are not
// pulled toward 0), weight 0..0.99. Gaps (null) and non-finite values stay gaps and do not reset
// the average; the next finite value continues it.

export function ema(y: readonly (number | null)[], weight: number): (number | null)[] {
  const w = Math.min(Math.max(weight, 0), 0.999)
  if (w === 0) return y.slice()
  const out = new Array<number | null>(y.length)
  let last = 0
  let n = 0
  for (let i = 0; i < y.length; i++) {
    const v = y[i]
    if (v === null || !Number.isFinite(v)) {
      out[i] = null
      continue
    }
    last = last * w + (1 - w) * v
    n++
    out[i] = last / (1 - Math.pow(w, n))
  }
  return out
}
