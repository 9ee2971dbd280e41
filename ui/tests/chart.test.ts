// Unit tests of the chart data logic: wire conversion, alignment, smoothing, grouping, helpers.
import { describe, expect, it } from 'vitest'
import { align, interpolate, place, unionX } from '../src/lib/chart/align'
import { groupStats } from '../src/lib/chart/group'
import { appendRaw, fromWire, positiveOnly, stepRange } from '../src/lib/chart/series'
import { ema } from '../src/lib/chart/smooth'
import { fmtSeconds, fmtTick, withAlpha } from '../src/lib/chart/style'
import { limited, Lru } from '../src/lib/chart/fetch'
import type { Series } from '../src/lib/api.svelte'

const raw = (steps: number[], values: (number | string)[], x: number[] | null = null): Series => ({
  downsampled: false,
  key: 'k',
  total: steps.length,
  x: 'step',
  points: { steps, values, wall_ms: steps.map((s) => 1000 + s), x },
})

describe('fromWire', () => {
  it('turns raw points into x/y with non-finite values as gaps', () => {
    const d = fromWire(raw([0, 1, 2, 3], [1, 'NaN', 'Infinity', 4]))
    expect(d.x).toEqual([0, 1, 2, 3])
    expect(d.y).toEqual([1, null, null, 4])
    expect(d.lo).toBeNull()
    expect(d.downsampled).toBe(false)
    expect(d.lastStep).toBe(3)
  })

  it('uses the server x when given (relative/wall) and sorts out-of-order x', () => {
    const d = fromWire(raw([0, 1, 2], [10, 11, 12], [5, 3, 9]))
    expect(d.x).toEqual([3, 5, 9])
    expect(d.y).toEqual([11, 10, 12])
    expect(d.steps).toEqual([1, 0, 2])
  })

  it('turns buckets into the line (last) and the envelope (min/max)', () => {
    const s: Series = {
      downsampled: true,
      key: 'k',
      total: 100,
      x: 'step',
      method: 'minmax',
      buckets: { x: [49, 99], count: [50, 50], min: [0, null], max: [5, '-Infinity'], last: [2, 'NaN'], last_step: [49, 99] },
    }
    const d = fromWire(s)
    expect(d.downsampled).toBe(true)
    expect(d.x).toEqual([49, 99])
    expect(d.y).toEqual([2, null])
    expect(d.lo).toEqual([0, null])
    expect(d.hi).toEqual([5, null])
    expect(d.lastStep).toBe(99)
    expect(d.total).toBe(100)
  })

  it('handles an empty series', () => {
    const d = fromWire(raw([], []))
    expect(d.x).toEqual([])
    expect(d.lastStep).toBe(-1)
  })
})

describe('appendRaw', () => {
  it('appends only points after the last step', () => {
    const a = fromWire(raw([0, 1, 2], [1, 2, 3]))
    const b = fromWire(raw([2, 3, 4], [3, 4, 5]))
    const c = appendRaw(a, b)
    expect(c.x).toEqual([0, 1, 2, 3, 4])
    expect(c.y).toEqual([1, 2, 3, 4, 5])
    expect(c.lastStep).toBe(4)
  })
})

describe('stepRange', () => {
  const d = fromWire({
    downsampled: true,
    key: 'k',
    total: 400,
    x: 'step',
    method: 'minmax',
    buckets: { x: [99, 199, 299, 399], count: [100, 100, 100, 100], min: [0, 0, 0, 0], max: [1, 1, 1, 1], last: [1, 1, 1, 1], last_step: [99, 199, 299, 399] },
  })
  it('covers the window from the step after the previous point to the next point', () => {
    expect(stepRange(d, 150, 250)).toEqual({ min_step: 100, max_step: 299 })
    expect(stepRange(d, 0, 120)).toEqual({ min_step: 0, max_step: 199 })
    expect(stepRange(d, 350, 1000)).toEqual({ min_step: 300, max_step: 399 })
  })
})

describe('align', () => {
  it('unions sorted x arrays without duplicates', () => {
    expect(unionX([[1, 3, 5], [2, 3, 6], []])).toEqual([1, 2, 3, 5, 6])
    expect(unionX([[1, 2, 2, 3], [1, 2, 2, 3]])).toEqual([1, 2, 3])
    expect(unionX([])).toEqual([])
  })

  it('places each series on the union with nulls where it has no point', () => {
    const a = align([
      { x: [1, 3, 5], ys: [[10, 30, 50]] },
      { x: [2, 3, 6], ys: [[20, null, 60], [0, 0, 0]] },
    ])
    expect(a.x).toEqual([1, 2, 3, 5, 6])
    // undefined: no point at that x (uPlot draws across it); null: the run's own gap (kept)
    expect(a.ys[0]).toEqual([[10, undefined, 30, 50, undefined]])
    expect(a.ys[1]).toEqual([
      [undefined, 20, null, undefined, 60],
      [undefined, 0, 0, undefined, 0],
    ])
  })

  it('keeps the same x arrays as they are (fast path)', () => {
    const x = [0, 1, 2]
    expect(place(x, x, [1, 2, 3])).toEqual([1, 2, 3])
  })

  it('last value wins on duplicate x', () => {
    expect(place([1, 2], [1, 1, 2], [5, 6, 7])).toEqual([6, 7])
  })

  // Its speed on big inputs is measured in tests/logic.bench.ts.
  it('interleaves big inputs into one sorted axis', () => {
    const n = 200_000
    const xs = Array.from({ length: 4 }, (_, k) => Array.from({ length: n }, (_, i) => i * 4 + k))
    const a = align(xs.map((x) => ({ x, ys: [x] })))
    expect(a.x.length).toBe(4 * n)
    expect(a.x.every((x, i) => x === i)).toBe(true)
    // Each series has its own values at its own x and a hole elsewhere.
    expect(a.ys[1][0].slice(0, 8)).toEqual([undefined, 1, undefined, undefined, undefined, 5, undefined, undefined])
  })

  it('interpolates inside a series span only', () => {
    expect(interpolate([0, 1, 2, 3, 4], [null, 0, null, 4, null])).toEqual([null, 0, 2, 4, null])
    expect(interpolate([0, 1, 2, 3], [undefined, 0, undefined, 4])).toEqual([null, 0, 2, 4])
  })
})

