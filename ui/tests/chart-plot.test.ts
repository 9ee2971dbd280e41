// Unit tests of the uPlot side of a metric chart (lib/chart/plot.ts): lines as aligned uPlot data
// with helper series and bands, the structure key that decides instance reuse, legend and axis
// formatting, the options' zoom/reset/draw hooks and the shared zoom resets of synced charts.
import type uPlot from 'uplot'
import { describe, expect, it, vi } from 'vitest'
import type { Line } from '../src/lib/chart/lines'
import { joinResets, legendValue, plotData, plotOptions, resetAll, structureKey, xLabel, xValue, type PlotLook } from '../src/lib/chart/plot'

const line = (label: string, x: number[], y: (number | null)[], extra: Partial<Line> = {}): Line => ({
  label,
  colour: '#ff0000',
  x,
  y,
  raw: null,
  lo: null,
  hi: null,
  ...extra,
})

const look: PlotLook = { xMode: 'step', logY: false, height: 240, theme: 'light' }

describe('plotData', () => {
  it('aligns the lines on one x array, one series each after the x series', () => {
    const p = plotData([line('a', [0, 2], [1, 3]), line('b', [1, 2], [5, 6])], 'step', false)
    expect(p.data).toEqual([
      [0, 1, 2],
      [1, undefined, 3],
      [undefined, 5, 6],
    ])
    expect(p.series.map((s) => s.label)).toEqual(['step', 'a', 'b'])
    expect(p.series[1]).toMatchObject({ stroke: '#ff0000', width: 1.5, spanGaps: false })
    expect(p.bands).toEqual([])
  })

  it('puts the raw series and the band before their line, as hidden helpers', () => {
    const l = line('a', [0, 1], [1, 2], { raw: [0, 3], lo: [0, 1], hi: [2, 3] })
    const p = plotData([l], 'relative', false)
    expect(p.series.map((s) => s.label)).toEqual(['time', 'a (raw)', 'a max', 'a min', 'a'])
    expect(p.series.slice(1, 4).every((s) => s.class === 'tb-helper')).toBe(true)
    expect(p.series[4].class).toBeUndefined()
    expect(p.data.slice(1)).toEqual([
      [0, 3],
      [2, 3],
      [0, 1],
      [1, 2],
    ])
    expect(p.bands).toEqual([{ series: [2, 3], fill: 'rgba(255, 0, 0, 0.14)' }])
    expect(p.series[1].stroke).toBe('rgba(255, 0, 0, 0.28)')
  })

  it('turns values ≤ 0 into gaps on a log axis only', () => {
    const l = line('a', [0, 1, 2], [0, -1, 2])
    expect(plotData([l], 'step', true).data[1]).toEqual([null, null, 2])
    expect(plotData([l], 'step', false).data[1]).toEqual([0, -1, 2])
  })

  it('names and formats x by its mode', () => {
    expect(xLabel('wall')).toBe('wall time')
    expect(xValue(null, 'step')).toBe('—')
    expect(xValue(1500, 'step')).toBe('1500')
    expect(xValue(200, 'relative')).toBe('3m 20s')
    expect(xValue(Date.UTC(2024, 0, 1), 'wall')).toMatch(/^202[34]-\d\d-\d\d \d\d:\d\d:\d\d$/)
    const p = plotData([line('a', [0], [1])], 'relative', false)
    expect(p.series[0].value).toBeTypeOf('function')
    expect((p.series[0].value as (u: unknown, v: number) => string)(null, 90)).toBe('1m 30s')
  })
})

describe('legendValue', () => {
  it('shows the nearest value of a run not logged at the hovered x', () => {
    const self = { data: [[0, 1, 2], [1, undefined, 3], [undefined, 5, undefined]] } as unknown as uPlot
    expect(legendValue(self, 1.23456789, 1, 0)).toBe('1.2346')
    expect(legendValue(self, undefined, 1, 1)).toBe('1')
    expect(legendValue(self, undefined, 2, 2)).toBe('—') // past the run's end
    expect(legendValue(self, null, 1, 1)).toBe('—')
  })
})

