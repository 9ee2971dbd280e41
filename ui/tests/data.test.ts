// The Data tab's and drift view's display logic (views/data/logic.ts) and client URLs
// (lib/dataApi.ts): specs, links, severity order, formats, chart geometry, datasets from inputs.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { dataApi, type ChartData, type ColumnDrift } from '../src/lib/dataApi'
import { match } from '../src/lib/routes'
import {
  bySeverity,
  distributionText,
  driftHref,
  fmtDistinct,
  fmtRatio,
  fmtShare,
  geometry,
  inputDatasets,
  nonFinite,
  parseSpec,
  pastThreshold,
  sharedDatasets,
  spec,
} from '../src/views/data/logic'

function col(column: string, over: Partial<ColumnDrift>): ColumnDrift {
  return {
    column,
    ref_dtype: 'float',
    cur_dtype: 'float',
    test: 'ks',
    reason: '',
    statistic: 0.1,
    p_value: 0.5,
    threshold: 0.05,
    drift: false,
    exact: true,
    error_bound: null,
    wasserstein: null,
    psi_band: null,
    ref_n: 10,
    cur_n: 10,
    notes: [],
    ...over,
  }
}

describe('specs and links', () => {
  it('builds and reads RUN:DATASET[@STEP] as the server does', () => {
    expect(spec('abc', 'train', null)).toBe('abc:train')
    expect(spec('abc', 'serving', 3)).toBe('abc:serving@3')
    expect(parseSpec('abc:a:b@-1')).toEqual({ run: 'abc', dataset: 'a:b', step: -1 })
    expect(parseSpec('abc:a@b')).toEqual({ run: 'abc', dataset: 'a@b', step: null })
    expect(parseSpec('abc:x')).toEqual({ run: 'abc', dataset: 'x', step: null })
    for (const bad of ['abc', ':x', 'abc:']) expect(parseSpec(bad)).toBeNull()
    for (const name of ['eval set', 'données ✓', 'a@b', 'x:y', 'a/b?c#d%&e=f']) {
      expect(parseSpec(spec('r1', name, 2))).toEqual({ run: 'r1', dataset: name, step: 2 })
    }
  })
  it('links the drift view with its query, round-tripping odd names', () => {
    const href = driftHref({ reference: 'r1:a&b=c', current: 'r2:x y@3', test: 'psi', threshold: 'psi=0.2' })
    expect(href.startsWith('/drift?')).toBe(true)
    expect(match(href.split('?')[0])).toEqual({ view: 'drift', params: {} })
    const q = new URLSearchParams(href.split('?')[1])
    expect([q.get('reference'), q.get('current'), q.get('test'), q.get('threshold')]).toEqual(['r1:a&b=c', 'r2:x y@3', 'psi', 'psi=0.2'])
    expect(new URLSearchParams(driftHref({ reference: 'a:x', current: 'b:y', test: 'auto' }).split('?')[1]).has('test')).toBe(false)
  })
})

describe('severity', () => {
  it('puts drifted columns first, then by how far past the threshold, untested last', () => {
    const cols = [
      col('untested', { test: null, statistic: null, p_value: null, threshold: null, drift: null }),
      col('calm', { p_value: 0.9 }),
      col('close', { p_value: 0.06 }),
      col('mild', { p_value: 0.01, drift: true }),
      col('wild', { p_value: 1e-12, drift: true }),
      col('far', { test: 'wasserstein', statistic: 0.9, p_value: null, threshold: 0.1, drift: true }),
      col('b-tie', { p_value: 0.9 }),
    ]
    expect(bySeverity(cols).map((c) => c.column)).toEqual(['wild', 'far', 'mild', 'close', 'b-tie', 'calm', 'untested'])
    expect(cols[0].column).toBe('untested')
  })
  it('measures a p-value against its threshold and a distance against its own', () => {
    expect(pastThreshold(col('a', { p_value: 0.005, threshold: 0.05 }))).toBeCloseTo(10)
    expect(pastThreshold(col('a', { p_value: 0, threshold: 0.05 }))).toBeGreaterThan(1e290)
    expect(pastThreshold(col('a', { test: 'psi', statistic: 0.3, threshold: 0.1 }))).toBeCloseTo(3)
    expect(pastThreshold(col('a', { test: 'js', statistic: 0.3, threshold: 0 }))).toBe(Infinity)
    expect(pastThreshold(col('a', { test: null }))).toBeNull()
    expect([fmtRatio(10), fmtRatio(0.3125), fmtRatio(2e8), fmtRatio(Infinity), fmtRatio(null)]).toEqual(['×10', '×0.31', '×2e+8', '×∞', ''])
  })
})

