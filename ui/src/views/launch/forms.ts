// The launch, sweep and A/B forms' state and its mapping to request bodies. Pure functions, so
// the validation messages and the exact JSON sent are unit-tested without a browser.

import { MAX_JOBS, type AbRequest, type JobRequest, type On, type SlurmSpec, type SweepRequest, type TrainerSpec } from '../../lib/launchApi'
import { jobCount, parseAssignments, parseGrid, placeholders, type GridRow, type Params } from './grid'
import { ShellError, parseKeyValues, splitArgs } from './shell'

export interface TrainerForm {
  dataset: 'digits' | 'spirals' | 'blobs'
  lr: string
  epochs: string
  optimizer: 'sgd' | 'adam'
  hidden: string
  batch_size: string
  seed: string
  samples: string
}

export interface CommandForm {
  mode: 'trainer' | 'command'
  trainer: TrainerForm
  /** Program and arguments as one shell-like line. */
  line: string
  dir: string
  /** `KEY=VALUE` lines. */
  env: string
}

export interface CommonForm {
  project: string
  name: string
  group: string
  /** `key=value` entries, separated by commas or new lines. */
  tags: string
  /** This machine's device (with `on` local). */
  device: string
  /** Where the jobs run; the choice is offered when the server offers Slurm. */
  on: On
  slurm: SlurmForm
}

/** Slurm's options as typed; empty fields are Slurm's defaults. */
export interface SlurmForm {
  /** Empty: the cluster's default partition. */
  partition: string
  gpus: string
  /** `HH:MM:SS` (or minutes, `D-HH:MM:SS`). */
  time: string
  /** Tasks of a sweep's or an A/B's array at once; empty: no cap. */
  max_parallel: string
  /** Further sbatch options, one per line. */
  args: string
}

export interface SweepForm {
  rows: GridRow[]
  random: string
  seed: string
}

export interface AbForm {
  /** Launch new runs (`launch`) or judge two existing run groups (`groups`). */
  source: 'launch' | 'groups'
  group_a: string
  group_b: string
  a: string
  b: string
  base: string
  seeds: string
  metric: string
  goal: 'max' | 'min'
}

/** Field → message; fields are `project`, `line`, `trainer.lr`, `grid`, `a`, … */
export type Errors = Record<string, string>

export type Mapped<T> = { ok: true; body: T; warnings: string[] } | { ok: false; errors: Errors; warnings: string[] }

export const defaultTrainer = (): TrainerForm => ({
  dataset: 'digits',
  lr: '0.01',
  epochs: '20',
  optimizer: 'sgd',
  hidden: '128,128',
  batch_size: '64',
  seed: '1',
  samples: '10000',
})

export const defaultCommand = (): CommandForm => ({ mode: 'trainer', trainer: defaultTrainer(), line: '', dir: '', env: '' })

export const defaultSlurm = (): SlurmForm => ({ partition: '', gpus: '', time: '', max_parallel: '', args: '' })

export const defaultCommon = (project = ''): CommonForm => ({
  project,
  name: '',
  group: '',
  tags: '',
  device: 'cpu',
  on: 'local',
  slurm: defaultSlurm(),
})

export const defaultSweep = (): SweepForm => ({
  rows: [
    { name: 'lr', values: '0.001, 0.01, 0.1' },
    { name: '', values: '' },
  ],
  random: '',
  seed: '0',
})

export const defaultAb = (): AbForm => ({ source: 'launch', group_a: '', group_b: '', a: 'lr=0.001', b: 'lr=0.01', base: '', seeds: '5', metric: 'val/acc', goal: 'max' })

/** Options of `trackbench train` a grid or an arm may set. */
export const TRAINER_KEYS = ['dataset', 'lr', 'epochs', 'seed', 'optimizer', 'hidden', 'batch_size', 'samples', 'classes', 'dim', 'backend']

const PROJECT = /^[^\s/\\][^/\\]*$/

function int(s: string, min: number): number | null {
  const t = s.trim()
  if (!/^\d+$/.test(t)) return null
  const n = Number(t)
  return Number.isSafeInteger(n) && n >= min ? n : null
}

