// The typed client for the launcher endpoints: devices, backends (this machine, a Slurm
// cluster), the job queue, sweeps and A/B comparisons (`/api/v1/devices|backends|jobs|sweeps|ab`).
// Shapes follow the server's openapi.json.

import { get, post, url } from './api.svelte'

export interface Device {
  /** What a job is pinned with: `cpu`, `cuda:0`, `wgpu:NAME`. */
  id: string
  kind: 'cpu' | 'cuda' | 'wgpu' | string
  name: string
  detail: string | null
}

export type JobState = 'queued' | 'running' | 'finished' | 'failed' | 'killed' | 'cancelled'

/** Where jobs run: this machine's devices, or the Slurm cluster the server submits to. */
export type On = 'local' | 'slurm'

/** Slurm's options of a launch (`"slurm"` with `"on": "slurm"`); all optional. */
export interface SlurmSpec {
  partition?: string
  /** GPUs per task (`--gpus`). */
  gpus?: number
  /** Time limit per task, as Slurm takes it (`HH:MM:SS`, minutes, `D-HH:MM:SS`). */
  time?: string
  /** Further sbatch options, one each (`--mem=4G`). */
  args?: string[]
  /** Tasks of a sweep's or an A/B's array running at once. */
  max_parallel?: number
}

/** Where this server can run jobs (`GET /api/v1/backends`). */
export interface Backends {
  local: { enabled: boolean; why: string | null }
  slurm: {
    enabled: boolean
    why: string | null
    /** The cluster's partitions, its default first. */
    partitions: string[]
    default_partition: string | null
    /** Why the partitions could not be listed (`sinfo` failed). */
    error: string | null
  }
}

export interface Job {
  /** The server numbers its jobs. */
  id: number | string
  run_id: string | null
  project: string
  name: string | null
  command: string
  /** `cpu`, `cuda:0`…; a Slurm task's `slurm[:PARTITION][, N GPUs]`. */
  device: string
  /** `local` unless the server says otherwise (older servers send none). */
  backend?: On
  /** A Slurm task's job id, `JOBID_TASK` (what `scancel` and `squeue` take). */
  slurm_job?: string | null
  state: JobState
  /** Unix seconds (see `toMs`). */
  queued_at: number | string | null
  started_at: number | string | null
  ended_at: number | string | null
  exit_code: number | null
  sweep_id: string | null
  ab_id: string | null
  error?: string | null
}

/** The reference trainer's options (`trackbench train`). */
export interface TrainerSpec {
  dataset: 'digits' | 'spirals' | 'blobs'
  lr: number
  epochs: number
  seed: number
  optimizer: 'sgd' | 'adam'
  /** Hidden layer widths. */
  hidden: number[]
  batch_size: number
  samples?: number
  classes?: number
  dim?: number
}

/** What to run: a program and its arguments, or the reference trainer. */
export type Command = { program: string; args: string[]; dir?: string } | { trainer: Partial<TrainerSpec> }

export interface Common {
  project: string
  name?: string
  group?: string
  /** `KEY=VALUE` each. */
  tags?: string[]
  env?: Record<string, string>
  /** Omitted on Slurm (ask for GPUs with `slurm.gpus`). */
  device?: string
  /** Omitted for this machine. */
  on?: On
  slurm?: SlurmSpec
}

export type JobRequest = Common & Command

export interface SweepRequest extends Omit<Common, 'name'> {
  grid: Record<string, string[]>
  random?: number
  seed?: number
  program?: string
  args?: string[]
  dir?: string
  trainer?: Partial<TrainerSpec>
}

/** A sweep body for the dry run: without a command, the grid alone is planned. */
export type SweepPlanRequest = Partial<Omit<SweepRequest, 'grid'>> & Pick<SweepRequest, 'grid'>

/** One job a sweep would start (`POST /api/v1/sweeps/plan`); command and device with a command. */
export interface PlannedJob {
  params: Record<string, string>
  name: string
  command?: string
  device?: string
}

/** What a sweep would start: how many combinations, how many jobs, and the first jobs in order. */
export interface SweepPlan {
  combinations: number
  count: number
  jobs: PlannedJob[]
}

export interface AbRequest {
  project: string
  name?: string
  group?: string
  tags?: string[]
  env?: Record<string, string>
  /** Omitted with `from_groups` (nothing runs), and on Slurm. */
  device?: string
  on?: On
  slurm?: SlurmSpec
  metric: string
  goal: 'max' | 'min'
  seeds?: number
  a?: Record<string, string>
  b?: Record<string, string>
  /** Judge two existing run groups (A's, B's) instead of launching runs. */
  from_groups?: [string, string]
  base?: Record<string, string>
  program?: string
  args?: string[]
  dir?: string
  trainer?: Partial<TrainerSpec>
}

export interface ArmStats {
  n: number
  mean: number | string | null
  std: number | string | null
  sem?: number | string | null
  median?: number | string | null
  min?: number | string | null
  max?: number | string | null
  excluded_nan?: number
  note?: string | null
}

/** One run of an A/B as it stands now (`GET /api/v1/ab/{id}/stats`). */
export interface AbLiveRun {
  arm: 'a' | 'b'
  seq: number
  run: string
  name: string
  status: string
  /** Its last value of the metric, whatever its status. */
  value: number | string | null
  /** Whether the value counts for the verdict (the run finished). */
  counts: boolean
}

