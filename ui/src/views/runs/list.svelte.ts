// The runs of one project as the runs page shows them: the params and metrics found in a sample
// (and the chosen columns, saved per project), every run matching the URL's filter loaded page by
// page in the URL's order, the filter the server accepted or where it rejected one, the recent
// filter history, and live updates (status changes in place, a debounced reload on new runs).
import { api, ApiError, type Run } from '../../lib/api.svelte'
import { OWNER_TAG } from '../../lib/access.svelte'
import { onChange } from '../../lib/events.svelte'
import { columnsParam, defaultColumns, discoverColumns, errorPosition, orderTerm, pushHistory, readColumns, readHistory, withStatus, type ColumnId, type Found } from './table'

const PAGE = 2000
const HISTORY_KEY = 'trackbench.filters'

/** What the list reads from its page, at the moment it reads (the URL's view of the project). */
export interface RunsView {
  readonly project: string
  /** The URL's filter. */
  readonly filter: string
  readonly sort: { col: ColumnId; desc: boolean } | null
  readonly groupBy: string
}

export interface RunListDeps {
  /** The runs API (a test swaps it). */
  runs?: typeof api.runs
  /** Called once every page of a load is in. */
  loaded?: () => void
}

function stored(key: string): string | null {
  try {
    return localStorage.getItem(key)
  } catch {
    return null
  }
}

export class RunList {
  runs = $state<Run[]>([])
  loading = $state(true)
  loadError = $state('')
  /** Every page of the last load is in (else the count shows `+`). */
  complete = $state(false)
  found = $state<Found>({ params: [], metrics: [], varying: [] })
  columns = $state<ColumnId[]>([])
  filterError = $state<{ message: string; pos: number | null } | null>(null)
  /** The filter text the error message refers to. */
  filterShown = $state('')
  history = $state<string[]>(readHistory(stored(HISTORY_KEY)))
  /** The filter the shown rows match (the URL's, once the server accepted it). */
  applied = $state<string | null>(null)

  private readonly view: RunsView
  private readonly fetchRuns: typeof api.runs
  private readonly loaded: () => void
  private seq = 0

  constructor(view: RunsView, deps: RunListDeps = {}) {
    this.view = view
    this.fetchRuns = deps.runs ?? ((p) => api.runs(p))
    this.loaded = deps.loaded ?? (() => {})
  }

  private colsKey() {
    return `trackbench.columns.${this.view.project}`
  }

  /** Finds the params and metrics of this project from a sample of runs. */
  async discover() {
    const r = await this.fetchRuns({ project: this.view.project, limit: 200, columns: `params.*,metrics.*,tags.${OWNER_TAG}` })
    this.found = discoverColumns(r.runs)
    this.columns = readColumns(stored(this.colsKey())) ?? defaultColumns(this.found)
  }

  /**
   * Loads every run matching `f`, first page first so the table paints at once. `accepted` runs
   * once the server took the filter and the first page is shown (later pages stream in while the
   * count shows `+`). A filter the server rejects leaves the shown rows and the URL as they were
   * and reports where it failed.
   */
  async load(f = this.view.filter, accepted?: () => void): Promise<boolean> {
    const seq = ++this.seq
    if (this.runs.length === 0) this.loading = true
    this.loadError = ''
    const sort = this.view.sort
    const order = sort ? orderTerm(sort.col, sort.desc) : undefined
    const cols = columnsParam(this.columns, this.view.groupBy)
    try {
      let offset = 0
      let first = true
      let acc: Run[] = []
      for (;;) {
        const page = await this.fetchRuns({ project: this.view.project, filter: f || undefined, order_by: order, columns: cols || undefined, limit: first ? 100 : PAGE, offset })
        if (seq !== this.seq) return false
        acc = first ? page.runs : acc.concat(page.runs)
        this.runs = acc
        if (first) {
          this.loading = false
          this.filterError = null
          this.applied = f
          this.complete = false
          if (f) {
            this.history = pushHistory(this.history, f)
            localStorage.setItem(HISTORY_KEY, JSON.stringify(this.history))
          }
          accepted?.()
        }
        first = false
        if (page.next_offset === null || page.next_offset === undefined) break
        offset = page.next_offset
      }
      this.complete = true
      this.loaded()
      return true
    } catch (e) {
      if (seq !== this.seq) return false
      this.loading = false
      const msg = e instanceof Error ? e.message : String(e)
      if (e instanceof ApiError && e.status === 400 && f && msg.includes('filter')) {
        this.filterError = { message: msg, pos: errorPosition(msg, f) }
        this.filterShown = f
      } else {
        this.loadError = msg
      }
      return false
    }
  }

  /** Loads the rows again with the filter they match. */
  reload() {
    this.load(this.applied ?? this.view.filter)
  }

  /** Shows `cols` (saved for the project) and loads their values. */
  saveColumns(cols: ColumnId[]) {
    this.columns = cols
    localStorage.setItem(this.colsKey(), JSON.stringify(cols))
    this.reload()
  }

  /** Follows the project's runs live: status changes at once, new runs and resyncs by a reload
   * (at most one per 500 ms). Returns the unsubscribe function. */
  follow(): () => void {
    let pending: ReturnType<typeof setTimeout> | null = null
    const reloadSoon = () => {
      if (pending) return
      pending = setTimeout(() => {
        pending = null
        this.reload()
      }, 500)
    }
    const off = onChange((c) => {
      if (c.type === 'resync') return reloadSoon()
      if (c.project !== this.view.project) return
      if (c.type === 'run_created') reloadSoon()
      else if (c.type === 'run_status') {
        const i = this.runs.findIndex((r) => r.id === c.run)
        if (i >= 0) this.runs[i] = withStatus(this.runs[i], c.status, Date.now())
        reloadSoon()
      }
    })
    return () => {
      off()
      if (pending) clearTimeout(pending)
    }
  }
}