describe('formats', () => {
  it('shows shares, distinct counts, distributions and non-finite counts', () => {
    expect([fmtShare(0.5), fmtShare(0.1234), fmtShare(0.0004), fmtShare(0), fmtShare(null)]).toEqual(['50%', '12.3%', '0.04%', '0%', ''])
    expect(fmtDistinct({ distinct: 12, exact: true, count: 20, nulls: 0 })).toBe('12')
    expect(fmtDistinct({ distinct: 1234.6, exact: false, count: 2000, nulls: 5 })).toBe('≈1235')
    expect(fmtDistinct({ distinct: 6064.2, exact: false, count: 6000, nulls: 10 })).toBe('≈5990')
    expect(distributionText({ quantiles: [1, 2, 3, 4, 5.5], top: [] })).toBe('1 · 2 · 3 · 4 · 5.5')
    expect(distributionText({ quantiles: null, top: [['a', 3], ['b', 1]] })).toBe('a (3), b (1)')
    expect(nonFinite({ nan: 2, pos_inf: 0, neg_inf: 1 })).toBe('2 NaN, 1 -inf')
    expect(nonFinite({ nan: null, pos_inf: null, neg_inf: null })).toBe('')
  })
})

describe('chart geometry', () => {
  const numeric: ChartData = { kind: 'numeric', edges: [0, 1, 2], shares: [[0.25, 0.75], [1, 0]], cdf: [[0, 0.25, 1], [0, 1, 1]], error: [0, 0] }
  it('lays bins on the edges, scaled to the highest share', () => {
    const g = geometry(numeric, 100, 50)
    expect(g.top).toBe(1)
    expect(g.bars).toHaveLength(4)
    expect(g.bars[1]).toMatchObject({ series: 0, x: 50, h: 37.5, y: 12.5, share: 0.75, label: '[1, 2]' })
    expect(g.bars[0].label).toBe('[0, 1)')
    expect(g.bars[2]).toMatchObject({ series: 1, x: 0, h: 50, y: 0 })
    expect([g.left, g.right]).toEqual(['0', '2'])
  })
  it('draws the CDF through the edges', () => {
    const g = geometry(numeric, 100, 50, 'cdf')
    expect(g.bars).toEqual([])
    expect(g.cdf).toEqual(['0,50 50,37.5 100,0', '0,50 50,0 100,0'])
  })
  it('puts categories side by side with the rest as (other)', () => {
    const g = geometry({ kind: 'categorical', labels: ['a', 'b'], shares: [[0.5, 0.25], [0.1, 0.9]], other: [0.25, 0], error: [0, 0] }, 90, 10)
    expect(g.bars.map((b) => [b.series, b.label, b.share])).toEqual([
      [0, 'a', 0.5], [0, 'b', 0.25], [0, '(other)', 0.25],
      [1, 'a', 0.1], [1, 'b', 0.9], [1, '(other)', 0],
    ])
    expect(g.bars[3].x).toBeGreaterThan(g.bars[0].x)
    expect(geometry({ kind: 'none', why: 'no values' }, 10, 10).bars).toEqual([])
  })
})

describe('datasets from inputs', () => {
  const input = (name: string, step?: number) => ({ tags: step === undefined ? [] : [{ key: 'trackbench.data.step', value: String(step) }], dataset: { name, digest: 'd' } })
  it('reads names and steps, skipping what is not a dataset', () => {
    expect(inputDatasets([input('train'), input('serving', 2), { other: 1 }, null])).toEqual([{ name: 'train', step: null }, { name: 'serving', step: 2 }])
  })
  it('pairs the names two runs share at their latest profile', () => {
    const a = [input('train'), input('serving', 1), input('serving', 4), input('only-a')]
    const b = [input('serving', 2), input('train', 3), input('train')]
    expect(sharedDatasets(a, b)).toEqual([
      { name: 'serving', a: 4, b: 2 },
      { name: 'train', a: null, b: null },
    ])
  })
})

describe('data client', () => {
  afterEach(() => vi.unstubAllGlobals())
  it('asks for encoded names and passes the drift query through', async () => {
    const urls: string[] = []
    vi.stubGlobal('fetch', async (url: string) => {
      urls.push(url)
      return new Response(JSON.stringify({ datasets: [] }), { status: 200 })
    })
    await dataApi.datasets('r 1')
    await dataApi.dataset('r1', 'a/b c', 3)
    await dataApi.dataset('r1', 'x', null)
    await dataApi.drift({ reference: 'r1:a@2', current: 'r2:b', test: 'ks', threshold: 'ks=0.01,share=0.3', columns: null })
    expect(urls.slice(0, 3)).toEqual(['/api/v1/runs/r%201/datasets', '/api/v1/runs/r1/datasets/a%2Fb%20c?step=3', '/api/v1/runs/r1/datasets/x'])
    const q = new URLSearchParams(urls[3].split('?')[1])
    expect([...q.entries()]).toEqual([['reference', 'r1:a@2'], ['current', 'r2:b'], ['test', 'ks'], ['threshold', 'ks=0.01,share=0.3']])
  })
})
