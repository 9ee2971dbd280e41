// The UI's end-to-end tests: real `trackbench serve`, a store filled by the real SDK, headless
// Chromium. `node e2e/run.mjs` (xtask runs it after building the UI and the CLI). Screenshots of
// the main views go to $CARGO_TARGET_DIR/ui-e2e/screenshots (the README's come from there).
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { assert, assertEq, bin, browser, cleanup, cli, newPage, outDir, runTests, serve, tempStore, until } from './harness.mjs'
import { usersTests } from './users.mjs'

const shots = join(outDir, 'screenshots')
mkdirSync(shots, { recursive: true })

console.log(`trackbench: ${bin}`)
// Team mode (`E2E_TEAM_STORE=postgres://…`, `E2E_TEAM_ARTIFACTS=file:///…`, which xtask sets for
// a second run): the store is filled the same way, copied into the team store with `trackbench
// store copy`, and the UI is served from the team store; the CLI reads the team store too.
const team = process.env.E2E_TEAM_STORE
if (team) process.env.TRACKBENCH_ARTIFACTS = process.env.E2E_TEAM_ARTIFACTS
const folder = tempStore('ui')
// The real SDK writes everything: the demo's six runs (the reference trainer on the CPU, two
// learning rates x three seeds, about a second in all), a trained MLP (step metrics, a
// safetensors artifact), and a launched command (stdout/stderr log lines).
cli(folder, ['demo'])
cli(folder, ['train', '--backend', 'cpu', '--project', 'mlp', '--dataset', 'digits', '--epochs', '2', '--name', 'digits-mlp'])
cli(folder, ['launch', '--project', 'shell', '--name', 'echo', '--', 'sh', '-c', 'echo hello from stdout; echo warning on stderr >&2'])
for (const n of ['bulk-a', 'bulk-b', 'bulk-c']) cli(folder, ['launch', '--project', 'bulk', '--name', n, '--', 'true'])
// Dataset profiles (the run page's Data tab, the drift view), logged by the real SDK's
// `log_dataset` (`trackbench-ui-datasets`, built by xtask next to the CLI): project `data`.
const datasetsBin = process.env.TRACKBENCH_UI_DATASETS ?? bin.replace(/trackbench$/, 'trackbench-ui-datasets')
const logged = spawnSync(datasetsBin, [folder], { encoding: 'utf8', timeout: 120_000 })
if (logged.status !== 0) throw new Error(`${datasetsBin} failed (${logged.status ?? logged.error}):\n${logged.stdout}\n${logged.stderr}`)
const dataRuns = JSON.parse(logged.stdout)

if (team) console.log(cli(folder, ['store', 'copy', '--from', folder, '--to', team, '--to-artifacts', process.env.E2E_TEAM_ARTIFACTS]))
// Where the server and the tests' CLI calls look: the folder, or the team store it was copied to.
const store = team ?? folder
const demoRuns = JSON.parse(cli(store, ['runs', 'ls', '--project', 'demo', '--json']))
const mlpRun = JSON.parse(cli(store, ['runs', 'ls', '--project', 'mlp', '--json']))[0]
const token = 'e2e-' + Math.random().toString(36).slice(2)
let server = await serve(store, { token })
const b = await browser()
const page = await newPage(b)
const ctx = { page }
// Sign in once for every test (the first test checks what the login URL did).
await page.goto(server.login)

