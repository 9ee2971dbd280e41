// End-to-end harness: a real `trackbench serve` over a store filled by the real Rust SDK (the
// CLI's `demo`, `train` and `launch`), headless system Chromium through playwright-core, and a
// tiny sequential test runner (no test framework download: playwright-core only).
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

export const uiDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const repo = resolve(uiDir, '..')
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(repo, process.env.CARGO_TARGET_DIR) : join(repo, 'target')
export const bin = process.env.TRACKBENCH_BIN ?? join(targetDir, 'debug', 'trackbench')
export const outDir = process.env.TRACKBENCH_E2E_OUT ?? join(targetDir, 'ui-e2e')
export const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium'

/** Runs the real CLI against `store`; throws with its output when it fails. */
export function cli(store, args, opts = {}) {
  const r = spawnSync(bin, ['--store', store, ...args], { encoding: 'utf8', timeout: opts.timeout ?? 120_000, env: { ...process.env, ...opts.env } })
  if (r.status !== 0) throw new Error(`trackbench ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

export function tempStore(name) {
  return mkdtempSync(join(tmpdir(), `trackbench-e2e-${name}-`))
}

/**
 * Starts `trackbench serve` on `store` (with further `args` and `env`, e.g. `--slurm` and
 * `SLURM_CONF`); resolves with { base, login, token, proc, stop() }.
 */
export function serve(store, { port = 0, token, args = [], env: extra = {} } = {}) {
  return new Promise((resolveServer, reject) => {
    const env = { ...process.env, ...(token ? { TRACKBENCH_TOKEN: token } : {}), ...extra }
    const proc = spawn(bin, ['--store', store, 'serve', '--port', String(port), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    const timer = setTimeout(() => reject(new Error(`trackbench serve did not start in 20 s:\n${out}\n${err}`)), 20_000)
    proc.stderr.on('data', (d) => (err += d))
    proc.stdout.on('data', (d) => {
      out += d
      const m = /open:\s+(\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        const login = m[1]
        const u = new URL(login)
        resolveServer({
          base: u.origin,
          login,
          token: u.searchParams.get('token'),
          port: Number(u.port),
          proc,
          stop: () =>
            new Promise((done) => {
              if (proc.exitCode !== null) return done()
              proc.once('exit', () => done())
              proc.kill('SIGINT')
              setTimeout(() => proc.kill('SIGKILL'), 5000)
            }),
        })
      }
    })
    proc.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`trackbench serve exited (${code}):\n${out}\n${err}`))
    })
  })
}

export async function browser() {
  if (!existsSync(chromiumPath)) throw new Error(`Chromium not found at ${chromiumPath} (apt-get install chromium, or set CHROMIUM)`)
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
}

/** A page that records console errors and page errors (tests assert there are none). */
export async function newPage(b, viewport = { width: 1440, height: 900 }) {
  const context = await b.newContext({ viewport, acceptDownloads: true, locale: 'en-US' })
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  page.errors = []
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error') page.errors.push(`console: ${m.text()}`)
  })
  return page
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`)
}

export function assertEq(actual, expected, message) {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new Error(`assertion failed: ${message}\n  expected ${e}\n  actual   ${a}`)
}

/** Polls `fn` until it returns a truthy value (returned) or `timeout` ms pass (throws `what`). */
export async function until(fn, what, timeout = 10_000, every = 100) {
  const end = Date.now() + timeout
  let last
  for (;;) {
    try {
      last = await fn()
      if (last) return last
    } catch (e) {
      last = e
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`)
    await new Promise((r) => setTimeout(r, every))
  }
}

/** Runs `tests` ([name, fn]) in order; prints PASS/FAIL lines and a summary; returns failures. */
export async function runTests(tests, ctx) {
  const failures = []
  let skipped = 0
  const only = process.env.E2E_ONLY
  for (const [name, fn] of tests) {
    if (only && !name.includes(only)) {
      skipped++
      continue
    }
    const t0 = Date.now()
    try {
      await fn(ctx)
      console.log(`PASS  ${name} (${Date.now() - t0} ms)`)
    } catch (e) {
      failures.push(name)
      console.log(`FAIL  ${name} (${Date.now() - t0} ms)\n${String(e.stack ?? e).replace(/^/gm, '      ')}`)
      if (ctx.page) {
        const shot = join(outDir, 'failures', `${name.replace(/[^a-z0-9]+/gi, '-')}.png`)
        mkdirSync(dirname(shot), { recursive: true })
        await ctx.page.screenshot({ path: shot, fullPage: true }).catch(() => {})
        console.log(`      screenshot: ${shot}`)
      }
    }
  }
  console.log(`\n${tests.length - failures.length - skipped} passed, ${failures.length} failed, ${skipped} not selected (E2E_ONLY)${failures.length ? ': ' + failures.join(', ') : ''}`)
  return failures
}

export function cleanup(dir) {
  try {
    rmSync(dir, { recursive: true, force: true })
  } catch {
    /* a leftover temp folder is not a test failure */
  }
}
