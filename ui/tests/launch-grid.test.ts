// Sweep grid parsing, job counts, arm assignments and placeholders. (The grid's expansion and
// seeded sample are the server's; the e2e tests check the preview the form shows from them.)
import { describe, expect, it } from 'vitest'
import { gridSize, jobCount, parseAssignments, parseGrid, placeholders } from '../src/views/launch/grid'

describe('parseGrid', () => {
  it('reads rows, trimming values and skipping blank rows', () => {
    const g = parseGrid([
      { name: 'lr', values: '1e-3, 1e-2' },
      { name: '', values: '' },
      { name: 'hidden', values: '64,128,256' },
    ])
    expect(g).toEqual({ axes: [['lr', ['1e-3', '1e-2']], ['hidden', ['64', '128', '256']]], errors: [] })
  })
  it('reports bad names, duplicates, empty values and an empty grid', () => {
    expect(parseGrid([{ name: 'l r', values: '1' }]).errors[0]).toMatch(/row 1: `l r`/)
    expect(parseGrid([{ name: '', values: '1' }]).errors[0]).toMatch(/needs a name/)
    expect(parseGrid([{ name: 'a', values: '1' }, { name: 'a', values: '2' }]).errors[0]).toMatch(/row 2: `a` is given twice/)
    expect(parseGrid([{ name: 'a', values: '1,,2' }]).errors[0]).toMatch(/empty value/)
    expect(parseGrid([{ name: 'a', values: '' }]).errors[0]).toMatch(/empty value/)
    expect(parseGrid([]).errors).toEqual(['add at least one parameter and its values'])
  })
})

describe('job counts', () => {
  const axes: [string, string[]][] = [
    ['lr', ['1', '2']],
    ['h', ['a', 'b', 'c']],
  ]
  it('counts combinations and jobs', () => {
    expect(gridSize(axes)).toBe(6)
    expect(gridSize([])).toBe(0)
    expect(jobCount(axes)).toBe(6)
    expect(jobCount(axes, 4)).toBe(4)
    expect(jobCount(axes, 100)).toBe(6)
  })
})

describe('assignments and placeholders', () => {
  it('parses arms', () => {
    expect(parseAssignments('lr=0.001, hidden=64')).toEqual({ params: [['lr', '0.001'], ['hidden', '64']], error: null })
    expect(parseAssignments('lr=0.001 optimizer=adam').params).toEqual([['lr', '0.001'], ['optimizer', 'adam']])
    expect(parseAssignments('').error).toMatch(/at least one/)
    expect(parseAssignments('', true)).toEqual({ params: [], error: null })
    expect(parseAssignments('lr').error).toMatch(/no `=`/)
    expect(parseAssignments('lr=').error).toMatch(/empty value/)
    expect(parseAssignments('lr=1,lr=2').error).toMatch(/twice/)
  })
  it('finds {name} placeholders', () => {
    expect([...placeholders(['--lr', '{lr}', 'out/{seed}-{h.x}', '{not valid}'])]).toEqual(['lr', 'seed', 'h.x'])
  })
})
