// The Models pages' pure logic (views/models/logic.ts): alias chips, the default pair of
// versions, the side-by-side rows of two runs, and when "Register B's best run" is allowed.
import { describe, expect, it } from 'vitest'
import type { MetricSummary } from '../src/lib/api.svelte'
import { aliasChips, aliasProblem, defaultPair, modelNameProblem, pickPair, promoteGate, sameValue, sideBySide, versionLabel } from '../src/views/models/logic'

const metric = (key: string, last: number | string | null): MetricSummary => ({
  key, last, count: 1, last_step: 0, last_wall_ms: 0, min: last, max: last, mean: last, sum: last, nan_count: 0,
})

describe('alias chips', () => {
  it('reads alias → version, newest version first, then by alias', () => {
    expect(aliasChips({ staging: 2, champion: 3, best: 3 }).map((c) => c.text)).toEqual(['best → v3', 'champion → v3', 'staging → v2'])
    expect(aliasChips({ champion: 3 })[0]).toEqual({ alias: 'champion', version: 3, text: 'champion → v3' })
  })
  it('has none for a model without aliases', () => {
    expect(aliasChips({})).toEqual([])
    expect(aliasChips(null)).toEqual([])
  })
  it('names versions v1, v2…', () => {
    expect(versionLabel(7)).toBe('v7')
    expect(versionLabel(null)).toBe('—')
  })
})

describe('which versions are compared', () => {
  const vs = [{ version: 5 }, { version: 3 }, { version: 4 }]
  it('defaults to the latest two, the older on the left', () => {
    expect(defaultPair(vs)).toEqual([4, 5])
    expect(defaultPair([{ version: 1 }])).toEqual([null, 1])
    expect(defaultPair([])).toEqual([null, null])
  })
  it('takes the URL choice when the version exists, else the default', () => {
    expect(pickPair(vs, '3', '5')).toEqual([3, 5])
    expect(pickPair(vs, '9', null)).toEqual([4, 5])
    expect(pickPair(vs, 'x', '3')).toEqual([4, 3])
    expect(pickPair(vs, '1.5', ' 3 ')).toEqual([4, 3])
  })
})

describe('side by side of two runs', () => {
  const a = { params: { lr: 0.01, seed: 1, hidden: '64,64', only_a: true }, metrics: [metric('val/acc', 0.9), metric('loss', 'NaN')] }
  const b = { params: { lr: 0.03, seed: 1, hidden: '64,64' }, metrics: [metric('val/acc', 0.95), metric('loss', 'NaN'), metric('extra', 1)] }

  it('lists params then metrics, each key once and sorted, highlighting what differs', () => {
    const rows = sideBySide(a, b)
    expect(rows.map((r) => `${r.kind}:${r.key}:${r.differs}`)).toEqual([
      'param:hidden:false',
      'param:lr:true',
      'param:only_a:true',
      'param:seed:false',
      'metric:extra:true',
      'metric:loss:false',
      'metric:val/acc:true',
    ])
    const lr = rows.find((r) => r.key === 'lr')!
    expect([lr.a, lr.b]).toEqual([0.01, 0.03])
    const onlyA = rows.find((r) => r.key === 'only_a')!
    expect(onlyA.b).toBeUndefined()
    expect(rows.find((r) => r.key === 'val/acc')!.b).toBe(0.95)
  })
  it('marks nothing as differing against a side without a run', () => {
    const rows = sideBySide(a, null)
    expect(rows.length).toBe(6)
    expect(rows.every((r) => !r.differs && r.b === undefined)).toBe(true)
    expect(sideBySide(null, null)).toEqual([])
  })
  it('compares wire values by what they are', () => {
    expect(sameValue(NaN, NaN)).toBe(true)
    expect(sameValue(1, '1')).toBe(false)
    expect(sameValue({ x: [1, 2] }, { x: [1, 2] })).toBe(true)
    expect(sameValue({ x: 1 }, { x: 2 })).toBe(false)
    expect(sameValue(undefined, null)).toBe(false)
  })
})

describe('promoting an A/B winner', () => {
  const ended = (outcome?: string) => ({ status: 'finished', result: outcome ? { comparison: { outcome } } : null })

  it('is allowed when B won and the name is valid', () => {
    expect(promoteGate(ended('b_better'), 'digits', false)).toEqual({ bWon: true, enabled: true, why: '' })
  })
  it('needs force when the verdict is not that B is better, and says why', () => {
    const g = promoteGate(ended('no_difference'), 'digits', false)
    expect(g.enabled).toBe(false)
    expect(g.bWon).toBe(false)
    expect(g.why).toContain('no difference')
    expect(g.why).toContain('force')
    expect(promoteGate(ended('no_difference'), 'digits', true).enabled).toBe(true)
    expect(promoteGate(ended('a_better'), 'digits', true).enabled).toBe(true)
    expect(promoteGate(ended(), 'digits', false).why).toMatch(/no verdict/)
  })
  it('is never allowed while the A/B runs, nor with a bad name', () => {
    expect(promoteGate({ status: 'running', result: null }, 'digits', true).enabled).toBe(false)
    expect(promoteGate(ended('b_better'), '  ', false)).toMatchObject({ enabled: false, why: 'Give the model a name.' })
    expect(promoteGate(ended('b_better'), 'a/b', false).enabled).toBe(false)
    expect(promoteGate(null, 'digits', true).enabled).toBe(false)
  })
  it('refuses an alias the store would refuse, before anything is registered', () => {
    expect(promoteGate(ended('b_better'), 'digits', false, 'champion').enabled).toBe(true)
    expect(promoteGate(ended('b_better'), 'digits', false, '').enabled).toBe(true)
    for (const bad of ['latest', 'LATEST', 'v1', 'V12', 'has space', 'a.b']) {
      expect(aliasProblem(bad), bad).not.toBeNull()
      expect(promoteGate(ended('b_better'), 'digits', false, bad).enabled, bad).toBe(false)
    }
    for (const ok of ['champion', 'v', 'v1a', 'prod_2', 'ünï-x']) expect(aliasProblem(ok), ok).toBeNull()
  })
  it('checks names as MLflow does', () => {
    expect(modelNameProblem('ok name')).toBeNull()
    expect(modelNameProblem('x:y')).toMatch(/“\/” or “:”/)
  })
})