function positive(s: string): number | null {
  const t = s.trim()
  if (!t) return null
  const n = Number(t)
  return Number.isFinite(n) && n > 0 ? n : null
}

/** The trainer's options from the form; `skip` names fields set elsewhere (grid, arms, seeds). */
export function trainerSpec(f: TrainerForm, errors: Errors, skip: Set<string> = new Set()): Partial<TrainerSpec> {
  const t: Partial<TrainerSpec> = {}
  const need = (k: string) => !skip.has(k)
  if (need('dataset')) t.dataset = f.dataset
  if (need('optimizer')) t.optimizer = f.optimizer
  if (need('lr')) {
    const v = positive(f.lr)
    if (v === null) errors['trainer.lr'] = 'the learning rate is a number above 0'
    else t.lr = v
  }
  if (need('epochs')) {
    const v = int(f.epochs, 1)
    if (v === null) errors['trainer.epochs'] = 'epochs is a whole number, at least 1'
    else t.epochs = v
  }
  if (need('batch_size')) {
    const v = int(f.batch_size, 1)
    if (v === null) errors['trainer.batch_size'] = 'the batch size is a whole number, at least 1'
    else t.batch_size = v
  }
  if (need('seed')) {
    const v = int(f.seed, 0)
    if (v === null) errors['trainer.seed'] = 'the seed is a whole number, 0 or more'
    else t.seed = v
  }
  if (need('hidden')) {
    const parts = f.hidden.split(',').map((s) => s.trim())
    const widths = parts.map((p) => int(p, 1))
    if (!f.hidden.trim() || widths.some((w) => w === null))
      errors['trainer.hidden'] = 'hidden layer widths: whole numbers separated by commas, e.g. 128,128'
    else t.hidden = widths as number[]
  }
  if (need('samples') && f.dataset !== 'digits') {
    const v = int(f.samples, 1)
    if (v === null) errors['trainer.samples'] = 'samples is a whole number, at least 1'
    else t.samples = v
  }
  return t
}

/** Slurm's time formats: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. */
const SLURM_TIME = /^(\d+-\d+(:\d+){0,2}|\d+(:\d+){0,2})$/

/**
 * Slurm's options from the form; `array` is true for a sweep or an A/B (one array of many
 * tasks), where the cap on tasks at once applies. Empty fields are left out (Slurm's defaults).
 */
