// Unit tests of the runs table's data logic (views/runs/table.ts).
import { describe, expect, it } from 'vitest'
import type { Run } from '../src/lib/api.svelte'
import {
  cellText,
  cellTitle,
  cellValue,
  choosableColumns,
  columnsParam,
  defaultColumns,
  discoverColumns,
  displayRows,
  errorPosition,
  foldTags,
  gridTemplate,
  groupRuns,
  orderTerm,
  parseSort,
  pushHistory,
  readColumns,
  readHistory,
  runTags,
  sortable,
  systemTagsLabel,
  tagText,
  TAGS_COLUMN,
  visibleRange,
  withStatus,
} from '../src/views/runs/table'

function run(id: string, over: Partial<Run> = {}): Run {
  return {
    id, name: id, project: 'p', status: 'finished', group: null, notes: null, command: null, host: null, pid: null,
    git_commit: null, git_dirty: null, env: null, error: null, created_ms: 1000, started_ms: 1000, ended_ms: 5000,
    heartbeat_ms: null, deleted: false, ...over,
  }
}

const summary = (last: number | string) => ({ key: 'k', count: 1, last, last_step: 0, last_wall_ms: 0, min: last, max: last, mean: last, sum: last, nan_count: 0 })

describe('columns and sorting', () => {
  it('quotes metric and param keys in order terms', () => {
    expect(orderTerm('metrics.val/acc', true)).toBe('metrics.`val/acc` desc')
    expect(orderTerm('params.lr', false)).toBe('params.`lr` asc')
    expect(orderTerm('name', false)).toBe('run_name asc')
    expect(orderTerm('metrics.we`ird', true)).toBe('metrics.`weird` desc')
  })
  it('parses sort specs', () => {
    expect(parseSort('metrics.a:b:desc')).toEqual({ col: 'metrics.a:b', desc: true })
    expect(parseSort('name')).toEqual({ col: 'name', desc: false })
    expect(parseSort(null)).toBeNull()
  })
  it('reads cell values, metrics as their last value with NaN from the wire', () => {
    const r = run('a', { columns: { 'metrics.loss': summary('NaN'), 'params.lr': 0.1 } })
    expect(cellValue(r, 'metrics.loss')).toBeNaN()
    expect(cellValue(r, 'params.lr')).toBe(0.1)
    expect(cellValue(r, 'params.missing')).toBeNull()
    expect(cellValue(r, 'duration')).toBe(4000)
  })
  it('discovers columns and picks defaults without system metrics', () => {
    const found = discoverColumns([run('a', { columns: { 'params.lr': 1, 'metrics.sys/cpu': summary(1), 'metrics.loss': summary(2) } })])
    expect(found).toEqual({ params: ['params.lr'], metrics: ['metrics.loss', 'metrics.sys/cpu'], varying: [], owned: false })
    expect(defaultColumns(found)).toContain('metrics.loss')
    expect(defaultColumns(found)).not.toContain('metrics.sys/cpu')
  })
})

describe('filter errors and history', () => {
  it('maps the server byte offset to a string index', () => {
    expect(errorPosition('invalid filter: … at position 12', 'params.lr >')).toBe(11)
    expect(errorPosition('x at position 9', 'tags.é = ')).toBe(8)
    expect(errorPosition('no position here', 'x')).toBeNull()
  })
  it('keeps recent filters unique, newest first, bounded', () => {
    let h: string[] = []
    for (const f of ['a', 'b', 'a', ' ', 'c']) h = pushHistory(h, f, 2)
    expect(h).toEqual(['c', 'a'])
  })
})

