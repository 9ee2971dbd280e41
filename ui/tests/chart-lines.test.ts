// Unit tests of the lines a metric chart draws: per run (envelope, smoothing) and per group.
import { describe, expect, it } from 'vitest'
import { buildLines, countDrawn, nearest } from '../src/lib/chart/lines'
import type { Loaded } from '../src/lib/chart/series'

const loaded = (x: number[], y: (number | null)[], env: boolean): Loaded =>
  ({
    x,
    y,
    lo: env ? y.map((v) => (v === null ? null : v - 1)) : null,
    hi: env ? y.map((v) => (v === null ? null : v + 1)) : null,
    downsampled: env,
    lastStep: x[x.length - 1] ?? null,
  }) as unknown as Loaded

const runs = [
  { id: 'a', name: 'run a', colour: '#111' },
  { id: 'b', name: 'run b', colour: '#222' },
  { id: 'c', name: 'empty', colour: '#333' },
]
const src = new Map<string, Loaded>([
  ['a', loaded([0, 1, 2], [1, 2, 3], true)],
  ['b', loaded([0, 1, 2], [3, 4, 5], false)],
  ['c', loaded([], [], false)],
])

describe('buildLines', () => {
  it('draws one line per run with data, with the envelope of downsampled series only', () => {
    const lines = buildLines(src, { runs, groups: null, smoothing: 0, envelope: true, band: 'minmax' })
    expect(lines.map((l) => l.label)).toEqual(['run a', 'run b'])
    expect(lines[0].lo).toEqual([0, 1, 2])
    expect(lines[1].lo).toBeNull()
    expect(lines[0].raw).toBeNull()
    const off = buildLines(src, { runs, groups: null, smoothing: 0, envelope: false, band: 'minmax' })
    expect(off[0].lo).toBeNull()
  })

  it('keeps the raw values beside a smoothed line', () => {
    const [a] = buildLines(src, { runs: runs.slice(0, 1), groups: null, smoothing: 0.9, envelope: false, band: 'minmax' })
    expect(a.raw).toEqual([1, 2, 3])
    expect(a.y).not.toEqual([1, 2, 3])
    expect(a.y[0]).toBe(1)
  })

  it('draws one mean line per group with a band, labelled with its size', () => {
    const groups = [
      { name: 'A', colour: '#a00', runIds: ['a', 'b'] },
      { name: 'none', colour: '#0a0', runIds: ['c', 'missing'] },
    ]
    const lines = buildLines(src, { runs, groups, smoothing: 0, envelope: true, band: 'minmax' })
    expect(lines.map((l) => l.label)).toEqual(['A (2)'])
    expect(lines[0].y).toEqual([2, 3, 4])
    expect(lines[0].lo).toEqual([1, 2, 3])
    expect(lines[0].hi).toEqual([3, 4, 5])
    expect(buildLines(new Map(), { runs, groups, smoothing: 0, envelope: true, band: 'minmax' })).toEqual([])
  })
})

describe('nearest', () => {
  it('finds the closest value only inside the series span', () => {
    expect(nearest([1, null, null, 4], 1)).toBe(1)
    expect(nearest([1, null, null, 4], 2)).toBe(4)
    expect(nearest([1, 2, null], 2)).toBeNull()
    expect(nearest([null, 2, 3], 0)).toBeNull()
  })
})

describe('countDrawn', () => {
  it('counts the lines with at least one value', () => {
    const line = (y: (number | null)[]) => ({ label: 'l', colour: '#000', x: y.map((_, i) => i), y, raw: null, lo: null, hi: null })
    expect(countDrawn([line([1, null]), line([null, null]), line([]), line([null, 0])])).toBe(2)
    expect(countDrawn([])).toBe(0)
  })
})
