// The dashboard in a real browser: Debian's chromium, headless, driven by
// playwright-core. Run by tests/system/test_dashboard_in_browser.py against a
// live cluster, which it describes in the environment:
//
//   DROVER_URL         the master's API, e.g. http://127.0.0.1:7401
//   DROVER_TOKEN       the admin token
//   DROVER_NODE        a ready worker's name
//   DROVER_APP         an app on it that burns CPU and prints "tick N" lines
//   DROVER_OTHER_APP   another live app (the filter must hide it)
//   DROVER_OUT         a directory for the screenshots
//
// Each step is printed to stderr as it starts; the last line on stdout is a
// JSON summary. Exit status 0: every check held; 1: one failed (the message
// says which, and DROVER_OUT/failure.png shows the page at that moment).
// Waits are conditions with generous deadlines, never fixed delays.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const env = (k) => {
	const v = process.env[k];
	if (!v)
		throw new Error(`${k} is not set`);
	return v;
};
const URL_ = env('DROVER_URL').replace(/\/$/, '');
const TOKEN = env('DROVER_TOKEN');
const NODE = env('DROVER_NODE');
const APP = env('DROVER_APP');
const OTHER = env('DROVER_OTHER_APP');
const OUT = env('DROVER_OUT');
const LONG = 90_000; // the sanitizer build on a shared 2-core machine is slow

mkdirSync(OUT, { recursive: true });

const summary = { checks: [] };
const step = (text) => process.stderr.write(`step: ${text}\n`);
const check = (ok, text) => {
	if (!ok)
		throw new Error(`check failed: ${text}`);
	summary.checks.push(text);
};

const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	headless: true,
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update',
		'--disable-sync'],
});

// Anything the page reports that is not an expected failed request: script
// errors, CSP refusals (which would mean the page needs remote or inline
// content), failed assertions.
const problems = [];
function watch(page) {
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
	page.on('console', (m) => {
		if (m.type() !== 'error')
			return;
		const t = m.text();
		// A fetch that got 401 or 404 is logged by chromium; the page
		// handles those itself (login again, "no samples").
		if (/^Failed to load resource: the server responded with a status of (401|404)/.test(t))
			return;
		problems.push(`console error: ${t}`);
	});
	page.on('requestfailed', (r) => {
		// Leaving a view or reloading aborts what was in flight (the
		// log stream always is): that is no failure.
		const why = r.failure()?.errorText;
		if (why !== 'net::ERR_ABORTED')
			problems.push(`request failed: ${r.url()} ${why}`);
	});
}

