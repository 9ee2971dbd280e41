// Log search, highlighting, metric sections and the config filter of the run view.
import { describe, expect, it } from 'vitest'
import { appendMatches, highlight, matchingLines } from '../src/views/run/logsearch'
import { filterKeys, sections, systemSections } from '../src/views/run/metrics'
import { paramRows } from '../src/views/run/params'
import { fmtDuration, runDuration } from '../src/lib/format'

const L = (...s: string[]) => s.map((line) => ({ line }))

describe('log search', () => {
  it('matches substrings case-insensitively', () => {
    expect(matchingLines(L('Epoch 1', 'loss 0.3', 'EPOCH 2'), 'epoch')).toEqual([0, 2])
  })
  it('matches everything for an empty query', () => {
    expect(matchingLines(L('a', 'b'), '')).toEqual([0, 1])
  })
  it('treats regex characters literally', () => {
    expect(matchingLines(L('a.b', 'axb', '[x]'), 'a.b')).toEqual([0])
    expect(matchingLines(L('a.b', 'axb', '[x]'), '[x]')).toEqual([2])
  })
  it('appends matches of new lines', () => {
    const lines = L('err 1', 'ok', 'err 2')
    expect(appendMatches([0], lines, 1, 'ERR')).toEqual([0, 2])
  })
  // Its speed on 100k lines is measured in tests/logic.bench.ts.
  it('finds the matches among 100k lines', () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => ({ line: `step ${i} loss ${Math.sin(i)}` }))
    const found = matchingLines(lines, 'step 9999')
    expect(found).toEqual([9999, 99990, 99991, 99992, 99993, 99994, 99995, 99996, 99997, 99998, 99999])
  })
})

describe('highlight', () => {
  it('splits a line around every match, keeping the original case', () => {
    expect(highlight('Loss and LOSS', 'loss')).toEqual([
      { text: 'Loss', match: true },
      { text: ' and ', match: false },
      { text: 'LOSS', match: true },
    ])
  })
  it('returns the line whole without a query or a match', () => {
    expect(highlight('abc', '')).toEqual([{ text: 'abc', match: false }])
    expect(highlight('abc', 'x')).toEqual([{ text: 'abc', match: false }])
    expect(highlight('', 'x')).toEqual([{ text: '', match: false }])
  })
  it('does not overlap matches', () => {
    expect(highlight('aaa', 'aa')).toEqual([
      { text: 'aa', match: true },
      { text: 'a', match: false },
    ])
  })
})

describe('metric sections', () => {
  it('groups by prefix: train and val first, others by name, no-prefix keys last', () => {
    expect(sections(['val/acc', 'epoch', 'perf/sps', 'train/loss', 'train/acc', 'lr', 'grad/l2', 'test/acc'])).toEqual([
      { name: 'train', keys: ['train/acc', 'train/loss'] },
      { name: 'val', keys: ['val/acc'] },
      { name: 'test', keys: ['test/acc'] },
      { name: 'grad', keys: ['grad/l2'] },
      { name: 'perf', keys: ['perf/sps'] },
      { name: '', keys: ['epoch', 'lr'] },
    ])
  })
  it('groups system metrics after stripping sys/', () => {
    expect(sections(['sys/gpu10/util', 'sys/gpu2/util', 'sys/cpu', 'sys/gpu/mem'], 'sys/').map((s) => [s.name, s.keys])).toEqual([
      ['gpu', ['sys/gpu/mem']],
      ['gpu2', ['sys/gpu2/util']],
      ['gpu10', ['sys/gpu10/util']],
      ['', ['sys/cpu']],
    ])
  })
  it('filters keys by every word', () => {
    expect(filterKeys(['train/loss', 'val/loss', 'val/acc'], 'VAL loss')).toEqual(['val/loss'])
    expect(filterKeys(['a', 'b'], '  ')).toEqual(['a', 'b'])
  })
})

describe('config rows', () => {
  it('sorts and filters by key or value', () => {
    const p = { 'model.sizes': '64,128', lr: 0.01, optimizer: 'sgd', nested: { a: 1 } }
    expect(paramRows(p).map((r) => r.key)).toEqual(['lr', 'model.sizes', 'nested', 'optimizer'])
    expect(paramRows(p, 'SGD')).toEqual([{ key: 'optimizer', value: 'sgd' }])
    expect(paramRows(p, 'model')).toEqual([{ key: 'model.sizes', value: '64,128' }])
    expect(paramRows(p, 'nest')[0].value).toBe('{"a":1}')
  })
})

describe('durations', () => {
  it('formats run durations', () => {
    expect(fmtDuration(runDuration({ created_ms: 0, started_ms: 1000, ended_ms: 3_000 }))).toBe('2.0 s')
    expect(fmtDuration(runDuration({ created_ms: 0, started_ms: null, ended_ms: null }, 125_000))).toBe('2m 5s')
  })
})

describe('system sections', () => {
  it('groups the SDK system metrics by resource, GPUs in order', () => {
    const keys = ['sys/net_rx_mb_s', 'sys/gpu10/power_w', 'sys/cpu_percent', 'sys/rss_mb', 'sys/gpu2/util_percent', 'sys/system_cpu_percent', 'sys/disk_read_mb_s', 'sys/system_memory_percent', 'sys/odd', 'sys/x/y']
    expect(systemSections(keys).map((s) => [s.name, s.keys])).toEqual([
      ['CPU', ['sys/cpu_percent', 'sys/system_cpu_percent']],
      ['Memory', ['sys/rss_mb', 'sys/system_memory_percent']],
      ['Disk', ['sys/disk_read_mb_s']],
      ['Network', ['sys/net_rx_mb_s']],
      ['GPU 2', ['sys/gpu2/util_percent']],
      ['GPU 10', ['sys/gpu10/power_w']],
      ['x', ['sys/x/y']],
      ['Other', ['sys/odd']],
    ])
  })
})
