// The launch forms on the Slurm cluster: "on" and Slurm's options in the bodies (never a device
// of this machine), empty fields left to Slurm, and the options' own validation messages.
import { describe, expect, it } from 'vitest'
import { abRequest, defaultAb, defaultCommand, defaultCommon, defaultSlurm, jobRequest, slurmSpec, sweepRequest, type CommandForm, type Errors, type SlurmForm } from '../src/views/launch/forms'

const onSlurm = (slurm: Partial<SlurmForm> = {}) => ({ ...defaultCommon('mlp'), on: 'slurm' as const, slurm: { ...defaultSlurm(), ...slurm } })
const commandForm = (line: string): CommandForm => ({ ...defaultCommand(), mode: 'command', line })

describe('slurm bodies', () => {
  it('sends "on" and no device, and leaves empty options to Slurm', () => {
    const r = jobRequest(onSlurm(), commandForm(`sh -c 'echo hi'`))
    expect(r).toEqual({ ok: true, warnings: [], body: { project: 'mlp', on: 'slurm', program: 'sh', args: ['-c', 'echo hi'] } })
  })
  it('maps every option of a sweep, the sbatch options one per line', () => {
    const slurm = { partition: ' gpu ', gpus: '2', time: '01:30:00', max_parallel: '4', args: '--mem=4G\n\n  --qos=long  ' }
    const s = { rows: [{ name: 'x', values: '1,2,3' }], random: '', seed: '0' }
    const r = sweepRequest(onSlurm(slurm), commandForm('echo {x}'), s)
    expect(r.ok && r.body).toEqual({
      project: 'mlp',
      on: 'slurm',
      slurm: { partition: 'gpu', gpus: 2, time: '01:30:00', max_parallel: 4, args: ['--mem=4G', '--qos=long'] },
      program: 'echo',
      args: ['{x}'],
      grid: { x: ['1', '2', '3'] },
    })
  })
  it('caps tasks at once only for arrays (a sweep, an A/B), not a single job', () => {
    const one = jobRequest(onSlurm({ max_parallel: '2' }), commandForm('true'))
    expect(one.ok && one.body).not.toHaveProperty('slurm')
    const ab = abRequest(onSlurm({ max_parallel: '2', gpus: '0' }), defaultCommand(), defaultAb())
    expect(ab.ok && ab.body).toMatchObject({ on: 'slurm', slurm: { max_parallel: 2 } })
    expect(ab.ok && ab.body).not.toHaveProperty('device')
    expect(ab.ok && ab.body.slurm).not.toHaveProperty('gpus')
  })
  it('keeps this machine\'s bodies as they were: a device and no "on"', () => {
    const r = jobRequest({ ...defaultCommon('mlp'), slurm: { ...defaultSlurm(), partition: 'gpu' } }, commandForm('true'))
    expect(r.ok && r.body).toEqual({ project: 'mlp', device: 'cpu', program: 'true', args: [] })
  })
  it('an A/B of existing groups runs nothing, whatever the backend', () => {
    const r = abRequest(onSlurm({ partition: 'gpu' }), defaultCommand(), { ...defaultAb(), source: 'groups', group_a: 'a', group_b: 'b' })
    expect(r.ok && r.body).toEqual({ project: 'mlp', metric: 'val/acc', goal: 'max', from_groups: ['a', 'b'] })
  })
})

describe('slurmSpec', () => {
  const check = (f: Partial<SlurmForm>, array = true) => {
    const errors: Errors = {}
    const spec = slurmSpec({ ...defaultSlurm(), ...f }, errors, array)
    return { spec, errors }
  }
  it('takes Slurm\'s time formats', () => {
    for (const t of ['90', '30:00', '01:30:00', '2-00', '2-12:00', '1-00:00:00']) expect(check({ time: t }).spec.time).toBe(t)
    for (const t of ['1h', '01:30:00:00', '-1', '1.5']) expect(check({ time: t }).errors['slurm.time']).toMatch(/HH:MM:SS/)
  })
  it('says what is wrong with each field', () => {
    const { errors } = check({ gpus: 'two', max_parallel: '0', args: '--mem=4G\nmem=8G' })
    expect(errors['slurm.gpus']).toMatch(/whole number/)
    expect(errors['slurm.max_parallel']).toMatch(/at least 1/)
    expect(errors['slurm.args']).toMatch(/`mem=8G`/)
  })
  it('is empty when nothing is set', () => {
    expect(check({})).toEqual({ spec: {}, errors: {} })
  })
})
