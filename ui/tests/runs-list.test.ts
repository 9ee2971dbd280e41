// Unit tests of the runs page's loading (views/runs/list.svelte.ts): column discovery and saved
// columns, paged loads in the URL's order, filter acceptance and rejection, the history, stale
// loads and live status updates, against a fake runs API.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, type Run } from '../src/lib/api.svelte'
import type { Change } from '../src/lib/events.svelte'
import { RunList, type RunListDeps, type RunsView } from '../src/views/runs/list.svelte'

const listeners = vi.hoisted(() => new Set<(c: Change) => void>())
vi.mock('../src/lib/events.svelte', () => ({
  onChange: (f: (c: Change) => void) => {
    listeners.add(f)
    return () => listeners.delete(f)
  },
}))

type Query = Parameters<NonNullable<RunListDeps['runs']>>[0]

function run(id: string, over: Partial<Run> = {}): Run {
  return {
    id, name: id, project: 'p', status: 'finished', group: null, notes: null, command: null, host: null, pid: null,
    git_commit: null, git_dirty: null, env: null, error: null, created_ms: 1000, started_ms: 1000, ended_ms: 5000,
    heartbeat_ms: null, deleted: false, ...over,
  }
}

/** Local storage for the node test environment. */
function memoryStorage() {
  const m = new Map<string, string>()
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
    clear: () => m.clear(),
    key: () => null,
    get length() {
      return m.size
    },
  }
}

function setup(answer: (q: Query) => { runs: Run[]; next_offset: number | null } | Promise<{ runs: Run[]; next_offset: number | null }>) {
  const view: { -readonly [K in keyof RunsView]: RunsView[K] } = { project: 'p', filter: '', sort: null, groupBy: '' }
  const calls: Query[] = []
  const loaded = vi.fn()
  const list = new RunList(view, {
    runs: async (q) => {
      calls.push(q)
      return answer(q)
    },
    loaded,
  })
  return { view, calls, loaded, list }
}

type Page = { runs: Run[]; next_offset: number | null }

function deferred() {
  let resolve!: (p: Page) => void
  const promise = new Promise<Page>((r) => (resolve = r))
  return { promise, resolve }
}

beforeEach(() => {
  vi.stubGlobal('localStorage', memoryStorage())
})
afterEach(() => {
  vi.unstubAllGlobals()
  listeners.clear()
})

describe('RunList.discover', () => {
  it('finds params and metrics, showing the saved columns or the defaults', async () => {
    const sample = [run('a', { columns: { 'params.lr': 0.1, 'metrics.loss': null } }), run('b', { columns: { 'params.lr': 0.2 } })]
    const { list, calls } = setup(() => ({ runs: sample, next_offset: null }))
    await list.discover()
    expect(calls[0]).toEqual({ project: 'p', limit: 200, columns: 'params.*,metrics.*,tags.trackbench.owner' })
    expect(list.found).toEqual({ params: ['params.lr'], metrics: ['metrics.loss'], varying: ['params.lr'], owned: false })
    expect(list.columns).toContain('params.lr')
    expect(list.columns).toContain('metrics.loss')

    localStorage.setItem('trackbench.columns.p', '["name","params.lr"]')
    await list.discover()
    expect(list.columns).toEqual(['name', 'params.lr'])
  })
})

