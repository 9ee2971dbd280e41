// Timings of the page's pure data logic on big inputs (`npx vitest bench --run`; `cargo xtask
// bench` runs it through e2e/bench.mjs, which reports them against their targets). Tests assert
// results only; how fast is measured here.
import { bench, describe } from 'vitest'
import { align } from '../src/lib/chart/align'
import { matchingLines } from '../src/views/run/logsearch'

const lines = Array.from({ length: 100_000 }, (_, i) => ({ line: `step ${i} loss ${Math.sin(i)}` }))

describe('log search', () => {
  // Target: <= 500 ms.
  bench('search 100k log lines', () => {
    if (matchingLines(lines, 'step 9999').length !== 11) throw new Error('wrong matches')
  })
})

const n = 200_000
const xs = Array.from({ length: 4 }, (_, k) => Array.from({ length: n }, (_, i) => i * 4 + k))

describe('chart alignment', () => {
  // Target: <= 2000 ms (linear in the points).
  bench('align 4 series x 200k points', () => {
    if (align(xs.map((x) => ({ x, ys: [x] }))).x.length !== 4 * n) throw new Error('wrong union')
  })
})
