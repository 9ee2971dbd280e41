// The typed client for the server's native API (`/api/v1`, see /api/v1/openapi.json).
//
// Every call goes through `request`: it keeps `conn` (signed in? server reachable?) current so the
// app can show a banner instead of a blank page, and turns error bodies into `ApiError` messages.

export type RunStatus = 'running' | 'finished' | 'failed' | 'crashed' | 'killed'

export interface Run {
  id: string
  name: string
  project: string
  status: RunStatus
  group: string | null
  notes: string | null
  command: string | null
  host: string | null
  pid: number | null
  git_commit: string | null
  git_dirty: boolean | null
  env: Record<string, unknown> | null
  error: string | null
  created_ms: number
  started_ms: number | null
  ended_ms: number | null
  heartbeat_ms: number | null
  deleted: boolean
  /** Extra columns asked for with `columns=` (params.X → value, metrics.X → summary). */
  columns?: Record<string, unknown>
}

export interface MetricSummary {
  key: string
  count: number
  last: number | string | null
  last_step: number
  last_wall_ms: number
  min: number | string | null
  max: number | string | null
  mean: number | string | null
  sum: number | string | null
  nan_count: number
}

export interface Project {
  id: number
  name: string
  runs: number
  created_ms: number
  last_activity_ms: number | null
  updated_ms: number | null
  deleted: boolean
}

export interface RunDetail {
  run: Run
  params: Record<string, unknown>
  metrics: MetricSummary[]
  summary: Record<string, unknown>
  tags: Record<string, string>
  inputs: unknown[]
}

export interface Artifact {
  path: string
  size: number
  hash: string
  media_type: string
  created_ms: number
}

export interface LogLine {
  seq: number
  stream: 'stdout' | 'stderr' | string
  ts_ms: number
  line: string
}

/** A whole series (no downsampling). Values may be the strings "NaN", "Infinity", "-Infinity". */
export interface RawSeries {
  downsampled: false
  key: string
  total: number
  x: string
  points: { steps: number[]; values: (number | string)[]; wall_ms: number[]; x: number[] | null }
}

/** A downsampled series: one bucket per x range with its min, max and last value. */
export interface BucketSeries {
  downsampled: true
  key: string
  total: number
  x: string
  method: string
  buckets: {
    x: number[]
    count: number[]
    min: (number | string | null)[]
    max: (number | string | null)[]
    last: (number | string | null)[]
    last_step: number[]
  }
}

export type Series = RawSeries | BucketSeries

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message)
  }
}

/** Connection state shown by the app shell. */
export const conn = $state({ online: true, signedIn: true, lastError: '' })

type Params = Record<string, string | number | boolean | null | undefined>

export function url(path: string, params: Params = {}): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `${path}?${s}` : path
}

/** Headers of a request: every write (anything but GET/HEAD, with a body or not, DELETE too)
 * says `Content-Type: application/json`, which the server requires of writes (a cross-site form
 * cannot send it without a CORS preflight, so it is part of the CSRF barrier). */
export function requestHeaders(method: string): Record<string, string> {
  const m = method.toUpperCase()
  return m === 'GET' || m === 'HEAD' ? {} : { 'Content-Type': 'application/json' }
}

export async function request<T>(method: string, path: string, params: Params = {}, body?: unknown): Promise<T> {
  let res: Response
  try {
    res = await fetch(url(path, params), {
      method,
      credentials: 'same-origin',
      headers: requestHeaders(method),
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (e) {
    conn.online = false
    conn.lastError = String(e)
    throw new ApiError('the Trackbench server cannot be reached', 0)
  }
  conn.online = true
  if (res.status === 401) {
    conn.signedIn = false
  }
  const text = await res.text()
  let data: unknown = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = { message: text }
    }
  }
  if (!res.ok) {
    const d = (data ?? {}) as { message?: string; error_code?: string }
    throw new ApiError(d.message ?? `${res.status} ${res.statusText}`, res.status, d.error_code)
  }
  return data as T
}

export const get = <T>(path: string, params?: Params) => request<T>('GET', path, params)
export const post = <T>(path: string, body?: unknown, params?: Params) => request<T>('POST', path, params, body ?? {})
export const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, {}, body)
export const del = <T>(path: string) => request<T>('DELETE', path)

const enc = encodeURIComponent

export const api = {
  projects: () => get<{ projects: Project[] }>('/api/v1/projects').then((r) => r.projects),
  runs: (p: { project?: string; filter?: string; order_by?: string; limit?: number; offset?: number; columns?: string }) =>
    get<{ runs: Run[]; next_offset: number | null }>('/api/v1/runs', p),
  run: (id: string) => get<RunDetail>(`/api/v1/runs/${enc(id)}`),
  metrics: (id: string) => get<{ metrics: MetricSummary[] }>(`/api/v1/runs/${enc(id)}/metrics`).then((r) => r.metrics),
  series: (id: string, p: { key: string; max_points?: number; x?: string; method?: string; since?: number; min_step?: number; max_step?: number }) =>
    get<Series>(`/api/v1/runs/${enc(id)}/series`, p),
  logs: (id: string, p: { after?: number; limit?: number } = {}) =>
    get<{ lines: LogLine[] }>(`/api/v1/runs/${enc(id)}/logs`, p).then((r) => r.lines),
  artifacts: (id: string) => get<{ artifacts: Artifact[] }>(`/api/v1/runs/${enc(id)}/artifacts`).then((r) => r.artifacts),
  artifactUrl: (id: string, path: string) => `/api/v1/runs/${enc(id)}/artifacts/${path.split('/').map(enc).join('/')}`,
  edit: (id: string, body: { name?: string; notes?: string | null; tags?: Record<string, string | null> }) =>
    patch<unknown>(`/api/v1/runs/${enc(id)}`, body),
  remove: (id: string) => del<unknown>(`/api/v1/runs/${enc(id)}`),
  restore: (id: string) => post<unknown>(`/api/v1/runs/${enc(id)}/restore`),
  reportUrl: (runs: string[]) => url('/api/v1/report', { runs: runs.join(',') }),
}

/** A number from the wire: finite numbers as is, "NaN"/"Infinity"/"-Infinity" as their values. */
export function num(v: unknown): number | null {
  if (typeof v === 'number') return v
  if (v === 'NaN') return NaN
  if (v === 'Infinity') return Infinity
  if (v === '-Infinity') return -Infinity
  return null
}