export function slurmSpec(f: SlurmForm, errors: Errors, array: boolean): SlurmSpec {
  const out: SlurmSpec = {}
  if (f.partition.trim()) out.partition = f.partition.trim()
  if (f.gpus.trim()) {
    const n = int(f.gpus, 0)
    if (n === null) errors['slurm.gpus'] = 'GPUs per task: a whole number, 0 or more'
    else if (n > 0) out.gpus = n
  }
  const time = f.time.trim()
  if (time) {
    if (!SLURM_TIME.test(time)) errors['slurm.time'] = 'a time limit such as 01:30:00 (HH:MM:SS), 90 (minutes) or 2-00:00:00 (days)'
    else out.time = time
  }
  if (array && f.max_parallel.trim()) {
    const n = int(f.max_parallel, 1)
    if (n === null) errors['slurm.max_parallel'] = 'tasks at once: a whole number, at least 1 (empty: no cap)'
    else out.max_parallel = n
  }
  const args = f.args.split('\n').map((a) => a.trim()).filter(Boolean)
  const bad = args.filter((a) => !a.startsWith('-'))
  if (bad.length) errors['slurm.args'] = `one sbatch option per line, e.g. --mem=4G (not ${bad.map((b) => `\`${b}\``).join(', ')})`
  else if (args.length) out.args = args
  return out
}

function common(c: CommonForm, errors: Errors, withName: boolean, array = false) {
  const out: { project: string; name?: string; group?: string; tags?: string[]; device?: string; on?: On; slurm?: SlurmSpec } = {
    project: c.project.trim(),
  }
  if (c.on === 'slurm') {
    // The nodes' devices are Slurm's to give: GPUs per task instead of a device of this machine.
    out.on = 'slurm'
    const spec = slurmSpec(c.slurm, errors, array)
    if (Object.keys(spec).length) out.slurm = spec
  } else {
    out.device = c.device
    if (!c.device) errors.device = 'choose a device'
  }
  if (!out.project) errors.project = 'a project is required'
  else if (!PROJECT.test(out.project)) errors.project = 'a project name has no `/` or `\\` and does not start with a space'
  if (withName && c.name.trim()) out.name = c.name.trim()
  if (c.group.trim()) out.group = c.group.trim()
  const tags = parseKeyValues(c.tags.replaceAll(',', '\n'), 'tag', /^[^\s=]+$/)
  if (tags.errors.length) errors.tags = tags.errors.join('; ').replaceAll(/line \d+: /g, '')
  else if (Object.keys(tags.values).length) out.tags = Object.entries(tags.values).map(([k, v]) => `${k}=${v}`)
  return out
}

/** The program/arguments (command mode) or trainer options, the working folder and the env. */
function what(
  cmd: CommandForm,
  errors: Errors,
  skip: Set<string>,
): { program?: string; args?: string[]; dir?: string; env?: Record<string, string>; trainer?: Partial<TrainerSpec> } {
  const out: ReturnType<typeof what> = {}
  if (cmd.mode === 'trainer') {
    out.trainer = trainerSpec(cmd.trainer, errors, skip)
  } else {
    try {
      const words = splitArgs(cmd.line)
      if (!words.length) errors.line = 'type the command to run, e.g. python train.py --lr 3e-4'
      else {
        out.program = words[0]
        out.args = words.slice(1)
      }
    } catch (e) {
      errors.line = e instanceof ShellError ? `cannot split the command: ${e.message}` : String(e)
    }
    if (cmd.dir.trim()) out.dir = cmd.dir.trim()
  }
  const env = parseKeyValues(cmd.env)
  if (env.errors.length) errors.env = env.errors.join('; ')
  else if (Object.keys(env.values).length) out.env = env.values
  return out
}

function done<T>(body: T, errors: Errors, warnings: string[]): Mapped<T> {
  return Object.keys(errors).length ? { ok: false, errors, warnings } : { ok: true, body, warnings }
}

/** One job. */
export function jobRequest(c: CommonForm, cmd: CommandForm): Mapped<JobRequest> {
  const errors: Errors = {}
  const body = { ...common(c, errors, true), ...what(cmd, errors, new Set()) } as JobRequest
  return done(body, errors, [])
}

function unknownTrainerKeys(names: string[]): string[] {
  return names.filter((n) => !TRAINER_KEYS.includes(n.replaceAll('-', '_')))
}

/** A sweep over a grid (optionally a random sample of it). */
export function sweepRequest(c: CommonForm, cmd: CommandForm, s: SweepForm): Mapped<SweepRequest> {
  const errors: Errors = {}
  const warnings: string[] = []
  const grid = parseGrid(s.rows)
  if (grid.errors.length) errors.grid = grid.errors.join('; ')
  const names = grid.axes.map(([n]) => n)
  const base = common(c, errors, false, true)
  const w = what(cmd, errors, new Set(names.map((n) => n.replaceAll('-', '_'))))
  const body: SweepRequest = { ...base, ...w, grid: Object.fromEntries(grid.axes) }
  if (s.random.trim()) {
    const n = int(s.random, 1)
    if (n === null) errors.random = 'random is how many combinations to run: a whole number, at least 1'
    else body.random = n
    const seed = int(s.seed || '0', 0)
    if (seed === null) errors.seed = 'the seed is a whole number, 0 or more'
    else body.seed = seed
  }
  if (!grid.errors.length && !errors.random && jobCount(grid.axes, body.random) > MAX_JOBS)
    errors.grid = `the grid makes ${jobCount(grid.axes, body.random)} jobs; at most ${MAX_JOBS} per sweep (set a random sample)`
  if (cmd.mode === 'command' && w.args) {
    const used = placeholders([w.program ?? '', ...w.args])
    const unused = names.filter((n) => !used.has(n))
    if (unused.length)
      warnings.push(
        `${unused.map((n) => `{${n}}`).join(', ')} not in the command: those values reach the job only as TRACKBENCH_PARAM_* variables`,
      )
  }
  if (cmd.mode === 'trainer') {
    const bad = unknownTrainerKeys(names)
    if (bad.length) errors.grid = `the trainer has no option ${bad.map((b) => `\`${b}\``).join(', ')} (it has ${TRAINER_KEYS.join(', ')})`
  }
  return done(body, errors, warnings)
}

const obj = (p: Params) => Object.fromEntries(p)

/** An A/B comparison: two arms × N seeds. */
export function abRequest(c: CommonForm, cmd: CommandForm, f: AbForm): Mapped<AbRequest> {
  const errors: Errors = {}
  const warnings: string[] = []
  if (f.source === 'groups') return abFromGroups(c, f)
  const a = parseAssignments(f.a)
  const b = parseAssignments(f.b)
  const base = parseAssignments(f.base, true)
  if (a.error) errors.a = a.error
  if (b.error) errors.b = b.error
  if (base.error) errors.base = base.error
  if (!a.error && !b.error && JSON.stringify(a.params) === JSON.stringify(b.params)) errors.b = 'arm B is the same as arm A'
  const names = [...a.params, ...b.params, ...base.params].map(([k]) => k)
  const seeds = int(f.seeds, 2)
  if (seeds === null) errors.seeds = 'seeds per arm: a whole number, at least 2 (5 or more for a useful verdict)'
  else if (seeds * 2 > MAX_JOBS) errors.seeds = `${seeds} seeds make more than ${MAX_JOBS} runs`
  const metric = f.metric.trim()
  if (!metric) errors.metric = 'name the metric to judge on, e.g. val/acc'
  const skip = new Set([...names.map((n) => n.replaceAll('-', '_')), 'seed'])
  const body: AbRequest = {
    ...common(c, errors, false, true),
    ...what(cmd, errors, skip),
    metric,
    goal: f.goal,
    seeds: seeds ?? 0,
    a: obj(a.params),
    b: obj(b.params),
  }
  if (c.name.trim()) body.name = c.name.trim()
  if (base.params.length) body.base = obj(base.params)
  if (cmd.mode === 'command' && body.args) {
    const used = placeholders([body.program ?? '', ...body.args])
    if (!used.has('seed')) warnings.push('the command has no {seed}: every run of an arm would be the same unless it reads TRACKBENCH_PARAM_SEED')
    const unused = [...new Set(names)].filter((n) => !used.has(n))
    if (unused.length) warnings.push(`${unused.map((n) => `{${n}}`).join(', ')} not in the command: those values reach the job only as TRACKBENCH_PARAM_* variables`)
  }
  if (cmd.mode === 'trainer') {
    const bad = unknownTrainerKeys([...new Set(names)])
    if (bad.length) errors[a.params.some(([k]) => bad.includes(k)) ? 'a' : 'b'] = `the trainer has no option ${bad.map((x) => `\`${x}\``).join(', ')}`
  }
  if (seeds !== null && seeds < 5) warnings.push('with fewer than 5 seeds per arm the verdict is rarely conclusive')
  return done(body, errors, warnings)
}

/** An A/B of two existing run groups: runs nothing, judges the runs already there. */
function abFromGroups(c: CommonForm, f: AbForm): Mapped<AbRequest> {
  const errors: Errors = {}
  const ga = f.group_a.trim()
  const gb = f.group_b.trim()
  if (!ga) errors.group_a = 'name the group of arm A'
  if (!gb) errors.group_b = 'name the group of arm B'
  if (ga && ga === gb) errors.group_b = 'arm B is the same group as arm A'
  const metric = f.metric.trim()
  if (!metric) errors.metric = 'name the metric to judge on, e.g. val/acc'
  const project = c.project.trim()
  if (!project) errors.project = 'a project is required'
  const body: AbRequest = { project, metric, goal: f.goal, from_groups: [ga, gb] }
  if (c.name.trim()) body.name = c.name.trim()
  return done(body, errors, [])
}