/** One arm's statistics over its counted runs, as the server computes them. */
export interface AbLiveArm {
  n: number
  mean: number | string | null
  std: number | string | null
  sem: number | string | null
  confidence: number
  ci_low: number | string | null
  ci_high: number | string | null
  median: number | string | null
  min: number | string | null
  max: number | string | null
  note: string | null
}

export interface AbLive {
  runs: AbLiveRun[]
  a: AbLiveArm
  b: AbLiveArm
}

/** The statistics behind a verdict (trackbench-stats' comparison). */
export interface Comparison {
  a: ArmStats
  b: ArmStats
  alpha?: number
  confidence?: number
  direction?: string
  outcome?: string
  verdict?: string
  notes?: string[]
  hedges_g?: number | string | null
  pooled_sd?: number | string | null
  seeds_needed?: number | null
  welch?: {
    diff: number | string | null
    ci_low: number | string | null
    ci_high: number | string | null
    p_two_sided: number | string | null
    t?: number | string | null
    df?: number | string | null
    se?: number | string | null
    confidence?: number
    note?: string | null
  } | null
  bootstrap?: { low: number | string | null; high: number | string | null; resamples?: number; seed?: number } | null
  mann_whitney?: { u: number | string | null; p_two_sided: number | string | null; method?: string } | null
}

export interface AbRunValue {
  arm: 'a' | 'b'
  run: string
  name: string | null
  status: string
  value: number | string | null
  error: string | null
}

export interface Ab {
  id: string
  project: string
  name: string
  metric: string
  direction: 'maximize' | 'minimize' | string
  status: string
  spec: {
    a?: Record<string, string>
    b?: Record<string, string>
    base?: Record<string, string>
    command?: string
    device?: string
    seeds?: number
    source?: string
    groups?: [string, string] | string[]
    [k: string]: unknown
  }
  result: { comparison?: Comparison; failed_runs?: number; runs?: AbRunValue[]; [k: string]: unknown } | null
  error: string | null
  created_ms: number
  ended_ms: number | null
  runs: { arm: 'a' | 'b'; seq: number; run_id: string }[]
  /** Jobs of this A/B still known to the queue (live progress), when the server gives them. */
  jobs?: Job[]
}

function list<T>(r: unknown, key: string): T[] {
  if (Array.isArray(r)) return r as T[]
  const v = (r as Record<string, unknown> | null)?.[key]
  return Array.isArray(v) ? (v as T[]) : []
}

const enc = (v: string | number) => encodeURIComponent(String(v))

export const launchApi = {
  devices: () => get<unknown>('/api/v1/devices').then((r) => uniqueDevices(list<Device>(r, 'devices'))),
  backends: () => get<Backends>('/api/v1/backends'),
  jobs: () => get<unknown>('/api/v1/jobs').then((r) => list<Job>(r, 'jobs')),
  launch: (body: JobRequest) => post<Job>('/api/v1/jobs', body),
  cancel: (id: Job['id']) => post<Job>(`/api/v1/jobs/${enc(id)}/cancel`),
  sweep: (body: SweepRequest) => post<{ sweep_id: string; jobs: Job[] }>('/api/v1/sweeps', body),
  planSweep: (body: SweepPlanRequest, limit: number) => post<SweepPlan>(`/api/v1/sweeps/plan?limit=${enc(limit)}`, body),
  startAb: (body: AbRequest) => post<{ ab_id: string; jobs: Job[]; ab?: Ab }>('/api/v1/ab', body),
  abs: (p: { project?: string } = {}) => get<unknown>('/api/v1/ab', p).then((r) => list<Ab>(r, 'ab')),
  ab: (id: string) => get<Ab>(`/api/v1/ab/${enc(id)}`),
  abStats: (id: string) => get<AbLive>(`/api/v1/ab/${enc(id)}/stats`),
  abReportUrl: (id: string) => url(`/api/v1/ab/${enc(id)}/report`),
}

/**
 * One entry per device id: a wgpu adapter seen through two APIs (Vulkan and GL) is listed twice
 * with the same id, and a job names only the id, so the entries merge (their details joined).
 */
export function uniqueDevices(list: Device[]): Device[] {
  const out: Device[] = []
  for (const d of list) {
    const same = out.find((x) => x.id === d.id)
    if (!same) out.push({ ...d })
    else if (d.detail && d.detail !== same.detail) same.detail = same.detail ? `${same.detail}; ${d.detail}` : d.detail
  }
  return out
}

/**
 * A job time from the wire as milliseconds: the server sends Unix seconds (fractional); a number
 * too large to be seconds is taken as milliseconds already, a string is parsed as a date.
 */
export function toMs(v: number | string | null | undefined): number | null {
  if (v === null || v === undefined) return null
  if (typeof v === 'number') return v < 1e11 ? v * 1000 : v
  const n = Date.parse(v)
  return Number.isNaN(n) ? null : n
}

/** The most jobs one sweep or A/B may start (the server's `MAX_JOBS`). */
export const MAX_JOBS = 1000

export const activeStates: JobState[] = ['queued', 'running']
export const isActive = (j: Pick<Job, 'state'>) => activeStates.includes(j.state)
