// The server's job queue as shared state: loaded once, kept fresh every second while a job is
// queued or running and on run events, for as long as some view watches it (ref-counted).

import { ApiError } from '../../lib/api.svelte'
import { onChange } from '../../lib/events.svelte'
import { isActive, launchApi, toMs, type Job } from '../../lib/launchApi'

export const queue = $state({
  jobs: [] as Job[],
  loaded: false,
  error: '',
  /** Ticks every second while a job is active, so elapsed times move. */
  now: Date.now(),
})

let inFlight: Promise<void> | null = null
let again = false

/** Reloads the queue (a call during a load runs one more load after it). */
export function loadJobs(): Promise<void> {
  if (inFlight) {
    again = true
    return inFlight
  }
  inFlight = (async () => {
    try {
      const jobs = await launchApi.jobs()
      // Newest first; the server's order is kept among equal times.
      queue.jobs = jobs.map((j, i) => [j, i] as const).sort((x, y) => key(y[0]) - key(x[0]) || x[1] - y[1]).map(([j]) => j)
      queue.error = ''
    } catch (e) {
      queue.error = e instanceof ApiError ? e.message : String(e)
    } finally {
      queue.loaded = true
      queue.now = Date.now()
      inFlight = null
    }
    if (again) {
      again = false
      await loadJobs()
    }
  })()
  return inFlight
}

function key(j: Job): number {
  return toMs(j.queued_at) ?? 0
}

/** Puts a job the server just returned into the list at once (before the next load). */
export function upsertJobs(jobs: Job[]) {
  const byId = new Map(jobs.map((j) => [j.id, j]))
  const rest = queue.jobs.filter((j) => !byId.has(j.id))
  queue.jobs = [...jobs, ...rest]
}

let watchers = 0
let timer: ReturnType<typeof setTimeout> | null = null
let unsubscribe: (() => void) | null = null

function tick() {
  timer = setTimeout(async () => {
    if (queue.jobs.some(isActive)) await loadJobs()
    queue.now = Date.now()
    if (watchers > 0) tick()
  }, 1000)
}

/** Keeps the queue fresh while the caller lives; returns the stop function (use in `$effect`). */
export function watchJobs(): () => void {
  watchers++
  if (watchers === 1) {
    void loadJobs()
    unsubscribe = onChange((c) => {
      if (c.type !== 'points') void loadJobs()
    })
    tick()
  }
  return () => {
    watchers--
    if (watchers === 0) {
      unsubscribe?.()
      unsubscribe = null
      if (timer) clearTimeout(timer)
      timer = null
    }
  }
}

export async function cancelJob(id: Job['id']): Promise<void> {
  const j = await launchApi.cancel(id)
  if (j && typeof j === 'object' && 'id' in j) upsertJobs([j])
  await loadJobs()
}