describe('grouping', () => {
  const runs = [
    run('a', { columns: { 'params.lr': 0.1, 'metrics.acc': summary(0.5), 'params.opt': 'sgd' } }),
    run('b', { columns: { 'params.lr': 0.1, 'metrics.acc': summary(0.7), 'params.opt': 'adam' } }),
    run('c', { columns: { 'params.lr': 0.2, 'metrics.acc': summary(0.9), 'params.opt': 'sgd' }, status: 'failed' }),
    run('d', { group: 'g' }),
  ]
  it('aggregates numeric columns with mean and sample std', () => {
    const g = groupRuns(runs, 'params.lr', ['name', 'metrics.acc', 'params.opt'])
    expect(g.map((x) => x.key)).toEqual(['0.1', '0.2', '(none)'])
    expect(g[0].stats['metrics.acc'].mean).toBeCloseTo(0.6)
    expect(g[0].stats['metrics.acc'].std).toBeCloseTo(Math.sqrt(0.02))
    expect(g[0].shared['params.opt']).toEqual({ distinct: 2 })
    expect(g[1].shared['params.opt']).toEqual({ value: 'sgd' })
    expect(g[1].statuses).toEqual({ failed: 1 })
  })
  it('flattens open groups into display rows', () => {
    const g = groupRuns(runs, 'group', [])
    const rows = displayRows(runs, g, new Set(['(none)']))
    expect(rows.map((r) => (r.kind === 'group' ? `g:${r.group.key}` : r.run.id))).toEqual(['g:(none)', 'a', 'b', 'c', 'g:g'])
    expect(displayRows(runs, null, new Set()).length).toBe(4)
  })
})

describe('virtual scrolling', () => {
  it('renders only the visible rows plus overscan', () => {
    expect(visibleRange(0, 300, 30, 10_000, 5)).toEqual({ first: 0, last: 15 })
    expect(visibleRange(30_000, 300, 30, 10_000, 5)).toEqual({ first: 995, last: 1015 })
    expect(visibleRange(299_000, 300, 30, 10_000, 5)).toEqual({ first: 9961, last: 9982 })
    expect(visibleRange(299_700, 300, 30, 10_000, 5)).toEqual({ first: 9985, last: 10_000 })
  })
})

describe('default columns', () => {
  it('shows the params that tell runs apart, else the first ones', () => {
    const p = (lr: number, seed: number, extra = {}) => ({ 'params.backend': 'cpu', 'params.batch_size': 64, 'params.data.train': 1438, 'params.data.val': 359, 'params.dataset': 'digits', 'params.epochs': 27, 'params.lr': lr, 'params.seed': seed, ...extra })
    const found = discoverColumns([run('a', { columns: p(0.01, 1) }), run('b', { columns: p(0.03, 1) }), run('c', { columns: p(0.01, 2, { 'params.note': 'x' }) })])
    expect(found.varying).toEqual(['params.lr', 'params.note', 'params.seed'])
    expect(defaultColumns(found).filter((c) => c.startsWith('params.'))).toEqual(['params.lr', 'params.note', 'params.seed'])
    const same = discoverColumns([run('a', { columns: p(0.01, 1) }), run('b', { columns: p(0.01, 1) })])
    expect(same.varying).toEqual([])
    expect(defaultColumns(same).filter((c) => c.startsWith('params.'))).toEqual(same.params.slice(0, 6))
  })
})

describe('tags: bookkeeping folded', () => {
  const launched = run('a', {
    columns: {
      'params.lr': 0.01,
      'tags.owner': 'ana',
      'tags.launch.device': 'cpu',
      'tags.launch.pid': '4242',
      'tags.ab.arm': 'a',
      'tags.ab.id': '0123456789abcdef',
      'tags.abc': 'user tag that only starts like ab',
      'tags.baseline': '',
    },
  })

  it('reads the tags from the runs list columns', () => {
    expect(runTags(launched)).toEqual({
      owner: 'ana', 'launch.device': 'cpu', 'launch.pid': '4242', 'ab.arm': 'a', 'ab.id': '0123456789abcdef',
      abc: 'user tag that only starts like ab', baseline: '',
    })
    expect(runTags(run('b'))).toEqual({})
  })

  it('shows the user tags and folds launch.* and ab.*, each sorted', () => {
    const t = foldTags(runTags(launched))
    expect(t.user).toEqual([['abc', 'user tag that only starts like ab'], ['baseline', ''], ['owner', 'ana']])
    expect(t.system.map(([k]) => k)).toEqual(['ab.arm', 'ab.id', 'launch.device', 'launch.pid'])
    expect(t.user.map(tagText)).toEqual(['abc=user tag that only starts like ab', 'baseline', 'owner=ana'])
    expect(foldTags({ 'launch.exit_code': '0' })).toEqual({ user: [], system: [['launch.exit_code', '0']] })
  })

  it('says how many are folded', () => {
    expect(systemTagsLabel(4, false)).toBe('+4 system tags')
    expect(systemTagsLabel(1, false)).toBe('+1 system tag')
    expect(systemTagsLabel(4, true)).toBe('hide system tags')
  })

  it('is a default column holding only the user tags, not sortable', () => {
    expect(defaultColumns({ params: [], metrics: [] })).toContain(TAGS_COLUMN)
    expect(cellValue(launched, TAGS_COLUMN)).toBe('abc=user tag that only starts like ab, baseline, owner=ana')
    expect(cellValue(run('b'), TAGS_COLUMN)).toBeNull()
    expect(sortable(TAGS_COLUMN)).toBe(false)
    expect(sortable('metrics.loss')).toBe(true)
  })

  it('groups runs launched alike together (bookkeeping does not split them)', () => {
    const other = run('c', { columns: { 'params.lr': 0.01, 'tags.owner': 'ana', 'tags.launch.pid': '99' } })
    const [g] = groupRuns([run('a', { columns: { 'params.lr': 0.01, 'tags.owner': 'ana', 'tags.launch.pid': '1' } }), other], 'params.lr', [TAGS_COLUMN])
    expect(g.shared[TAGS_COLUMN]).toEqual({ value: 'owner=ana' })
  })
})