describe('RunList.load', () => {
  it('loads every page in the view order and with the shown columns', async () => {
    const { list, calls, view, loaded } = setup((q) => (q.offset === 0 ? { runs: [run('a')], next_offset: 1 } : q.offset === 1 ? { runs: [run('b')], next_offset: 2 } : { runs: [run('c')], next_offset: null }))
    Object.assign(view, { sort: { col: 'metrics.loss', desc: true }, groupBy: 'params.seed' })
    list.columns = ['name', 'metrics.loss']
    expect(await list.load()).toBe(true)
    expect(list.runs.map((r) => r.id)).toEqual(['a', 'b', 'c'])
    expect(calls.map((c) => [c.limit, c.offset])).toEqual([
      [100, 0],
      [2000, 1],
      [2000, 2],
    ])
    expect(calls[0]).toMatchObject({ project: 'p', filter: undefined, order_by: 'metrics.`loss` desc', columns: 'metrics.loss,tags.trackbench.owner,params.seed' })
    expect(list.complete).toBe(true)
    expect(list.loading).toBe(false)
    expect(list.applied).toBe('')
    expect(loaded).toHaveBeenCalledTimes(1)
  })

  it('accepts a filter with its first page: history saved, then the rest streams in', async () => {
    const second = deferred()
    const { list } = setup((q) => (q.offset === 0 ? { runs: [run('a')], next_offset: 1 } : second.promise))
    const accepted = vi.fn(() => {
      expect(list.complete).toBe(false)
      expect(list.runs.map((r) => r.id)).toEqual(['a'])
    })
    const done = list.load('metrics.loss < 1', accepted)
    await vi.waitFor(() => expect(accepted).toHaveBeenCalled())
    expect(list.applied).toBe('metrics.loss < 1')
    expect(list.history).toEqual(['metrics.loss < 1'])
    expect(JSON.parse(localStorage.getItem('trackbench.filters')!)).toEqual(['metrics.loss < 1'])
    second.resolve({ runs: [run('b')], next_offset: null })
    expect(await done).toBe(true)
    expect(list.complete).toBe(true)
    expect(list.runs).toHaveLength(2)
  })

  it('keeps the shown rows when the server rejects a filter, pointing at the error', async () => {
    let bad = false
    const { list } = setup(() => {
      if (bad) throw new ApiError('invalid filter: unexpected token at position 8', 400)
      return { runs: [run('a')], next_offset: null }
    })
    await list.load('')
    bad = true
    const accepted = vi.fn()
    expect(await list.load('status = = 1', accepted)).toBe(false)
    expect(accepted).not.toHaveBeenCalled()
    expect(list.filterError).toEqual({ message: 'invalid filter: unexpected token at position 8', pos: 8 })
    expect(list.filterShown).toBe('status = = 1')
    expect(list.applied).toBe('')
    expect(list.runs.map((r) => r.id)).toEqual(['a'])
    expect(list.loadError).toBe('')
    expect(list.history).toEqual([])
  })

  it('reports other failures as a load error', async () => {
    const { list } = setup(() => {
      throw new ApiError('filter index unavailable', 500)
    })
    expect(await list.load('params.lr > 0')).toBe(false)
    expect(list.loadError).toBe('filter index unavailable')
    expect(list.filterError).toBeNull()
    expect(list.loading).toBe(false)
  })

  it('drops an answer a newer load superseded', async () => {
    const slow = deferred()
    const { list } = setup((q) => (q.filter === 'old' ? slow.promise : { runs: [run('new')], next_offset: null }))
    const first = list.load('old')
    expect(await list.load('new')).toBe(true)
    slow.resolve({ runs: [run('old')], next_offset: null })
    expect(await first).toBe(false)
    expect(list.runs.map((r) => r.id)).toEqual(['new'])
    expect(list.applied).toBe('new')
  })

  it('saves a column choice per project and reloads with the applied filter', async () => {
    const { list, calls, view } = setup(() => ({ runs: [], next_offset: null }))
    await list.load('params.lr > 0')
    view.filter = 'ignored while another filter is applied'
    list.saveColumns(['name', 'params.lr'])
    expect(JSON.parse(localStorage.getItem('trackbench.columns.p')!)).toEqual(['name', 'params.lr'])
    await vi.waitFor(() => expect(calls).toHaveLength(2))
    expect(calls[1]).toMatchObject({ filter: 'params.lr > 0', columns: 'params.lr,tags.trackbench.owner' })
  })
})

describe('RunList.follow', () => {
  it('updates a run status in place and reloads once soon after a burst of changes', async () => {
    vi.useFakeTimers()
    try {
      const { list, calls } = setup(() => ({ runs: [run('a', { status: 'running', ended_ms: null })], next_offset: null }))
      await list.load('')
      const off = list.follow()
      const emit = (c: Change) => listeners.forEach((f) => f(c))
      emit({ type: 'run_status', run: 'a', project: 'p', status: 'finished' })
      expect(list.runs[0].status).toBe('finished')
      expect(list.runs[0].ended_ms).not.toBeNull()
      emit({ type: 'run_created', run: 'b', project: 'p', name: 'b', status: 'running' })
      emit({ type: 'run_created', run: 'x', project: 'other', name: 'x', status: 'running' })
      emit({ type: 'resync' })
      expect(calls).toHaveLength(1)
      await vi.advanceTimersByTimeAsync(500)
      expect(calls).toHaveLength(2)
      emit({ type: 'run_created', run: 'x', project: 'other', name: 'x', status: 'running' })
      await vi.advanceTimersByTimeAsync(1000)
      expect(calls).toHaveLength(2)
      emit({ type: 'resync' })
      off() // a pending reload is cancelled too
      await vi.advanceTimersByTimeAsync(1000)
      expect(calls).toHaveLength(2)
    } finally {
      vi.useRealTimers()
    }
  })
})
