// The uPlot side of a metric chart: its lines (lines.ts) as uPlot's aligned data, series and
// bands; the axes, legend, cursor and drag-zoom options; one chart's uPlot instance over its life
// (new data into the same instance while the series structure holds, a new one when it changes),
// listed in `window.__trackbenchCharts` while it lives; and the zoom resets of charts sharing a
// sync key. MetricChart decides what to draw and when.
import uPlot from 'uplot'
import { fmtNum, fmtTime } from '../format'
import { align, type Cell } from './align'
import { nearest, type Line } from './lines'
import { positiveOnly, type XMode } from './series'
import { fmtSeconds, fmtTick, withAlpha } from './style'

declare global {
  interface Window {
    __trackbenchCharts?: uPlot[]
  }
}

/** The x axis' name in the legend. */
export function xLabel(xMode: XMode): string {
  return xMode === 'step' ? 'step' : xMode === 'relative' ? 'time' : 'wall time'
}

/** An x value in the legend. */
export function xValue(v: number | null, xMode: XMode): string {
  if (v === null || v === undefined) return '—'
  if (xMode === 'wall') return fmtTime(v)
  if (xMode === 'relative') return fmtSeconds(v)
  return fmtNum(v)
}

/** A y value in the legend: runs logged at other x than the hovered one show their nearest value instead of a blank. */
export function legendValue(self: uPlot, v: number | null | undefined, si: number, di: number | null): string {
  if (v === undefined && di !== null) v = nearest(self.data[si] as Cell[], di)
  return v === null || v === undefined ? '—' : fmtNum(v)
}

export interface PlotData {
  data: Cell[][]
  series: uPlot.Series[]
  bands: uPlot.Band[]
}

/**
 * Every line (and its raw and band arrays) aligned onto one x array, as uPlot data: per line its
 * raw series (when smoothed), its band's max and min (when it has one) and then the line itself.
 * With a log y axis values ≤ 0 become gaps.
 */
export function plotData(lines: Line[], xMode: XMode, logY: boolean): PlotData {
  const al = align(lines.map((l) => ({ x: l.x, ys: [l.y, l.raw ?? [], l.lo ?? [], l.hi ?? []] })))
  const fix = (a: Cell[]) => (logY ? positiveOnly(a) : a)
  const data: Cell[][] = [al.x]
  const series: uPlot.Series[] = [{ label: xLabel(xMode), value: (_u, v) => xValue(v, xMode) }]
  const bands: uPlot.Band[] = []
  const fmt = legendValue
  lines.forEach((l, i) => {
    const [y, raw, lo, hi] = al.ys[i]
    if (l.raw) {
      data.push(fix(raw))
      series.push({ label: `${l.label} (raw)`, stroke: withAlpha(l.colour, 0.28), width: 1, spanGaps: false, class: 'tb-helper', points: { show: false }, value: fmt })
    }
    if (l.lo && l.hi) {
      // The envelope is its band's fill only: stroking its edges too doubled the paths drawn
      // per frame (pan/zoom of 20 runs), for lines hardly visible at 12% alpha.
      data.push(fix(hi))
      const hiIdx = data.length - 1
      series.push({ label: `${l.label} max`, stroke: withAlpha(l.colour, 0.12), width: 0, spanGaps: false, class: 'tb-helper', points: { show: false }, value: fmt })
      data.push(fix(lo))
      const loIdx = data.length - 1
      series.push({ label: `${l.label} min`, stroke: withAlpha(l.colour, 0.12), width: 0, spanGaps: false, class: 'tb-helper', points: { show: false }, value: fmt })
      bands.push({ series: [hiIdx, loIdx], fill: withAlpha(l.colour, 0.14) })
    }
    data.push(fix(y))
    series.push({ label: l.label, stroke: l.colour, width: 1.5, spanGaps: false, points: { size: 4, fill: l.colour }, value: fmt })
  })
  return { data, series, bands }
}

/** How the chart looks, beyond its data. */
export interface PlotLook {
  xMode: XMode
  logY: boolean
  height: number
  /** The theme's name: a change rebuilds the plot with the theme's axis colours. */
  theme: string
  syncKey?: string
}

/** What decides whether new data can go into the current uPlot instance: the same key, the same instance. */
export function structureKey(p: PlotData, look: PlotLook): string {
  return JSON.stringify([p.series.map((s) => [s.label, s.stroke, s.class]), p.bands.map((b) => b.series), look.xMode, look.logY, look.height, look.theme, look.syncKey])
}