const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`) })
const rows = () => page.locator('[data-testid="run-row"]')
const names = () => page.locator('[data-testid="run-row"] [data-testid="run-link"]').allTextContents()

async function openRuns(project, query = '', row = 'run-row') {
  await page.goto(`${server.base}/p/${encodeURIComponent(project)}${query}`)
  await page.waitForSelector(`[data-testid="runs-table"] [data-testid="${row}"]`)
}

const tests = [
  ['login URL sets the cookie and leaves the address bar', async () => {
    await page.goto(server.login)
    await page.waitForSelector('[data-testid="projects"] [data-testid="project-link"]')
    assert(!page.url().includes('token='), `token still in the URL: ${page.url()}`)
    const links = await page.locator('[data-testid="project-link"]').allTextContents()
    for (const p of ['demo', 'mlp', 'shell']) assert(links.includes(p), `project ${p} listed (got ${links})`)
    await shot('projects')
  }],

  ['runs table lists every run with its columns', async () => {
    await page.locator('[data-testid="project-link"]', { hasText: 'demo' }).click()
    await page.waitForSelector('[data-testid="run-row"]')
    assertEq((await names()).sort(), demoRuns.map((r) => r.name).sort(), 'the demo runs')
    assertEq(await page.locator('[data-testid="status-badge"]').first().textContent(), 'finished', 'status badge')
    assert(await page.locator('[data-testid="sort-metrics.val/acc"]').count() === 1, 'a val/acc column')
  }],

  ['sort by a metric column, both directions', async () => {
    await openRuns('demo')
    const accOf = Object.fromEntries(
      JSON.parse(cli(store, ['runs', 'ls', '--project', 'demo', '--json', '--columns', 'metrics.val/acc'])).map((r) => [r.name, r.metrics?.['val/acc']?.last]),
    )
    for (const desc of [true, false]) {
      await page.click('[data-testid="sort-metrics.val/acc"]')
      await until(async () => page.url().includes(`sort=metrics.val%2Facc%3A${desc ? 'desc' : 'asc'}`) || page.url().includes(`sort=metrics.val/acc:${desc ? 'desc' : 'asc'}`), 'sort in the URL')
      await until(async () => {
        const n = await names()
        const v = n.map((x) => accOf[x])
        return n.length === demoRuns.length && v.every((x, i) => i === 0 || (desc ? v[i - 1] >= x : v[i - 1] <= x))
      }, `rows ordered by val/acc ${desc ? 'desc' : 'asc'}`)
    }
  }],

  ['filter with the query language; errors inline with position; history', async () => {
    await openRuns('demo')
    await page.keyboard.press('/')
    assert(await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'filter'), '/ focuses the filter')
    await page.keyboard.type('params.lr > 0.02')
    await page.keyboard.press('Enter')
    const want = demoRuns.filter((r) => r.name.startsWith('lr0.03')).map((r) => r.name).sort()
    await until(async () => JSON.stringify((await names()).sort()) === JSON.stringify(want), `only ${want}`)
    assert(page.url().includes('filter='), 'filter kept in the URL')
    await shot('runs-filtered')
    // A malformed filter: the message names the position and nothing else changes.
    await page.fill('[data-testid="filter"]', 'params.lr >')
    await page.keyboard.press('Enter')
    const err = await page.waitForSelector('[data-testid="filter-error"]')
    const text = await err.textContent()
    assert(/position \d+/.test(text) && text.includes('^'), `error with position and caret: ${text}`)
    // The rejected filter changed nothing: same rows, and the URL keeps the last good filter.
    assertEq((await names()).sort(), want, 'rows after a rejected filter')
    await page.reload()
    await until(async () => JSON.stringify((await names()).sort()) === JSON.stringify(want), 'the good filter after reload')
    await page.click('[data-testid="filter"]')
    await page.waitForSelector('[data-testid="filter-history"] >> text=params.lr > 0.02')
  }],

  ['group by a param shows aggregated rows', async () => {
    await openRuns('demo', '?group=params.lr', 'group-row')
    await page.waitForSelector('[data-testid="group-row"]')
    assertEq(await page.locator('[data-testid="group-row"]').count(), 2, 'two lr groups')
    await page.locator('[data-testid="group-row"]').first().click()
    await until(async () => (await rows().count()) === 3, 'an open group shows its 3 runs')
    await shot('runs-grouped')
  }],

  ['keyboard: arrows move, Enter opens a run, back returns', async () => {
    await openRuns('demo')
    await page.locator('body').click({ position: { x: 5, y: 5 } })
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('Enter')
    await page.waitForSelector('[data-testid="run-detail"]')
    const id = await page.getAttribute('[data-testid="run-detail"]', 'data-run-id')
    const second = (await rows().nth(0).count()) >= 0
    assert(second && demoRuns.some((r) => r.id === id), `opened a demo run (${id})`)
    await page.goBack()
    await page.waitForSelector('[data-testid="runs-table"]')
  }],

  ['run detail: overview, one chart per metric with one series', async () => {
    await openRuns('mlp')
    await page.click(`[data-testid="run-row"][data-run-id="${mlpRun.id}"] [data-testid="run-link"]`)
    await page.waitForSelector(`[data-testid="run-detail"][data-run-id="${mlpRun.id}"]`)
    const detail = await (await fetch(`${server.base}/api/v1/runs/${mlpRun.id}/metrics`, { headers: { Authorization: `Bearer ${token}` } })).json()
    const keys = detail.metrics.map((m) => m.key).filter((k) => !k.startsWith('sys/'))
    await until(async () => (await page.locator('[data-testid="run-charts"] [data-testid="chart"][data-ready="true"]').count()) === keys.length, `${keys.length} charts ready`, 15_000)
    const counts = await page.locator('[data-testid="run-charts"] [data-testid="chart"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-series-count')))
    assert(counts.every((c) => c === '1'), `every chart has one series: ${counts}`)
    const metrics = await page.locator('[data-testid="run-charts"] [data-testid="chart"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-metric')))
    assertEq(metrics.sort(), keys.sort(), 'a chart per metric')
    await shot('run-detail')
  }],

  ['run detail: artifacts and logs', async () => {
    await page.goto(`${server.base}/runs/${mlpRun.id}?tab=artifacts`)
    await page.waitForSelector('[data-testid="artifacts"] >> text=model.safetensors')
    const shell = JSON.parse(cli(store, ['runs', 'ls', '--project', 'shell', '--json']))[0]
    await page.goto(`${server.base}/runs/${shell.id}?tab=logs`)
    await page.waitForSelector('[data-testid="logs"] >> text=hello from stdout')
    await page.waitForSelector('[data-testid="logs"] >> text=warning on stderr')
    // The launcher's bookkeeping tags (launch.*) are folded behind a toggle in the header.
    const launchTags = page.locator('[data-testid="run-tag"][data-key^="launch."]')
    assertEq(await launchTags.count(), 0, 'launch.* tags folded on the run page')
    await page.click('[data-testid="run-tags"] [data-testid="system-tags-toggle"]')
    await until(async () => (await launchTags.count()) > 0, 'launch.* tags shown once unfolded')
  }],

  ['compare two runs: overlaid charts, param diff', async () => {
    await openRuns('demo')
    await page.evaluate(() => sessionStorage.clear())
    await page.reload()
    await page.waitForSelector('[data-testid="run-row"]')
    const [a, c] = [demoRuns.find((r) => r.name === 'lr0.01-seed1'), demoRuns.find((r) => r.name === 'lr0.03-seed1')]
    for (const r of [a, c]) await page.check(`[data-testid="run-row"][data-run-id="${r.id}"] input[type="checkbox"]`)
    await page.locator('body').click({ position: { x: 5, y: 5 } })
    await page.keyboard.press('c')
    await page.waitForSelector('[data-testid="compare"][data-painted="true"]', { timeout: 15_000 })
    const counts = await page.locator('[data-testid="compare"] [data-testid="chart"]').evaluateAll((els) => els.filter((e) => !e.closest('details:not([open])')).map((e) => [e.getAttribute('data-metric'), e.getAttribute('data-series-count')]))
    assert(counts.length >= 4, `a chart per metric (${counts.length})`)
    for (const [m, n] of counts) if (!m.startsWith('sys/')) assertEq(n, '2', `two series in ${m}`)
    const diff = await page.locator('[data-testid="param-diff"]').textContent()
    assert(diff.includes('lr'), 'lr differs and is shown')
    assert(!/model\.hidden|hidden/.test(diff), 'identical params are hidden by default')
    await shot('compare')
  }],

  ['export a report of the selection', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('button', { hasText: 'Export report' }).first().click()])
    const file = await download.path()
    const html = readFileSync(file, 'utf8')
    assert(html.startsWith('<!') || html.includes('<html'), 'an HTML file')
    for (const n of ['lr0.01-seed1', 'lr0.03-seed1']) assert(html.includes(n), `report names ${n}`)
  }],

  ["run page Data tab: the run's datasets, per-column summaries and histograms", async () => {
    await page.goto(`${server.base}/runs/${dataRuns.reference}`)
    await page.waitForSelector('[data-testid="tab-data"]')
    assertEq((await page.textContent('[data-testid="tab-data"] .n'))?.trim(), '2', 'the tab counts the datasets')
    await page.click('[data-testid="tab-data"]')
    await page.waitForSelector('[data-testid="datasets"] [data-testid="dataset-row"]')
    const names = await page.locator('[data-testid="dataset-row"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')))
    assertEq(names, ['train', 'held out / v2 ✓'], 'the datasets, in logging order')
    const trainRow = await page.locator('[data-testid="dataset-row"][data-name="train"] td').allTextContents()
    assertEq(trainRow.slice(0, 5).map((t) => t.trim()), ['train', 'training', '', '6000', '4'], 'name, context, step, rows, columns')
    // The first dataset is shown: a row per column, from the server's profile.
    const profile = '[data-testid="dataset-profile"][data-name="train"]'
    await page.waitForSelector(`${profile} [data-testid="column-row"]`)
    const cols = await page.locator(`${profile} [data-testid="column-row"]`).evaluateAll((els) => els.map((e) => [e.getAttribute('data-column'), e.getAttribute('data-dtype')]))
    assertEq(cols, [['age', 'float'], ['visits', 'int'], ['city', 'string'], ['score', 'float']], 'columns and types')
    const cells = async (c) => (await page.locator(`${profile} [data-testid="column-row"][data-column="${c}"] td`).allTextContents()).map((t) => t.trim())
    const api = await (await fetch(`${server.base}/api/v1/runs/${dataRuns.reference}/datasets/train`, { headers: { Authorization: `Bearer ${token}` } })).json()
    const visits = api.columns.find((c) => c.name === 'visits')
    const v = await cells('visits')
    assertEq([v[2], v[3]], [String(visits.count), String(visits.nulls)], 'count and nulls as the server has them')
    assert((await cells('score'))[3].includes('12 NaN'), `NaN counted apart: ${await cells('score')}`)
    assertEq(await page.locator(`${profile} [data-testid="column-exact"]`).allTextContents(), ['sketched', 'exact', 'exact', 'sketched'], 'exact vs sketched')
    assert((await cells('city'))[9].includes('Paris'), `the top categories: ${await cells('city')}`)
    // A histogram per column: 30 bins for numbers, the categories for strings.
    const hist = (c) => page.locator(`${profile} [data-testid="column-row"][data-column="${c}"] [data-testid="histogram"]`)
    assertEq(await hist('age').getAttribute('data-kind'), 'numeric', 'age: a histogram')
    assertEq(await hist('age').locator('rect').count(), 30, 'age: 30 bins')
    assertEq(await hist('city').getAttribute('data-kind'), 'categorical', 'city: categories')
    assertEq(await hist('city').locator('rect').count(), 3, 'city: three categories')
    await shot('run-data')
    // Another dataset, by a name a URL must carry: kept in the URL, survives a reload.
    await page.click('[data-testid="dataset-row"][data-name="held out / v2 ✓"] [data-testid="dataset-link"]')
    await page.waitForSelector('[data-testid="dataset-profile"][data-name="held out / v2 ✓"] [data-testid="column-row"]')
    assertEq(new URL(page.url()).searchParams.get('ds'), 'held out / v2 ✓', 'the dataset in the URL')
    await page.reload()
    await page.waitForSelector('[data-testid="dataset-profile"][data-name="held out / v2 ✓"] [data-testid="column-row"]')
    assertEq((await page.locator('[data-testid="dataset-row"][aria-selected="true"]').getAttribute('data-name')), 'held out / v2 ✓', 'selected after reload')
    // A run that logged none says how to.
    await page.goto(`${server.base}/runs/${dataRuns.empty}?tab=data`)
    await page.waitForSelector('[data-testid="no-datasets"] >> text=log_dataset')
  }],

  ['drift view: compare with another run, severity order, overlaid histograms and CDFs', async () => {
    await page.goto(`${server.base}/runs/${dataRuns.reference}?tab=data`)
    await page.waitForSelector('[data-testid="dataset-profile"][data-name="train"] [data-testid="column-row"]')
    await page.click('[data-testid="drift-picker"] summary')
    await page.waitForSelector(`[data-testid="drift-picker-run"] option[value="${dataRuns.current}"]`, { state: 'attached' })
    await page.selectOption('[data-testid="drift-picker-run"]', dataRuns.current)
    // The same name on the other run is picked by default.
    await until(async () => (await page.locator('[data-testid="drift-picker-dataset"] option:checked').textContent())?.startsWith('train'), 'train picked')
    await page.click('[data-testid="drift-link"]')
    await page.waitForSelector('[data-testid="drift"][data-ready="true"]')
    const q = new URL(page.url()).searchParams
    assertEq([new URL(page.url()).pathname, q.get('reference'), q.get('current')], ['/drift', `${dataRuns.reference}:train`, `${dataRuns.current}:train`], 'the drift URL')
    assertEq(await page.getAttribute('[data-testid="drift-verdict"]', 'data-drift'), 'true', 'the dataset drifted')
    const order = async () => page.locator('[data-testid="drift-row"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-column'), e.getAttribute('data-drift')]))
    // Drifted first, the furthest past its threshold first (the server's statistics).
    const report = await (await fetch(`${server.base}/api/v1/drift?reference=${encodeURIComponent(q.get('reference'))}&current=${encodeURIComponent(q.get('current'))}`, { headers: { Authorization: `Bearer ${token}` } })).json()
    const drifted = report.report.columns.filter((c) => c.drift).sort((a, b) => b.statistic / b.threshold - a.statistic / a.threshold).map((c) => c.column)
    assertEq(drifted, ['age', 'city'], 'age and city drift; score and visits do not')
    const rows = await order()
    assertEq(rows.slice(0, 2), [['age', 'true'], ['city', 'true']], 'drifted columns first, by severity')
    assertEq(rows.slice(2).map((r) => r[1]), ['false', 'false'], 'then the rest')
    const age = (await page.locator('[data-testid="drift-row"][data-column="age"] td').allTextContents()).map((t) => t.trim())
    assert(age[2] === 'wasserstein' && /numeric/.test(age[3]), `the test chosen and why: ${age}`)
    assert(age[8].startsWith('±'), `a sketched column's error bound: ${age[8]}`)
    // Per column, both profiles overlaid.
    assertEq(await page.locator('[data-testid="drift-chart-card"]').count(), 4, 'a chart per column')
    assertEq(await page.getAttribute('[data-testid="drift-chart-card"][data-column="age"] [data-testid="histogram"]', 'data-series'), '2', 'reference and current')
    await shot('drift')
    await page.click('[data-testid="cdf-toggle"]')
    await until(async () => new URL(page.url()).searchParams.get('cdf') === '1', 'cdf in the URL')
    await page.waitForSelector('[data-testid="drift-chart-card"][data-column="age"] [data-testid="histogram"][data-mode="cdf"]')
    assertEq(await page.locator('[data-testid="drift-chart-card"][data-column="age"] [data-testid="cdf-line"]').count(), 2, 'two CDF lines')
    assertEq(await page.getAttribute('[data-testid="drift-chart-card"][data-column="city"] [data-testid="histogram"]', 'data-mode'), 'hist', 'categories stay bars')
    await shot('drift-cdf')
    // Another test and a threshold, as `trackbench drift --test psi --threshold share=0.9`.
    await page.selectOption('[data-testid="drift-test"]', 'psi')
    await until(async () => (await page.locator('[data-testid="drift-row"] td:nth-child(3)').allTextContents()).every((t) => t.trim() === 'psi'), 'every column tested with psi')
    await page.fill('[data-testid="drift-threshold"]', 'share=0.9')
    await page.press('[data-testid="drift-threshold"]', 'Enter')
    await until(async () => (await page.getAttribute('[data-testid="drift-verdict"]', 'data-drift')) === 'false', 'no dataset drift at a 0.9 share')
    assertEq(new URL(page.url()).searchParams.get('threshold'), 'share=0.9', 'the threshold in the URL')
    await page.click('[data-testid="drift-swap"]')
    await until(async () => new URL(page.url()).searchParams.get('reference') === `${dataRuns.current}:train`, 'swapped')
    await page.waitForSelector(`[data-testid="drift-side-reference"] >> text=data-current`)
    await page.click('button[aria-label="Switch theme"]')
    await shot('drift-dark')
    await page.click('button[aria-label="Switch theme"]')
  }],

  ['drift view: steps, the compare view link, and errors that name what the run has', async () => {
    const drift = (r, c) => `${server.base}/drift?reference=${encodeURIComponent(r)}&current=${encodeURIComponent(c)}`
    await page.goto(drift(`${dataRuns.reference}:train`, `data-current:serving@1`))
    await page.waitForSelector('[data-testid="drift"][data-ready="true"]')
    assertEq(await page.getAttribute('[data-testid="drift-verdict"]', 'data-drift'), 'false', 'serving at step 1 is like train')
    await page.waitForSelector('[data-testid="drift-side-current"] >> text=serving @ step 1')
    await page.goto(drift(`${dataRuns.reference}:train`, `data-current:serving`))
    await page.waitForSelector('[data-testid="drift-side-current"] >> text=serving @ step 2')
    assertEq(await page.getAttribute('[data-testid="drift-verdict"]', 'data-drift'), 'true', 'the latest step drifted')
    // From the compare view: a link per dataset both runs logged.
    await page.goto(`${server.base}/compare?runs=${dataRuns.reference},${dataRuns.current}`)
    const link = page.locator('[data-testid="compare-datasets"] [data-testid="compare-drift-link"]')
    await link.first().waitFor()
    assertEq(await link.evaluateAll((els) => els.map((e) => e.getAttribute('data-dataset'))), ['train'], 'the one shared name')
    await link.first().click()
    await page.waitForSelector('[data-testid="drift"][data-ready="true"]')
    assertEq(new URL(page.url()).searchParams.get('current'), `${dataRuns.current}:train`, 'current is the other run')
    // Errors: the server's message, with what the run has instead.
    await page.goto(drift('no-colon', `${dataRuns.current}:train`))
    const bad = await page.waitForSelector('[data-testid="drift-error"][data-status="400"]')
    assert((await bad.textContent()).includes('RUN:DATASET'), `a 400 says the form: ${await bad.textContent()}`)
    await page.goto(drift(`${dataRuns.reference}:nope`, `${dataRuns.current}:train`))
    const missing = await page.waitForSelector('[data-testid="drift-error"][data-status="404"]')
    assert((await missing.textContent()).includes('the run has train, held out / v2 ✓'), `a 404 names the datasets: ${await missing.textContent()}`)
    await page.goto(`${server.base}/drift`)
    await page.waitForSelector('[data-testid="drift-empty"]')
  }],

  ['live: a run still logging appears, its points arrive and its status updates without reload', async () => {
    await openRuns('live')
      .catch(() => page.goto(`${server.base}/p/live`))
    const child = spawn(bin, ['--store', store, 'train', '--backend', 'cpu', '--project', 'live', '--dataset', 'spirals', '--samples', '20000', '--epochs', '25', '--name', 'still-logging'], { stdio: 'ignore' })
    try {
      await page.waitForSelector('[data-testid="run-row"] >> text=still-logging', { timeout: 20_000 })
      await page.click('[data-testid="run-row"] [data-testid="run-link"]')
      await page.waitForSelector('[data-testid="run-detail"] [data-testid="run-status"].running, [data-testid="run-detail"] [data-testid="run-status"]:has-text("running")')
      const loss = '[data-testid="run-charts"] [data-testid="chart"][data-metric="train/loss"][data-ready="true"]'
      await page.waitForSelector(loss, { timeout: 15_000 })
      // The furthest step drawn on any chart (a downsampled chart keeps its point count).
      const points = () => page.evaluate(() => Math.max(0, ...(window.__trackbenchCharts ?? []).map((u) => { const x = u.data?.[0] ?? []; return x.length ? x[x.length - 1] : 0 })))
      const before = await points()
      await until(async () => (await points()) > before, `points past step ${before} without reload`, 20_000, 250)
      await page.waitForSelector('[data-testid="run-status"]:has-text("finished")', { timeout: 60_000 })
      await shot('run-live')
    } finally {
      child.kill('SIGKILL')
    }
  }],

  ['launch a command from the UI: queued, finished, its output in the run', async () => {
    await page.goto(`${server.base}/launch`)
    await page.waitForSelector('[data-testid="launch"]')
    await page.click('[data-testid="launch-tab-run"]')
    await page.check('[data-testid="mode-command"]')
    await page.fill('[data-testid="launch-project"]', 'e2e-launch')
    await page.fill('[data-testid="launch-command"]', "sh -c 'echo launched from the browser'")
    await page.click('[data-testid="launch-submit"]')
    await page.waitForSelector('[data-testid="job-row"][data-state="finished"]', { timeout: 30_000 })
    await shot('launch')
    await page.locator('[data-testid="job-row"][data-state="finished"] [data-testid="job-run"]').first().click()
    await page.waitForSelector('[data-testid="run-detail"]')
    const id = await page.getAttribute('[data-testid="run-detail"]', 'data-run-id')
    await page.goto(`${server.base}/runs/${id}?tab=logs`)
    await page.waitForSelector('[data-testid="logs"] >> text=launched from the browser')
  }],

  ['the sweep form previews the jobs the launcher will start', async () => {
    await page.goto(`${server.base}/launch?tab=sweep`)
    await page.waitForSelector('[data-testid="sweep-grid"]')
    const names = page.locator('[data-testid="grid-name"]')
    const values = page.locator('[data-testid="grid-values"]')
    await names.nth(0).fill('lr')
    await values.nth(0).fill('0.1, 0.01')
    if ((await names.count()) < 2) await page.click('[data-testid="grid-add"]')
    await names.nth(1).fill('epochs')
    await values.nth(1).fill('1,2,3')
    const planned = () => page.locator('[data-testid="sweep-planned"]').allTextContents()
    // The server's dry run expands its grid sorted by name, the last axis fastest.
    const all = ['epochs=1 lr=0.1', 'epochs=1 lr=0.01', 'epochs=2 lr=0.1', 'epochs=2 lr=0.01', 'epochs=3 lr=0.1', 'epochs=3 lr=0.01']
    await until(async () => (await planned()).join('|') === all.join('|'), `the six planned jobs in order (got ${await planned()})`)
    // A seeded random sample: the launcher's sampler picks two distinct combinations.
    await page.fill('[data-testid="sweep-random"]', '2')
    await page.fill('[data-testid="sweep-seed"]', '5')
    await until(async () => (await planned()).length === 2, 'two sampled jobs')
    const sample = await planned()
    assert(sample[0] !== sample[1] && sample.every((x) => all.includes(x)), `a sample of the grid: ${sample}`)
    assertEq((await page.textContent('[data-testid="sweep-count"]')).trim(), '2 jobs', 'the job count')
    await page.fill('[data-testid="sweep-random"]', '')
  }],

  ['an A/B of the reference trainer from the UI reaches a verdict', async () => {
    await page.goto(`${server.base}/launch?tab=ab`)
    await page.waitForSelector('[data-testid="ab-arm-a"]')
    await page.fill('[data-testid="launch-project"]', 'e2e-ab')
    await page.selectOption('[data-testid="trainer-dataset"]', 'spirals')
    await page.fill('[data-testid="trainer-samples"]', '300')
    await page.fill('[data-testid="trainer-epochs"]', '2')
    await page.fill('[data-testid="ab-arm-a"]', 'lr=0.001')
    await page.fill('[data-testid="ab-arm-b"]', 'lr=0.05')
    await page.fill('[data-testid="ab-seeds"]', '3')
    await page.fill('[data-testid="ab-metric"]', 'val/acc')
    await page.click('[data-testid="launch-submit"]')
    await page.waitForSelector('[data-testid="ab-result"]', { timeout: 15_000 })
    const verdict = await page.waitForSelector('[data-testid="ab-verdict"][data-outcome]:not([data-outcome=""])', { timeout: 60_000 })
    assert((await verdict.textContent()).trim().length > 10, 'a verdict in words')
    await page.waitForSelector('[data-testid="ab-stats"]')
    await page.waitForSelector('[data-testid="ab-strip"]')
    // Each arm's interval of the mean comes from the server's statistics of the A/B.
    await until(async () => {
      const row = await page.locator('[data-testid="ab-stats"] tr', { hasText: 'CI of the mean' }).textContent()
      return (row.match(/…/g) ?? []).length === 2
    }, 'both arms have a confidence interval')
    await shot('ab-result')
    await page.goto(`${server.base}/ab`)
    await page.waitForSelector('[data-testid="ab-list"] [data-testid="ab-row"]')
  }],

  ['launch on the Slurm cluster from the UI: the task runs, the queue shows its Slurm job', async () => {
    // A second server on the same store and token (so the sign-in cookie serves both), offering
    // the test cluster; the task's output file goes to a temp folder given as the job's folder.
    const slurm = await serve(store, { token, args: ['--slurm'], env: { SLURM_CONF: slurmConf } })
    const work = tempStore('slurm-work')
    try {
      await page.goto(`${slurm.base}/launch`)
      await page.waitForSelector('[data-testid="launch"]')
      await page.click('[data-testid="launch-tab-run"]')
      await page.check('[data-testid="launch-on-slurm"]')
      assertEq(await page.locator('[data-testid="launch-device"]').count(), 0, 'no device picker on Slurm')
      await page.waitForSelector('[data-testid="slurm-partition"] option[value="debug"]', { state: 'attached' })
      await page.selectOption('[data-testid="slurm-partition"]', 'debug')
      await page.fill('[data-testid="slurm-time"]', '00:05:00')
      await page.check('[data-testid="mode-command"]')
      await page.fill('[data-testid="launch-project"]', 'e2e-slurm')
      await page.fill('[data-testid="launch-command"]', "sh -c 'echo hello from a slurm task'")
      await page.fill('[data-testid="launch-dir"]', work)
      await page.click('[data-testid="launch-submit"]')
      await page.waitForSelector('[data-testid="launch-result"] >> text=submitted to Slurm')
      const row = '[data-testid="job-row"][data-backend="slurm"]'
      await page.waitForSelector(`${row}[data-state="finished"]`, { timeout: 120_000 })
      const job = (await page.locator(`${row} [data-testid="job-slurm"]`).first().textContent()).trim()
      assert(/^job \d+_0$/.test(job), `the Slurm job id in the queue: ${job}`)
      await shot('launch-slurm')
      await page.locator(`${row}[data-state="finished"] [data-testid="job-run"]`).first().click()
      await page.waitForSelector('[data-testid="run-detail"]')
      const id = await page.getAttribute('[data-testid="run-detail"]', 'data-run-id')
      await page.goto(`${slurm.base}/runs/${id}?tab=logs`)
      await page.waitForSelector('[data-testid="logs"] >> text=hello from a slurm task')
    } finally {
      await page.goto(server.base)
      await slurm.stop()
      cleanup(work)
    }
  }],

  ["the model registry: the list, a model's versions and two of them side by side", async () => {
    const [a, c] = [demoRuns.find((r) => r.name === 'lr0.01-seed1'), demoRuns.find((r) => r.name === 'lr0.03-seed1')]
    cli(store, ['models', 'register', a.id, 'e2e-model', '--alias', 'champion'])
    cli(store, ['models', 'register', c.id, 'e2e-model', '--alias', 'challenger'])
    await page.goto(`${server.base}/ab`)
    await page.click('[data-testid="nav-models"]')
    const row = page.locator('[data-testid="models-list"] [data-testid="model-row"][data-model="e2e-model"]')
    await row.waitFor()
    assertEq((await row.locator('[data-testid="model-versions"]').textContent()).trim(), '2', 'the version count')
    assertEq(await row.locator('[data-testid="alias-chip"]').allTextContents(), ['challenger → v2', 'champion → v1'], 'alias chips')
    await shot('models')
    await row.locator('[data-testid="model-link"]').click()
    await page.waitForSelector('[data-testid="model-detail"] [data-testid="model-version-row"]')
    assertEq(new URL(page.url()).pathname, '/models/e2e-model', 'the model URL')
    const versions = () => page.locator('[data-testid="model-version-row"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-version')))
    assertEq(await versions(), ['2', '1'], 'both versions, newest first')
    const runLink = page.locator('[data-testid="model-version-row"][data-version="1"] [data-testid="model-version-run"]')
    assertEq((await runLink.textContent()).trim(), a.name, "v1's run")
    assertEq(await runLink.getAttribute('href'), `/runs/${a.id}`, "v1's run link")
    // The latest two side by side (v1 left, v2 right): lr differs, the seed does not.
    const cmp = '[data-testid="model-compare"]'
    const cells = async (key) => (await page.locator(`${cmp} [data-testid="model-compare-row"][data-key="${key}"] td`).allTextContents()).map((t) => t.trim())
    await page.waitForSelector(`${cmp} [data-testid="model-compare-row"][data-kind="param"][data-key="lr"]`, { timeout: 15_000 })
    assertEq(await cells('lr'), ['lr', '0.01', '0.03'], 'the lr row')
    assertEq(await page.getAttribute(`${cmp} [data-key="lr"]`, 'data-differs'), 'true', 'lr highlighted')
    assertEq(await page.getAttribute(`${cmp} [data-key="seed"]`, 'data-differs'), 'false', 'the seed is the same')
    assert(await page.locator(`${cmp} [data-kind="metric"][data-key="val/acc"]`).count() === 1, 'a val/acc row of last values')
    await shot('model-detail')
    // Another pair from the selects (kept in the URL): v2 against itself differs nowhere.
    await page.selectOption('[data-testid="model-compare-a"]', '2')
    await until(async () => new URL(page.url()).searchParams.get('a') === '2', 'the pair in the URL')
    await until(async () => (await page.locator(`${cmp} [data-testid="model-compare-row"][data-differs="true"]`).count()) === 0, 'nothing differs between v2 and v2')
    await page.goto(`${server.base}/models/no-such-model`)
    await page.waitForSelector('[data-testid="model-detail"] >> text=No such model')
  }],

  ["register an A/B's winner from its page; a lost A/B only with force", async () => {
    // Two small A/Bs of the reference trainer (about a second each): a learning rate of 0.3
    // beats 0.0001 on blobs by far, so B wins in one and loses in the other (arms swapped).
    // Launched into the folder (a team store does not launch); on a team store, copied over
    // after (the copy is incremental: only what is new goes).
    const ab = (name, a, b) => {
      const out = JSON.parse(cli(folder, [
        'ab', '--project', 'e2e-promote', '--name', name, '--metric', 'val/acc', '--maximize', '--seeds', '3', '--a', `lr=${a}`, '--b', `lr=${b}`, '--json', '--',
        bin, '--store', folder, 'train', '--backend', 'cpu', '--project', 'e2e-promote', '--dataset', 'blobs', '--samples', '300', '--epochs', '3', '--lr', '{lr}', '--seed', '{seed}',
      ]))
      if (team) cli(folder, ['store', 'copy', '--from', folder, '--to', team, '--to-artifacts', process.env.E2E_TEAM_ARTIFACTS])
      return out
    }
    const won = ab('b-wins', '0.0001', '0.3')
    const lost = ab('b-loses', '0.3', '0.0001')
    const id = (x) => x.id
    assertEq(won.result?.comparison?.outcome, 'b_better', 'the first A/B: B is better')
    assert(lost.result?.comparison?.outcome !== 'b_better', 'the second A/B: B is not better')
    const form = '[data-testid="ab-promote"]'
    const submit = `${form} [data-testid="ab-promote-submit"]`

    await page.goto(`${server.base}/ab/${id(won)}`)
    await page.waitForSelector(`${form}[data-b-won="true"]`)
    assertEq(await page.locator(`${form} [data-testid="ab-promote-force"]`).count(), 0, 'no force needed when B won')
    assertEq(await page.inputValue(`${form} [data-testid="ab-promote-alias"]`), 'champion', 'the default alias')
    assert(await page.isDisabled(submit), 'disabled without a model name')
    await page.fill(`${form} [data-testid="ab-promote-name"]`, 'e2e-winner')
    assert(await page.isEnabled(submit), 'enabled once named')
    await page.click(submit)
    const result = await page.waitForSelector('[data-testid="ab-promote-result"]')
    assert((await result.textContent()).includes('Registered e2e-winner version 1'), `the result: ${await result.textContent()}`)
    await shot('ab-promote')
    await page.click('[data-testid="ab-promote-link"]')
    await page.waitForSelector('[data-testid="model-detail"][data-model="e2e-winner"] [data-testid="model-version-row"][data-version="1"]')
    assertEq(await page.getAttribute('[data-testid="model-version-row"][data-version="1"] [data-testid="model-version-ab"]', 'href'), `/ab/${id(won)}`, 'the version links its A/B')
    assertEq((await page.locator('[data-testid="alias-chip"]').allTextContents()), ['champion → v1'], 'champion points at it')

    await page.goto(`${server.base}/ab/${id(lost)}`)
    await page.waitForSelector(`${form}[data-b-won="false"]`)
    await page.fill(`${form} [data-testid="ab-promote-name"]`, 'e2e-winner')
    await page.fill(`${form} [data-testid="ab-promote-alias"]`, 'forced')
    assert(await page.isDisabled(submit), 'disabled while the verdict is not that B is better')
    const why = await page.getAttribute(submit, 'title')
    assert(/not that B is better/.test(why) && /force/.test(why), `the tooltip says why: ${why}`)
    await page.check(`${form} [data-testid="ab-promote-force"]`)
    assert(await page.isEnabled(submit), 'force enables it')
    await page.click(submit)
    const forced = await page.waitForSelector('[data-testid="ab-promote-result"]')
    const text = await forced.textContent()
    assert(text.includes('Registered e2e-winner version 2') && text.includes('forced'), `the forced result: ${text}`)
    const models = JSON.parse(cli(store, ['models', 'ls', '--json']))
    assertEq(models.find((m) => m.name === 'e2e-winner')?.aliases, { champion: 1, forced: 2 }, 'the registry after both')
  }],

  ['errors are messages, not blank pages', async () => {
    await page.goto(`${server.base}/runs/no-such-run`)
    await until(async () => /not found|no run|unknown/i.test(await page.locator('main').textContent()), 'a not-found message')
    await page.goto(`${server.base}/nowhere/at/all`)
    await page.waitForSelector('text=Not found')
  }],

  ['a lost server shows a banner and the page reconnects', async () => {
    await openRuns('demo')
    const port = server.port
    await server.stop()
    await page.waitForSelector('[data-testid="offline"]', { timeout: 15_000 })
    server = await serve(store, { token, port })
    await page.waitForSelector('[data-testid="offline"]', { state: 'detached', timeout: 20_000 })
    await page.waitForSelector('[data-testid="run-row"]')
  }],

  ['dark theme', async () => {
    await openRuns('demo')
    await page.click('button[aria-label="Switch theme"]')
    assertEq(await page.evaluate(() => document.documentElement.dataset.theme), 'dark', 'theme attribute')
    await shot('runs-dark')
    await page.click('button[aria-label="Switch theme"]')
  }],

  ['bulk tag and delete of the selection, with confirmation', async () => {
    const listed = () => JSON.parse(cli(store, ['runs', 'ls', '--project', 'bulk', '--json']))
    await openRuns('bulk')
    await until(async () => (await rows().count()) === 3, 'three runs in project bulk')
    const tick = (name) => page.locator('[data-testid="run-row"]', { hasText: name }).locator('input[type=checkbox]').check()
    await tick('bulk-a')
    await tick('bulk-b')
    // Tag: the prompt's key=value goes on every selected run, and only on them.
    page.once('dialog', (d) => d.accept('team=vision'))
    await page.locator('button', { hasText: 'Tag…' }).click()
    await until(() => listed().filter((r) => r.tags?.team === 'vision').length === 2, 'two runs tagged team=vision')
    const tagged = listed().filter((r) => r.tags?.team === 'vision').map((r) => r.name).sort()
    assertEq(tagged, ['bulk-a', 'bulk-b'], 'the tagged runs')
    // The tags column shows the user's tag; the launcher's bookkeeping is folded behind a toggle.
    const cell = page.locator('[data-testid="run-row"]', { hasText: 'bulk-a' }).locator('[data-testid="run-tags-cell"]')
    await until(async () => (await cell.locator('[data-testid="tag-chip"]').allTextContents()).includes('team=vision'), 'team=vision in the tags column')
    assertEq(await cell.locator('[data-testid="system-tag-chip"]').count(), 0, 'launch.* tags folded in the table')
    const fold = cell.locator('[data-testid="system-tags-toggle"]')
    assert(/^\+\d+ system tags?$/.test((await fold.textContent()).trim()), `a +N system tags toggle: ${await fold.textContent()}`)
    await fold.click()
    await until(async () => (await cell.locator('[data-testid="system-tag-chip"]').allTextContents()).some((t) => t.startsWith('launch.')), 'launch.* tags shown once unfolded')
    await fold.click()
    // Delete, dismissed: nothing happens.
    page.once('dialog', (d) => d.dismiss())
    await page.click('[data-testid="delete-button"]')
    await page.waitForTimeout(300)
    assertEq(listed().length, 3, 'runs after a dismissed delete')
    assertEq(await rows().count(), 3, 'rows after a dismissed delete')
    // Delete, confirmed: the two selected runs go (restorable), the third stays.
    let asked = ''
    page.once('dialog', (d) => {
      asked = d.message()
      d.accept()
    })
    await page.click('[data-testid="delete-button"]')
    await until(async () => (await rows().count()) === 1, 'one row left after the delete')
    assert(asked.includes('Delete 2 run'), `the confirmation says what it deletes: ${asked}`)
    assertEq(listed().map((r) => r.name), ['bulk-c'], 'runs left in the store')
  }],

  ['no console errors', async () => {
    const errors = page.errors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED|net::ERR|EventSource/.test(e))
    assertEq(errors, [], 'console and page errors')
  }],
]

