// Unit tests of the Compare view's logic: ids, metric filter, param diff, grouping, axis scaling.
import { describe, expect, it } from 'vitest'
import { axisParams, commonest, groupRuns, makeAxis, metricMatcher, niceTicks, paramDiff, parseIds, splitMetrics } from '../src/views/compare/logic'

describe('compare logic', () => {
  it('parses ids', () => {
    expect(parseIds('a,b,,a, c')).toEqual(['a', 'b', 'c'])
    expect(parseIds(null)).toEqual([])
  })

  it('filters metrics by regex or substring', () => {
    expect(['train/loss', 'val/loss', 'val/acc'].filter(metricMatcher('^val/'))).toEqual(['val/loss', 'val/acc'])
    expect(['a(b', 'ab'].filter(metricMatcher('a('))).toEqual(['a(b'])
    expect(['x'].filter(metricMatcher(''))).toEqual(['x'])
  })

  it('puts sys metrics apart', () => {
    expect(splitMetrics(['sys/cpu', 'loss', 'acc', 'loss'])).toEqual({ main: ['acc', 'loss'], sys: ['sys/cpu'] })
  })

  it('diffs params, missing counts as different', () => {
    const rows = paramDiff([
      { lr: 0.1, seed: 1, h: [1, 2] },
      { lr: 0.1, seed: 2, h: [1, 2], extra: 'x' },
    ])
    expect(rows.map((r) => [r.key, r.differs])).toEqual([
      ['extra', true],
      ['h', false],
      ['lr', false],
      ['seed', true],
    ])
    expect(rows[0].values).toEqual([undefined, 'x'])
  })

  it('groups runs by group or by param', () => {
    const runs = [
      { id: 'a', group: 'g1', params: { lr: 0.1 } },
      { id: 'b', group: null, params: { lr: 0.2 } },
      { id: 'c', group: 'g1', params: { lr: 0.1 } },
    ]
    expect(groupRuns(runs, 'group')).toEqual([
      { name: 'g1', runIds: ['a', 'c'] },
      { name: '(no group)', runIds: ['b'] },
    ])
    expect(groupRuns(runs, 'param:lr').map((g) => g.runIds)).toEqual([['a', 'c'], ['b']])
  })

  it('scales numeric axes linearly, or log over many decades', () => {
    const a = makeAxis('seed', [1, 3, 2])
    expect(a.kind).toBe('num')
    expect(a.pos(1)).toBe(0)
    expect(a.pos(2)).toBe(0.5)
    expect(a.pos(3)).toBe(1)
    expect(a.pos(undefined)).toBeNull()
    const lr = makeAxis('lr', [0.0001, 0.01, 1])
    expect(lr.log).toBe(true)
    expect(lr.pos(0.01)).toBeCloseTo(0.5, 12)
    expect(makeAxis('c', [5, 5]).pos(5)).toBe(0.5)
  })

  it('spaces categorical axes evenly', () => {
    const a = makeAxis('opt', ['sgd', 'adam', 'sgd', 'rmsprop', true])
    expect(a.kind).toBe('cat')
    expect(a.categories).toEqual(['adam', 'rmsprop', 'sgd', 'true'])
    expect(a.pos('adam')).toBe(0)
    expect(a.pos('sgd')).toBeCloseTo(2 / 3, 12)
    expect(a.pos('true')).toBe(1)
    expect(makeAxis('one', ['x']).pos('x')).toBe(0.5)
  })

  it('chooses differing scalar params as axes', () => {
    expect(axisParams([{ lr: 1, seed: 1, h: [1] }, { lr: 1, seed: 2, h: [2] }])).toEqual(['seed'])
    expect(axisParams([{ lr: 1 }, { lr: 1 }])).toEqual(['lr'])
    // set in only one of three runs: not an axis
    expect(axisParams([{ a: 1, b: 1 }, { a: 2 }, { a: 3 }])).toEqual(['a'])
    expect(axisParams([{ a: 1, b: 1 }, { a: 2, b: 2 }, { a: 3 }])).toEqual(['a', 'b'])
  })

  it('picks the metric most runs have', () => {
    expect(commonest(['a', 'b', 'c'], [['a', 'b'], ['b'], ['c', 'b']])).toBe('b')
    expect(commonest([], [])).toBe('')
  })

  it('makes nice ticks', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1])
    expect(niceTicks(3, 3)).toEqual([3])
    expect(niceTicks(0.013, 0.087, 4)).toEqual([0.02, 0.04, 0.06, 0.08])
  })
})