/** What the chart does on the user's gestures and draws. */
export interface PlotHandlers {
  /** A drag selected the x range [min, max] (uPlot has zoomed to it already). */
  zoom(min: number, max: number): void
  /** A double-click asked for the whole range again. */
  reset(): void
  /** uPlot drew a frame. */
  draw(): void
}

export interface PlotColours {
  /** Axis labels. */
  fg: string
  /** Grid lines and ticks. */
  grid: string
}

export function plotOptions(p: PlotData, look: PlotLook, width: number, colours: PlotColours, on: PlotHandlers): uPlot.Options {
  const { xMode, logY, height, syncKey } = look
  const axis = (): uPlot.Axis => ({ stroke: colours.fg, grid: { stroke: colours.grid, width: 1 }, ticks: { stroke: colours.grid, width: 1 }, font: '11px system-ui, sans-serif' })
  return {
    width,
    height,
    ms: xMode === 'wall' ? 1 : 1e-3,
    series: p.series,
    bands: p.bands,
    scales: { x: { time: xMode === 'wall' }, y: logY ? { distr: 3 } : {} },
    axes: [
      {
        ...axis(),
        values: xMode === 'wall' ? undefined : (_u, splits) => splits.map((v) => (xMode === 'relative' ? fmtSeconds(v) : fmtTick(v))),
      },
      { ...axis(), size: 60, values: (_u, splits) => splits.map((v) => fmtTick(v)) },
    ],
    legend: { show: true, live: true },
    cursor: {
      drag: { x: true, y: false, setScale: true },
      sync: syncKey ? { key: syncKey } : undefined,
      bind: {
        dblclick: () => () => {
          on.reset()
          return null
        },
      },
    },
    hooks: {
      setSelect: [
        (self) => {
          if (self.select.width > 0) on.zoom(self.posToVal(self.select.left, 'x'), self.posToVal(self.select.left + self.select.width, 'x'))
        },
      ],
      draw: [() => on.draw()],
    },
  }
}

/** One chart's uPlot instance, kept while the series structure holds. */
export class Plot {
  private u: uPlot | null = null
  private key = ''

  /**
   * Draws `p` into `el`: into the current instance when only the data changed (keeping the
   * `zoom`ed x range, or rescaling to the data when there is none), else into a new one.
   * `options` is asked only for a new instance.
   */
  draw(el: HTMLElement, p: PlotData, look: PlotLook, zoom: { min: number; max: number } | null, options: () => uPlot.Options) {
    const key = structureKey(p, look)
    if (this.u && key === this.key) {
      this.u.setData(p.data as uPlot.AlignedData, zoom === null)
      if (zoom) this.u.setScale('x', zoom)
      return
    }
    this.destroy()
    this.key = key
    const u = new uPlot(options(), p.data as uPlot.AlignedData, el)
    this.u = u
    if (zoom) u.setScale('x', zoom)
    ;(window.__trackbenchCharts ??= []).push(u)
  }

  /** Rescales to the whole data (a zoom reset with nothing refetched). */
  unzoom() {
    if (this.u) this.u.setData(this.u.data, true)
  }

  /** Follows the container's width. */
  resize(width: number, height: number) {
    if (this.u && width > 0 && width !== this.u.width) this.u.setSize({ width, height })
  }

  destroy() {
    const u = this.u
    if (!u) return
    const list = window.__trackbenchCharts
    if (list) {
      const i = list.indexOf(u)
      if (i >= 0) list.splice(i, 1)
    }
    u.destroy()
    this.u = null
    this.key = ''
  }
}

/** Zoom resets of the charts sharing a sync key: drag-zoom is synced by uPlot, so a double-click resets them all. */
const resets = new Map<string, Set<() => void>>()

/** Registers a chart's zoom reset under `key`; returns the unregister function. */
export function joinResets(key: string, reset: () => void): () => void {
  let set = resets.get(key)
  if (!set) resets.set(key, (set = new Set()))
  set.add(reset)
  return () => {
    set.delete(reset)
    if (set.size === 0) resets.delete(key)
  }
}

/** Resets every chart sharing `key` (just `own` without a key or when none joined). */
export function resetAll(key: string | undefined, own: () => void) {
  for (const reset of (key && resets.get(key)) || [own]) reset()
}
