// The launch, sweep and A/B forms mapped to request bodies, and their validation messages.
import { describe, expect, it } from 'vitest'
import {
  abRequest,
  defaultAb,
  defaultCommand,
  defaultCommon,
  defaultSweep,
  jobRequest,
  sweepRequest,
  type CommandForm,
} from '../src/views/launch/forms'

const commonForm = (over = {}) => ({ ...defaultCommon('mlp'), ...over })
const commandForm = (over: Partial<CommandForm> = {}): CommandForm => ({ ...defaultCommand(), mode: 'command', ...over })

describe('jobRequest', () => {
  it('maps the trainer with its defaults', () => {
    const r = jobRequest(commonForm({ name: ' first ', group: 'g', tags: 'a=1, b=two' }), defaultCommand())
    expect(r).toEqual({
      ok: true,
      warnings: [],
      body: {
        project: 'mlp',
        name: 'first',
        group: 'g',
        tags: ['a=1', 'b=two'],
        device: 'cpu',
        trainer: { dataset: 'digits', optimizer: 'sgd', lr: 0.01, epochs: 20, batch_size: 64, seed: 1, hidden: [128, 128] },
      },
    })
  })
  it('sends samples only for the synthetic sets', () => {
    const cmd = defaultCommand()
    cmd.trainer.dataset = 'spirals'
    cmd.trainer.samples = '2000'
    const r = jobRequest(commonForm(), cmd)
    expect(r.ok && 'trainer' in r.body && r.body.trainer.samples).toBe(2000)
  })
  it('maps a command line, folder and environment', () => {
    const r = jobRequest(
      commonForm({ device: 'cuda:0' }),
      commandForm({ line: `python train.py --name 'a b' --lr 3e-4`, dir: ' /tmp/x ', env: 'A=1\n\nB=x y' }),
    )
    expect(r).toEqual({
      ok: true,
      warnings: [],
      body: {
        project: 'mlp',
        device: 'cuda:0',
        program: 'python',
        args: ['train.py', '--name', 'a b', '--lr', '3e-4'],
        dir: '/tmp/x',
        env: { A: '1', B: 'x y' },
      },
    })
  })
  it('reports every invalid field', () => {
    const cmd = defaultCommand()
    Object.assign(cmd.trainer, { lr: '-1', epochs: '1.5', batch_size: '0', seed: 'x', hidden: '128,,64' })
    cmd.env = 'no equals'
    const r = jobRequest(commonForm({ project: '', tags: 'oops' }), cmd)
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(Object.keys(r.errors).sort()).toEqual(
      ['env', 'project', 'tags', 'trainer.batch_size', 'trainer.epochs', 'trainer.hidden', 'trainer.lr', 'trainer.seed'].sort(),
    )
  })
  it('says when the command is empty or cannot be split', () => {
    const empty = jobRequest(commonForm(), commandForm({ line: '  ' }))
    expect(!empty.ok && empty.errors.line).toMatch(/type the command/)
    const bad = jobRequest(commonForm(), commandForm({ line: `echo 'oops` }))
    expect(!bad.ok && bad.errors.line).toMatch(/unterminated single quote/)
  })
})