describe('structureKey', () => {
  it('changes with what a new instance is needed for, not with the data', () => {
    const a = plotData([line('a', [0, 1], [1, 2])], 'step', false)
    const moreData = plotData([line('a', [0, 1, 2], [1, 2, 3])], 'step', false)
    expect(structureKey(moreData, look)).toBe(structureKey(a, look))
    expect(structureKey(a, { ...look, theme: 'dark' })).not.toBe(structureKey(a, look))
    expect(structureKey(a, { ...look, height: 300 })).not.toBe(structureKey(a, look))
    expect(structureKey(a, { ...look, syncKey: 'k' })).not.toBe(structureKey(a, look))
    const renamed = plotData([line('b', [0, 1], [1, 2])], 'step', false)
    expect(structureKey(renamed, look)).not.toBe(structureKey(a, look))
    const banded = plotData([line('a', [0, 1], [1, 2], { lo: [0, 1], hi: [2, 3] })], 'step', false)
    expect(structureKey(banded, look)).not.toBe(structureKey(a, look))
  })
})

describe('plotOptions', () => {
  const colours = { fg: '#111', grid: '#eee' }
  const p = plotData([line('a', [0, 1], [1, 2])], 'step', false)

  it('sizes, scales and colours the plot from its look', () => {
    const on = { zoom: vi.fn(), reset: vi.fn(), draw: vi.fn() }
    const o = plotOptions(p, { ...look, logY: true, syncKey: 'cmp' }, 640, colours, on)
    expect(o).toMatchObject({ width: 640, height: 240, ms: 1e-3, scales: { x: { time: false }, y: { distr: 3 } } })
    expect(o.cursor?.sync).toEqual({ key: 'cmp' })
    expect(o.axes?.[0].stroke).toBe('#111')
    expect(o.axes?.[1].grid).toEqual({ stroke: '#eee', width: 1 })
    const values = o.axes?.[1].values as (u: unknown, splits: number[]) => string[]
    expect(values(null, [0, 0.5, 2e6])).toEqual(['0', '0.5', '2e6'])
    const wall = plotOptions(p, { ...look, xMode: 'wall' }, 640, colours, on)
    expect(wall).toMatchObject({ ms: 1, scales: { x: { time: true }, y: {} } })
    expect(wall.axes?.[0].values).toBeUndefined()
    expect(wall.cursor?.sync).toBeUndefined()
  })

  it('reports drag-zooms, double-clicks and draws', () => {
    const on = { zoom: vi.fn(), reset: vi.fn(), draw: vi.fn() }
    const o = plotOptions(p, look, 640, colours, on)
    const self = { select: { left: 10, width: 0 }, posToVal: (px: number) => px * 2 } as unknown as uPlot
    const setSelect = o.hooks!.setSelect![0]!
    setSelect(self)
    expect(on.zoom).not.toHaveBeenCalled() // a click, not a drag
    ;(self.select as { width: number }).width = 5
    setSelect(self)
    expect(on.zoom).toHaveBeenCalledWith(20, 30)
    const dbl = o.cursor!.bind!.dblclick!(self, {} as HTMLElement, () => null) as (e: MouseEvent) => null
    expect(dbl({} as MouseEvent)).toBeNull()
    expect(on.reset).toHaveBeenCalledTimes(1)
    o.hooks!.draw![0]!(self)
    expect(on.draw).toHaveBeenCalledTimes(1)
  })
})

describe('zoom resets', () => {
  it('resets every chart sharing a sync key, or just the one without', () => {
    const a = vi.fn()
    const b = vi.fn()
    const own = vi.fn()
    const leaveA = joinResets('k', a)
    const leaveB = joinResets('k', b)
    resetAll('k', own)
    expect([a.mock.calls.length, b.mock.calls.length, own.mock.calls.length]).toEqual([1, 1, 0])
    resetAll(undefined, own)
    expect(own).toHaveBeenCalledTimes(1)
    leaveA()
    resetAll('k', own)
    expect([a.mock.calls.length, b.mock.calls.length]).toEqual([1, 2])
    leaveB()
    resetAll('k', own)
    expect(own).toHaveBeenCalledTimes(2)
  })
})