let page;
try {
	const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
	page = await context.newPage();
	watch(page);
	const posts = [];
	page.on('request', (r) => {
		if (r.method() === 'POST')
			posts.push(new URL(r.url()).pathname);
		if (!r.url().startsWith(URL_ + '/') && !r.url().startsWith('data:'))
			problems.push(`request to another origin: ${r.url()}`);
	});

	step('open /ui/: the login form, and nothing else');
	await page.goto(`${URL_}/ui/`);
	await page.locator('#login-view').waitFor({ state: 'visible' });
	check(await page.locator('#cluster-view').isHidden(), 'cluster view hidden before login');

	step('a wrong token is refused');
	await page.fill('#token', 'not-the-token');
	await page.click('#login-submit');
	await page.locator('#login-error').filter({ hasText: 'refused' }).waitFor();
	check(await page.locator('#login-view').isVisible(), 'still at the login form after a wrong token');

	step('log in with the admin token');
	await page.fill('#token', TOKEN);
	await page.click('#login-submit');
	await page.locator('#cluster-view').waitFor({ state: 'visible' });
	check(await page.evaluate(() => sessionStorage.getItem('drover.token')) === TOKEN,
		'token kept in sessionStorage');
	check(await page.evaluate(() => localStorage.length) === 0, 'nothing in localStorage');

	step(`nodes: ${NODE} is listed ready with its load`);
	const nodeRow = page.locator('#nodes-table tbody tr', { hasText: NODE });
	await nodeRow.locator('td.st-ready').waitFor({ timeout: LONG });
	const cells = await nodeRow.locator('td').allTextContents();
	check(cells[0] === NODE && cells[2] === 'ready', `node row ${JSON.stringify(cells)}`);
	check(/^\d+\.\d$/.test(cells[3]) && /^\d+\.\d$/.test(cells[4]), `CPU % and memory % shown: ${cells[3]}, ${cells[4]}`);
	summary.node_row = cells;

	step('apps: both apps listed; the filter keeps only the burner');
	const appLink = page.locator(`#apps-table tr:not([hidden]) a[href="#/apps/${encodeURIComponent(APP)}"]`);
	await appLink.waitFor({ timeout: LONG });
	await page.locator(`#apps-table tr:not([hidden]) a[href="#/apps/${encodeURIComponent(OTHER)}"]`).waitFor();
	await page.fill('#apps-filter', APP);
	await page.waitForFunction(() =>
		[...document.querySelectorAll('#apps-table tbody tr')].filter((r) => !r.hidden).length === 1);
	const appCells = await page.locator('#apps-table tbody tr:not([hidden])').first().locator('td').allTextContents();
	check(appCells[0] === APP && appCells[1] === NODE && /^\d+$/.test(appCells[3]),
		`app row ${JSON.stringify(appCells)}`);
	summary.app_row = appCells;

	step('open the app page');
	await appLink.click();
	await page.waitForURL(`**/ui/#/apps/${encodeURIComponent(APP)}`);
	await page.locator('#app-view').waitFor({ state: 'visible' });
	await page.locator('#app-title', { hasText: APP }).waitFor();
	await page.waitForFunction(() => ['running', 'sleeping'].includes(
		document.getElementById('app-state').textContent), null, { timeout: LONG });

	step('the CPU and memory charts draw points (one per sample)');
	const vertices = (id) => page.evaluate((id) => {
		const p = document.querySelector(`#${id} polyline.series`);
		return p ? p.getAttribute('points').trim().split(/\s+/).length : 0;
	}, id);
	await page.waitForFunction(() => {
		const n = (id) => {
			const p = document.querySelector(`#${id} polyline.series`);
			return p ? p.getAttribute('points').trim().split(/\s+/).length : 0;
		};
		return n('chart-cpu') >= 2 && n('chart-mem') >= 2;
	}, null, { timeout: LONG, polling: 250 });
	summary.cpu_points = await vertices('chart-cpu');
	summary.mem_points = await vertices('chart-mem');
	check(await page.locator('#chart-cpu text.ylabel').count() === 5, 'CPU chart has its y labels');
	check(await page.locator('#chart-cpu text.xlabel').count() >= 1, 'CPU chart has time labels');
	summary.cpu_latest = await page.textContent('#cpu-latest');
	summary.mem_latest = await page.textContent('#mem-latest');
	check(/%$/.test(summary.cpu_latest) && /iB$/.test(summary.mem_latest),
		`latest values shown: ${summary.cpu_latest}, ${summary.mem_latest}`);

	step('the log tail shows lines, and new ones keep arriving');
	const ticks = () => page.evaluate(() =>
		(document.getElementById('app-log').textContent.match(/^tick \d+$/mg) || []).length);
	await page.waitForFunction(() => /^tick \d+$/m.test(
		document.getElementById('app-log').textContent), null, { timeout: LONG });
	const before = await ticks();
	await page.waitForFunction((n) =>
		(document.getElementById('app-log').textContent.match(/^tick \d+$/mg) || []).length > n,
	before, { timeout: LONG });
	summary.log_ticks = await ticks();
	check(await page.textContent('#log-status') === 'following', 'log status says following');

	step('Kill asks first; Cancel sends nothing');
	await page.click('#app-kill');
	await page.locator('#confirm').waitFor({ state: 'visible' });
	check((await page.textContent('#confirm-text')).includes('SIGKILL'), 'kill confirmation names SIGKILL');
	await page.click('#confirm-cancel');
	await page.locator('#confirm').waitFor({ state: 'hidden' });
	check(!posts.some((p) => p.endsWith('/signal')), 'no signal request after Cancel');
	check(await page.textContent('#app-state') !== 'dead', 'app still alive after Cancel');

	step('Stop asks first; OK stops it, and it turns dead with its cause');
	await page.click('#app-stop');
	await page.locator('#confirm').waitFor({ state: 'visible' });
	check((await page.textContent('#confirm-text')).includes(APP), 'stop confirmation names the app');
	await page.click('#confirm-ok');
	await page.locator('#confirm').waitFor({ state: 'hidden' });
	await page.waitForFunction(() => document.getElementById('app-state').textContent === 'dead',
		null, { timeout: LONG });
	const cause = page.locator('#app-details dd[data-field="cause"]');
	await page.waitForFunction(() =>
		document.querySelector('#app-details dd[data-field="cause"]').textContent !== '');
	summary.cause = await cause.textContent();
	summary.message = await page.textContent('#app-message');
	check(posts.filter((p) => p.endsWith('/stop')).length === 1, 'exactly one stop request');
	check(await page.locator('#app-stop').isDisabled() && await page.locator('#app-kill').isDisabled(),
		'buttons disabled once dead');
	// Let the log stream notice the end, so the screenshot is the final page.
	await page.waitForFunction(() =>
		document.getElementById('log-status').textContent !== 'following', null, { timeout: LONG })
		.catch(() => {});

	summary.screenshot = join(OUT, 'app-page.png');
	await page.screenshot({ path: summary.screenshot, fullPage: true });

	step('back to the cluster: the app is listed dead with its cause');
	await page.click('.crumbs a');
	await page.locator('#cluster-view').waitFor({ state: 'visible' });
	await page.fill('#apps-filter', APP);
	const deadRow = page.locator('#apps-table tbody tr:not([hidden])', { hasText: APP });
	await deadRow.locator('td.st-dead').waitFor({ timeout: LONG });
	check((await deadRow.locator('td').nth(5).textContent()) === summary.cause,
		'the apps table shows the same cause');
	summary.screenshot_cluster = join(OUT, 'cluster.png');
	await page.screenshot({ path: summary.screenshot_cluster, fullPage: true });

	step('a token the master refuses sends the page back to the login form');
	await page.evaluate(() => sessionStorage.setItem('drover.token', 'revoked'));
	await page.reload();
	await page.locator('#login-view').waitFor({ state: 'visible' });
	await page.locator('#login-error').filter({ hasText: 'refused' }).waitFor();
	check(await page.evaluate(() => sessionStorage.getItem('drover.token')) === null,
		'the refused token is forgotten');

	step('1,000 apps (answers made up in the browser): one page of rows, paging, filter, sort, escaping');
	const big = await context.newPage();
	watch(big);
	const fake = [];
	for (let i = 0; i < 1000; i++) {
		fake.push({
			id: `app-${String(i).padStart(4, '0')}`, node: `w${i % 7}`,
			name: i === 500 ? '<img src=x onerror="window.__pwned=1">' : `svc${i % 13}`,
			path: '/bin/true', args: [], pid: 100000 - i,
			state: i % 10 === 0 ? 'dead' : 'running',
			cause: i % 10 === 0 ? 'exited 3' : null, exit_code: i % 10 === 0 ? 3 : null,
			signal: null, restarts: i % 4, cpu_user_ms: i * 37, cpu_sys_ms: i,
			max_rss_kb: 1000 + i, started_at: Date.now() - i * 1000, ended_at: null,
		});
	}
	let served = 0;
	await big.route(`${URL_}/v1/apps?all=1`, (route) => {
		served++;
		return route.fulfill({ status: 200, contentType: 'application/json',
			body: JSON.stringify(fake) });
	});
	await big.goto(`${URL_}/ui/`);
	await big.fill('#token', TOKEN);
	await big.click('#login-submit');
	await big.locator('#apps-range', { hasText: 'of 1000' }).waitFor({ timeout: LONG });
	const shownRows = () => big.evaluate(() =>
		[...document.querySelectorAll('#apps-table tbody tr')].filter((r) => !r.hidden).length);
	check(await shownRows() === 100, 'one page of 100 rows for 1,000 apps');
	check(await big.evaluate(() => document.querySelectorAll('#apps-table tbody tr').length) === 100,
		'no more than 100 rows in the DOM');
	check((await big.textContent('#apps-range')) === '1\u2013100 of 1000', 'range 1-100 of 1000');
	// Rows are reused across refreshes, not rebuilt.
	await big.evaluate(() => { document.querySelector('#apps-table tbody tr').__mark = 1; });
	const servedBefore = served;
	const deadline = Date.now() + LONG;
	while (served < servedBefore + 2 && Date.now() < deadline)
		await big.waitForTimeout(200);
	check(served >= servedBefore + 2, 'the apps list refreshed twice more');
	check(await big.evaluate(() => document.querySelector('#apps-table tbody tr').__mark === 1),
		'the same row elements after refreshes');
	await big.click('#apps-next');
	check((await big.textContent('#apps-range')) === '101\u2013200 of 1000', 'next page');
	await big.click('#apps-table th[data-sort="pid"]');
	check((await big.textContent('#apps-range')) === '1\u2013100 of 1000', 'sorting goes back to the first page');
	const firstPid = async () => big.locator('#apps-table tbody tr').first().locator('td').nth(3).textContent();
	check(await firstPid() === String(100000 - 999), `sorted by PID ascending: ${await firstPid()}`);
	await big.click('#apps-table th[data-sort="pid"]');
	check(await firstPid() === String(100000), 'sorted by PID descending');
	summary.screenshot_many = join(OUT, 'thousand-apps.png');
	await big.screenshot({ path: summary.screenshot_many });
	await big.fill('#apps-filter', 'svc3 dead');
	const n = await shownRows();
	const want = fake.filter((a) => a.name === 'svc3' && a.state === 'dead').length;
	check(n === want, `filter "svc3 dead": ${n} rows, want ${want}`);
	await big.fill('#apps-filter', 'onerror');
	await big.waitForFunction(() =>
		[...document.querySelectorAll('#apps-table tbody tr')].filter((r) => !r.hidden).length === 1);
	check(await big.locator('#apps-table tbody tr:not([hidden]) td').nth(2).textContent() ===
		'<img src=x onerror="window.__pwned=1">', 'markup in a name is shown as text');
	check(await big.evaluate(() => document.querySelectorAll('#apps-table img').length === 0 &&
		window.__pwned === undefined), 'markup in a name is never parsed');
	summary.big_apps = 'ok';

	check(problems.length === 0, `no script errors, CSP refusals or failed requests: ${problems.join('; ')}`);
	summary.ok = true;
	console.log(JSON.stringify(summary));
} catch (e) {
	summary.ok = false;
	summary.error = String(e && e.stack || e);
	summary.problems = problems;
	if (page) {
		summary.screenshot = join(OUT, 'failure.png');
		await page.screenshot({ path: summary.screenshot, fullPage: true }).catch(() => {});
	}
	console.log(JSON.stringify(summary));
	process.exitCode = 1;
} finally {
	await browser.close();
}