describe('sweepRequest', () => {
  it('maps a trainer sweep, leaving swept options out of the base', () => {
    const r = sweepRequest(commonForm({ group: 'sw' }), defaultCommand(), defaultSweep())
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.body.grid).toEqual({ lr: ['0.001', '0.01', '0.1'] })
    expect(r.body.trainer).not.toHaveProperty('lr')
    expect(r.body.trainer).toHaveProperty('epochs', 20)
    expect(r.body).not.toHaveProperty('random')
    expect(r.body.group).toBe('sw')
  })
  it('maps a command sweep with a random sample', () => {
    const s = { rows: [{ name: 'lr', values: '1,2,3' }, { name: 'h', values: '4,5' }], random: '3', seed: '9' }
    const r = sweepRequest(commonForm(), commandForm({ line: 'train --lr {lr}' }), s)
    expect(r).toEqual({
      ok: true,
      warnings: ['{h} not in the command: those values reach the job only as TRACKBENCH_PARAM_* variables'],
      body: { project: 'mlp', device: 'cpu', program: 'train', args: ['--lr', '{lr}'], grid: { lr: ['1', '2', '3'], h: ['4', '5'] }, random: 3, seed: 9 },
    })
  })
  it('rejects a bad grid, a bad random count and trainer options that do not exist', () => {
    const r = sweepRequest(commonForm(), commandForm({ line: 'x' }), { rows: [{ name: 'lr', values: '' }], random: '0', seed: '' })
    expect(!r.ok && Object.keys(r.errors).sort()).toEqual(['grid', 'random'])
    const t = sweepRequest(commonForm(), defaultCommand(), { rows: [{ name: 'momentum', values: '0.9' }], random: '', seed: '0' })
    expect(!t.ok && t.errors.grid).toMatch(/no option `momentum`/)
  })
})

describe('abRequest', () => {
  it('maps a trainer A/B: arms, seeds, metric and goal; the seed comes from the seeds', () => {
    const r = abRequest(commonForm({ name: 'lr test' }), defaultCommand(), { ...defaultAb(), base: 'epochs=3' })
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.body).toMatchObject({ project: 'mlp', name: 'lr test', device: 'cpu', metric: 'val/acc', goal: 'max', seeds: 5, a: { lr: '0.001' }, b: { lr: '0.01' }, base: { epochs: '3' } })
    expect(r.body.trainer).not.toHaveProperty('seed')
    expect(r.body.trainer).not.toHaveProperty('lr')
    expect(r.body.trainer).not.toHaveProperty('epochs')
    expect(r.body.trainer).toHaveProperty('batch_size', 64)
  })
  it('warns when a command has no {seed} and with few seeds', () => {
    const r = abRequest(commonForm(), commandForm({ line: 'train --lr {lr}' }), { ...defaultAb(), seeds: '3', goal: 'min', metric: 'val/loss' })
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.body).toMatchObject({ program: 'train', args: ['--lr', '{lr}'], seeds: 3, goal: 'min', metric: 'val/loss' })
    expect(r.warnings.join('\n')).toMatch(/no \{seed\}/)
    expect(r.warnings.join('\n')).toMatch(/fewer than 5 seeds/)
  })
  it('rejects equal arms, too few seeds and a missing metric', () => {
    const r = abRequest(commonForm(), defaultCommand(), { ...defaultAb(), b: 'lr=0.001', seeds: '1', metric: '' })
    expect(!r.ok && Object.keys(r.errors).sort()).toEqual(['b', 'metric', 'seeds'])
  })
  it('maps an A/B of two existing groups', () => {
    const r = abRequest(commonForm({ device: '' }), defaultCommand(), { ...defaultAb(), source: 'groups', group_a: 'base', group_b: 'new' })
    expect(r).toEqual({ ok: true, warnings: [], body: { project: 'mlp', metric: 'val/acc', goal: 'max', from_groups: ['base', 'new'] } })
    const bad = abRequest(commonForm(), defaultCommand(), { ...defaultAb(), source: 'groups', group_a: 'x', group_b: 'x' })
    expect(!bad.ok && bad.errors.group_b).toMatch(/same group/)
  })
})

describe('limits', () => {
  it('refuses sweeps beyond the server limit unless sampled', () => {
    const rows = [{ name: 'a', values: Array.from({ length: 40 }, (_, i) => i).join(',') }, { name: 'b', values: Array.from({ length: 30 }, (_, i) => i).join(',') }]
    const r = sweepRequest(commonForm(), commandForm({ line: 'x {a} {b}' }), { rows, random: '', seed: '0' })
    expect(!r.ok && r.errors.grid).toMatch(/1200 jobs; at most 1000/)
    expect(sweepRequest(commonForm(), commandForm({ line: 'x {a} {b}' }), { rows, random: '50', seed: '0' }).ok).toBe(true)
  })
})