// What a team store does not do: launching (a team server runs no commands), and a run
// logging into the folder while the test watches (the team server does not read the folder).
const teamSkips = {
  'live: a run still logging appears, its points arrive and its status updates without reload': 'the run logs into a store folder',
  'launch a command from the UI: queued, finished, its output in the run': 'a team server does not launch',
  'the sweep form previews the jobs the launcher will start': 'a team server does not launch',
  'an A/B of the reference trainer from the UI reaches a verdict': 'a team server does not launch',
}
// Launching on Slurm needs a running test cluster: its slurm.conf in TRACKBENCH_TEST_SLURM.
const slurmConf = process.env.TRACKBENCH_TEST_SLURM
const slurmTests = ['launch on the Slurm cluster from the UI: the task runs, the queue shows its Slurm job']
const selected = tests.filter(([name]) => {
  if (team && teamSkips[name]) {
    console.log(`*** SKIPPED: ${name} (team store: ${teamSkips[name]}) ***`)
    return false
  }
  if (!slurmConf && slurmTests.includes(name)) {
    console.log(`*** SKIPPED: ${name} (TRACKBENCH_TEST_SLURM is not set: no test cluster) ***`)
    return false
  }
  return true
})
if (team) console.log(`team store: ${team.replace(/:[^:@/]*@/, ':***@')}`)

// Users and permissions (a store and server of their own, on a store folder in both modes).
const users = usersTests(b)
let failures = []
try {
  failures = await runTests([...selected, ...users.tests], ctx)
} finally {
  await b.close()
  await server.stop()
  await users.teardown()
  cleanup(folder)
}
console.log(`screenshots: ${shots}`)
process.exit(failures.length ? 1 : 0)
