// The A/B view's derived numbers: per-arm CIs, per-seed values, progress and the verdict text.
import { describe, expect, it } from 'vitest'
import { toMs, uniqueDevices, type Ab } from '../src/lib/launchApi'
import { armLabel, progress, seedValues, summarize, t975, ticks, verdict, yRange } from '../src/views/launch/abview'

const ab = (over: Partial<Ab> = {}): Ab => ({
  id: 'ab1',
  project: 'mlp',
  name: 'lr=0.001 vs lr=0.05',
  metric: 'val/acc',
  direction: 'maximize',
  status: 'finished',
  spec: { a: { lr: '0.001' }, b: { lr: '0.05' }, base: {}, seeds: 2, source: 'launch' },
  result: {
    comparison: { a: { n: 2, mean: 0.5, std: 0.1 }, b: { n: 2, mean: 0.9, std: 0.1 }, outcome: 'b_better', verdict: 'B is better than A by 0.4' },
    runs: [
      { arm: 'a', run: 'r1', name: 'A1', status: 'finished', value: 0.5, error: null },
      { arm: 'b', run: 'r2', name: 'B1', status: 'finished', value: 'NaN', error: null },
    ],
  },
  error: null,
  created_ms: 0,
  ended_ms: 1,
  runs: [
    { arm: 'a', seq: 1, run_id: 'r1' },
    { arm: 'b', seq: 2, run_id: 'r2' },
    { arm: 'a', seq: 3, run_id: 'r3' },
  ],
  ...over,
})

describe('statistics', () => {
  it('has the t quantiles scipy gives', () => {
    expect(t975(1)).toBeCloseTo(12.706, 3)
    expect(t975(4)).toBeCloseTo(2.776, 3)
    expect(t975(60)).toBeCloseTo(2.0003, 3)
    expect(t975(1000)).toBeCloseTo(1.9623, 3)
  })
  it('summarizes an arm with its 95% CI of the mean', () => {
    const s = summarize([0.5225, 0.5575, 0.5825])!
    expect(s.n).toBe(3)
    expect(s.mean).toBeCloseTo(0.554167, 5)
    expect(s.std).toBeCloseTo(0.030139, 5)
    // scipy.stats.t.interval(0.95, 2, loc=mean, scale=sem)
    expect(s.low).toBeCloseTo(0.479298, 4)
    expect(s.high).toBeCloseTo(0.629035, 4)
    expect(summarize([null, NaN])).toBeNull()
    expect(summarize([1])).toMatchObject({ n: 1, mean: 1, std: null, low: 1, high: 1 })
    expect(summarize([3, 1, 2, 10])).toMatchObject({ median: 2.5, min: 1, max: 10 })
  })
})

describe('seed values and progress', () => {
  it('takes values from the result, and live values for runs it lacks', () => {
    const v = seedValues(ab(), { r3: { value: 0.7, status: 'running' } })
    expect(v.map((x) => [x.arm, x.run, x.status, x.value])).toEqual([
      ['a', 'r1', 'finished', 0.5],
      ['b', 'r2', 'finished', NaN],
      ['a', 'r3', 'running', 0.7],
    ])
  })
  it('counts progress from runs, or from queue jobs when there are any', () => {
    const a = ab({ status: 'running', result: null })
    const v = seedValues(a, { r1: { value: 1, status: 'finished' }, r2: { value: 1, status: 'failed' } })
    expect(progress(a, v)).toEqual({ total: 4, done: 2, running: 1, queued: 1, failed: 1 })
    const job = (state: string) => ({ ab_id: 'ab1', state }) as never
    expect(progress(a, v, [job('finished'), job('running'), job('queued'), job('queued')])).toEqual({ total: 4, done: 1, running: 1, queued: 2, failed: 0 })
  })
})

describe('verdict', () => {
  it('says the stored verdict, toned by outcome', () => {
    expect(verdict(ab(), progress(ab(), []))).toEqual({ text: 'B is better than A by 0.4', tone: 'good' })
  })
  it('says how far a running A/B has come', () => {
    const a = ab({ status: 'running', result: null })
    expect(verdict(a, { total: 4, done: 1, running: 1, queued: 2, failed: 0 }).text).toMatch(/^Running: 1 of 4 runs done, 1 running/)
  })
  it('explains a failed A/B', () => {
    const a = ab({ status: 'failed', result: null, error: 'no verdict: arm A has fewer than 2 values' })
    expect(verdict(a, progress(a, []))).toEqual({ text: 'No verdict: arm A has fewer than 2 values', tone: 'error' })
  })
  it('labels arms from params or groups', () => {
    expect(armLabel(ab(), 'b')).toBe('lr=0.05')
    expect(armLabel(ab({ spec: { source: 'groups', a: { group: 'base' } } }), 'a')).toBe('group base')
  })
})

describe('scales', () => {
  it('pads ranges and picks round ticks', () => {
    const [lo, hi] = yRange([1, 1])
    expect(lo).toBeCloseTo(0.942)
    expect(hi).toBeCloseTo(1.058)
    expect(ticks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1])
    expect(ticks(0.52, 0.97, 5)).toEqual([0.6, 0.7, 0.8, 0.9])
  })
})

describe('wire times', () => {
  it('reads the server’s Unix seconds as milliseconds', () => {
    expect(toMs(1795950000.25)).toBe(1795950000250)
    expect(toMs(1795950000250)).toBe(1795950000250)
    expect(toMs('2026-11-29T11:00:00Z')).toBe(Date.parse('2026-11-29T11:00:00Z'))
    expect(toMs(null)).toBeNull()
  })
})

describe('devices', () => {
  it('merges entries that share an id', () => {
    const w = (detail: string) => ({ id: 'wgpu:llvmpipe', kind: 'wgpu', name: 'llvmpipe', detail })
    expect(uniqueDevices([{ id: 'cpu', kind: 'cpu', name: 'CPU', detail: '2 cores' }, w('Vulkan'), w('Gl')])).toEqual([
      { id: 'cpu', kind: 'cpu', name: 'CPU', detail: '2 cores' },
      { ...w('Vulkan; Gl') },
    ])
  })
})
