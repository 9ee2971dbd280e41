// Sweep grid parsing, expansion, preview counts and the seeded random sample.
import { describe, expect, it } from 'vitest'
import {
  describe as describeParams,
  firstCombinations,
  gridSize,
  jobCount,
  parseAssignments,
  parseGrid,
  placeholders,
  previewCombinations,
  product,
  sample,
  serverOrder,
} from '../src/views/launch/grid'

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

describe('expansion', () => {
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
  it('varies the last axis fastest, like the launcher', () => {
    expect(product(axes).map(describeParams)).toEqual(['lr=1 h=a', 'lr=1 h=b', 'lr=1 h=c', 'lr=2 h=a', 'lr=2 h=b', 'lr=2 h=c'])
  })
  it('lists the first combinations without building a huge product', () => {
    expect(firstCombinations(axes, 4)).toEqual(product(axes).slice(0, 4))
    const big: [string, string[]][] = Array.from({ length: 8 }, (_, i) => [`p${i}`, Array.from({ length: 10 }, (_, j) => String(j))])
    expect(gridSize(big)).toBe(1e8)
    expect(firstCombinations(big, 3).map(describeParams)).toEqual([
      'p0=0 p1=0 p2=0 p3=0 p4=0 p5=0 p6=0 p7=0',
      'p0=0 p1=0 p2=0 p3=0 p4=0 p5=0 p6=0 p7=1',
      'p0=0 p1=0 p2=0 p3=0 p4=0 p5=0 p6=0 p7=2',
    ])
  })
  it('samples distinct combinations deterministically', () => {
    const all = Array.from({ length: 10 }, (_, i) => i)
    const s = sample(all, 4, 7)
    expect(s).toHaveLength(4)
    expect(new Set(s).size).toBe(4)
    expect(sample(all, 4, 7)).toEqual(s)
    expect(sample(all, 40, 7).sort((a, b) => a - b)).toEqual(all)
    expect(previewCombinations(axes, 3, 0, 10)).toHaveLength(3)
    expect(previewCombinations(axes, null, 0, 2)).toEqual(product(axes).slice(0, 2))
  })
  it('matches the Rust launcher’s sample for seed 0 and 1', () => {
    // Reference values: grid::sample((0..10).collect(), 3, seed) in crates/trackbench-launch.
    expect(sample([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 0)).toEqual(RUST_SEED0)
    expect(sample([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 1)).toEqual(RUST_SEED1)
    expect(sample([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 12345)).toEqual([0, 9, 1])
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

const RUST_SEED0 = [5, 9, 1]
const RUST_SEED1 = [0, 6, 2]

describe('server order', () => {
  it('sorts axes by name, as the server expands its sorted grid', () => {
    expect(serverOrder([['lr', ['1']], ['epochs', ['2']], ['Z', ['3']]]).map(([n]) => n)).toEqual(['Z', 'epochs', 'lr'])
  })
})