describe('ema', () => {
  it('is debiased: a constant series stays constant', () => {
    expect(ema([5, 5, 5, 5], 0.9).every((v) => Math.abs((v as number) - 5) < 1e-9)).toBe(true)
  })

  it('matches the TensorBoard formula', () => {
    const w = 0.6
    const out = ema([1, 2, 3], w)
    let last = 0
    const want = [1, 2, 3].map((v, i) => {
      last = last * w + (1 - w) * v
      return last / (1 - w ** (i + 1))
    })
    out.forEach((v, i) => expect(v).toBeCloseTo(want[i], 12))
    expect(out[0]).toBeCloseTo(1, 12)
  })

  it('keeps gaps and NaN as gaps without resetting', () => {
    const out = ema([1, null, NaN, 3], 0.5)
    expect(out[1]).toBeNull()
    expect(out[2]).toBeNull()
    // same as smoothing [1, 3]
    expect(out[3]).toBeCloseTo(ema([1, 3], 0.5)[1] as number, 12)
  })

  it('weight 0 is the identity', () => {
    expect(ema([1, null, 3], 0)).toEqual([1, null, 3])
  })
})

describe('groupStats', () => {
  it('computes the mean with a min–max band', () => {
    const g = groupStats([0, 1], [[1, 3], [3, 5]], 'minmax')
    expect(g.mean).toEqual([2, 4])
    expect(g.lo).toEqual([1, 3])
    expect(g.hi).toEqual([3, 5])
    expect(g.n).toEqual([2, 2])
  })

  it('computes ±1 std', () => {
    const g = groupStats([0], [[1], [3]], 'std')
    expect(g.mean).toEqual([2])
    expect(g.lo).toEqual([1])
    expect(g.hi).toEqual([3])
  })

  it('interpolates runs logged at other x and ignores runs outside their span', () => {
    const g = groupStats([0, 1, 2, 3], [[0, undefined, 2, undefined], [undefined, 10, undefined, undefined]], 'minmax')
    expect(g.mean).toEqual([0, 5.5, 2, null])
    expect(g.n).toEqual([1, 2, 1, 0])
  })
})

describe('helpers', () => {
  it('positiveOnly gaps values ≤ 0 for log axes', () => {
    const a = [1, 2]
    expect(positiveOnly(a)).toBe(a)
    expect(positiveOnly([1, 0, -1, null, 2])).toEqual([1, null, null, null, 2])
    expect(positiveOnly([undefined, -1])).toEqual([undefined, null])
  })

  it('withAlpha turns hex into rgba', () => {
    expect(withAlpha('#2563eb', 0.5)).toBe('rgba(37, 99, 235, 0.5)')
    expect(withAlpha('#fff', 1)).toBe('rgba(255, 255, 255, 1)')
    expect(withAlpha('red', 0.5)).toBe('red')
  })

  it('fmtTick keeps axis labels short', () => {
    expect(fmtTick(0)).toBe('0')
    expect(fmtTick(0.0001)).toBe('1e-4')
    expect(fmtTick(2500000)).toBe('2.5e6')
    expect(fmtTick(0.25)).toBe('0.25')
    expect(fmtTick(800000)).toBe('800000')
    expect(fmtTick(0.1 + 0.2)).toBe('0.3')
  })

  it('fmtSeconds', () => {
    expect(fmtSeconds(42)).toBe('42s')
    expect(fmtSeconds(200)).toBe('3m 20s')
    expect(fmtSeconds(7500)).toBe('2h 5m')
  })

  it('Lru keeps the most recently used entries', () => {
    const c = new Lru<number>(2)
    c.set('a', 1)
    c.set('b', 2)
    expect(c.get('a')).toBe(1)
    c.set('c', 3) // evicts b, the least recently used
    expect(c.get('b')).toBeUndefined()
    expect(c.get('a')).toBe(1)
    expect(c.get('c')).toBe(3)
    expect(c.size).toBe(2)
  })

  it('limited runs at most 8 at once', async () => {
    let active = 0
    let peak = 0
    await Promise.all(
      Array.from({ length: 30 }, () =>
        limited(async () => {
          active++
          peak = Math.max(peak, active)
          await new Promise((r) => setTimeout(r, 1))
          active--
        }),
      ),
    )
    expect(peak).toBe(8)
  })
})
