// The A/B view's derived numbers: per-arm CIs, per-seed values, progress and the verdict text.
import { describe, expect, it } from 'vitest'
import { toMs, uniqueDevices, type Ab, type AbLive, type AbLiveArm, type AbLiveRun } from '../src/lib/launchApi'
import { armLabel, armSummary, progress, seedValues, ticks, verdict, yRange } from '../src/views/launch/abview'

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

const arm = (over: Partial<AbLiveArm> = {}): AbLiveArm => ({
  n: 0,
  mean: null,
  std: null,
  sem: null,
  confidence: 0.95,
  ci_low: null,
  ci_high: null,
  median: null,
  min: null,
  max: null,
  note: null,
  ...over,
})
const liveRun = (run: string, arm: 'a' | 'b', status: string, value: number | string | null): AbLiveRun => ({
  arm,
  seq: 0,
  run,
  name: run.toUpperCase(),
  status,
  value,
  counts: status === 'finished',
})
const live = (runs: AbLiveRun[]): AbLive => ({ runs, a: arm(), b: arm() })

describe('statistics from the server', () => {
  it('reads an arm’s mean and interval as numbers', () => {
    const s = armSummary(arm({ n: 3, mean: 0.55, std: 0.03, sem: 0.017, ci_low: 0.48, ci_high: 0.63, median: 0.56, min: 0.52, max: 0.58 }))
    expect(s).toEqual({ n: 3, mean: 0.55, std: 0.03, sem: 0.017, median: 0.56, min: 0.52, max: 0.58, low: 0.48, high: 0.63 })
  })
  it('has no summary without a mean, and a point interval with one value', () => {
    expect(armSummary(arm())).toBeNull()
    expect(armSummary(undefined)).toBeNull()
    expect(armSummary(arm({ n: 2, mean: 'NaN' }))).toBeNull()
    expect(armSummary(arm({ n: 1, mean: 2, median: 2, min: 2, max: 2 }))).toMatchObject({ n: 1, mean: 2, std: null, low: 2, high: 2 })
  })
})

describe('seed values and progress', () => {
  it('takes values from the result, and live values for runs it lacks', () => {
    const v = seedValues(ab(), live([liveRun('r3', 'a', 'running', 0.7)]))
    expect(v.map((x) => [x.arm, x.run, x.status, x.value])).toEqual([
      ['a', 'r1', 'finished', 0.5],
      ['b', 'r2', 'finished', NaN],
      ['a', 'r3', 'running', 0.7],
    ])
  })
  it('counts progress from runs, or from queue jobs when there are any', () => {
    const a = ab({ status: 'running', result: null })
    const v = seedValues(a, live([liveRun('r1', 'a', 'finished', 1), liveRun('r2', 'b', 'failed', 1)]))
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