describe('cells and columns', () => {
  it('shows ages, durations and values, with summaries as tooltips', () => {
    const r = run('a', { created_ms: 1000, started_ms: 1000, ended_ms: 91_000, columns: { 'metrics.loss': summary(0.5), 'params.lr': 0.01 } })
    expect(cellText(r, 'created', 121_000)).toBe('2m ago')
    expect(cellText(r, 'duration', 121_000)).toBe('1m 30s')
    expect(cellText(r, 'params.lr')).toBe('0.01')
    expect(cellText(r, 'metrics.loss')).toBe('0.5')
    expect(cellTitle(r, 'metrics.loss')).toBe('last 0.5 at step 0 · min 0.5 · max 0.5 · 1 points')
    expect(cellTitle(r, 'metrics.missing')).toBe('')
    expect(cellTitle(r, 'params.lr')).toBe('0.01')
    expect(cellTitle(r, 'created')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
  })

  it('lays out the row grid: checkbox, wide name, narrow status', () => {
    expect(gridTemplate(['status', 'name', 'params.lr'])).toBe('32px 90px minmax(180px, 2fr) minmax(90px, 1fr)')
  })

  it('asks the runs list for the shown params, metrics, tags and the grouped-by param', () => {
    expect(columnsParam(['status', 'params.lr', 'metrics.loss'], '')).toBe('params.lr,metrics.loss,tags.trackbench.owner')
    expect(columnsParam(['name', TAGS_COLUMN], 'params.seed')).toBe('tags.*,params.seed')
    expect(columnsParam(['params.seed'], 'params.seed')).toBe('params.seed,tags.trackbench.owner')
    expect(columnsParam(['name'], 'group')).toBe('tags.trackbench.owner')
  })

  it('offers attributes, params and metrics matching the search', () => {
    const found = { params: ['params.lr'], metrics: ['metrics.loss', 'metrics.val/acc'], varying: [] }
    expect(choosableColumns(found, '')).toEqual(['created', 'duration', 'group', 'host', 'owner', 'tags', 'params.lr', 'metrics.loss', 'metrics.val/acc'])
    expect(choosableColumns(found, 'VAL')).toEqual(['metrics.val/acc'])
  })

  it('reads saved columns and filter history, ignoring what is unusable', () => {
    expect(readColumns('["name","params.lr"]')).toEqual(['name', 'params.lr'])
    expect(readColumns('[]')).toBeNull()
    expect(readColumns(null)).toBeNull()
    expect(readColumns('{broken')).toBeNull()
    expect(readHistory('["a", 3, "b"]')).toEqual(['a', 'b'])
    expect(readHistory('{"a":1}')).toEqual([])
    expect(readHistory('nope')).toEqual([])
    expect(readHistory(null)).toEqual([])
  })
})

describe('live status', () => {
  it('ends a run when it stops running, keeping an end it already has', () => {
    const running = run('a', { status: 'running', ended_ms: null })
    expect(withStatus(running, 'finished', 7000)).toMatchObject({ status: 'finished', ended_ms: 7000 })
    expect(withStatus(run('b'), 'failed', 7000).ended_ms).toBe(5000)
    expect(withStatus(run('c'), 'running', 7000)).toMatchObject({ status: 'running', ended_ms: null })
    expect(running.status).toBe('running') // a copy
  })
})
