/*
 * drover's dashboard: plain JavaScript, no library, no build step.
 *
 * Everything on the page comes from the master's REST API, called with the
 * admin token the user typed in (kept in sessionStorage, so it lives as long
 * as the tab). A 401 from any call forgets the token and asks again.
 *
 * Views (hash routes): #/ the cluster (nodes and apps), #/apps/ID one app
 * (details, CPU and memory charts, the log following live, stop and kill).
 *
 * Data only ever reaches the DOM through textContent and attributes, never
 * as markup. The apps table keeps a fixed pool of rows (one page) and
 * rewrites only the cells whose text changed, so refreshing 1,000 apps every
 * few seconds touches a few dozen nodes.
 */
'use strict';

(() => {
	const TOKEN_KEY = 'drover.token';
	const REFRESH_MS = 3000;
	const PAGE_SIZE = 100;
	const LOG_MAX_CHARS = 256 * 1024;
	const LOG_RETRY_MS = 3000;
	/*
	 * How far back the charts go: an hour, or a quarter of an hour for an
	 * app younger than that, for which the server's default step is then
	 * finer (it keeps an answer near 1,000 points).
	 */
	const USAGE_SPANS = [['15m', 15 * 60000], ['1h', 3600000]];
	const SVG = 'http://www.w3.org/2000/svg';

	const $ = (id) => document.getElementById(id);

	let token = sessionStorage.getItem(TOKEN_KEY);
	/* Bumped at each route change: work of an older view is dropped. */
	let generation = 0;
	let refreshTimer = null;
	let logAbort = null;

	class AuthError extends Error {}

	/* ---- small helpers ------------------------------------------------ */

	function setText(node, text) {
		text = text == null ? '' : String(text);
		if (node.textContent !== text)
			node.textContent = text;
	}

	function el(tag, cls, text) {
		const e = document.createElement(tag);
		if (cls)
			e.className = cls;
		if (text != null)
			e.textContent = text;
		return e;
	}

	function svgEl(tag, attrs) {
		const e = document.createElementNS(SVG, tag);
		for (const k in attrs)
			e.setAttribute(k, attrs[k]);
		return e;
	}

	function sleep(ms) {
		return new Promise((resolve) => setTimeout(resolve, ms));
	}

	const pad = (n) => String(n).padStart(2, '0');

	function fmtClock(ms) {
		const d = new Date(ms);
		return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' +
		    pad(d.getSeconds());
	}

	function fmtTime(ms) {
		if (!ms)
			return '';
		const d = new Date(ms);
		return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' +
		    pad(d.getDate()) + ' ' + fmtClock(ms);
	}

	function fmtAge(ms) {
		if (ms == null || ms < 0)
			return '';
		if (ms < 10000)
			return (ms / 1000).toFixed(1) + 's';
		if (ms < 120000)
			return Math.round(ms / 1000) + 's';
		if (ms < 7200000)
			return Math.round(ms / 60000) + 'm';
		if (ms < 172800000)
			return Math.round(ms / 3600000) + 'h';
		return Math.round(ms / 86400000) + 'd';
	}

	/* CPU time: "0.42s", "12.3s", "4m05s", "2h03m". */
	function fmtCpu(ms) {
		if (ms == null)
			return '';
		if (ms < 10000)
			return (ms / 1000).toFixed(2) + 's';
		if (ms < 60000)
			return (ms / 1000).toFixed(1) + 's';
		const s = Math.floor(ms / 1000);
		if (s < 3600)
			return Math.floor(s / 60) + 'm' + pad(s % 60) + 's';
		return Math.floor(s / 3600) + 'h' + pad(Math.floor(s / 60) % 60) + 'm';
	}

	function fmtKb(kb) {
		if (kb == null)
			return '';
		if (kb < 1024)
			return kb + ' KiB';
		if (kb < 1024 * 1024)
			return (kb / 1024).toFixed(1) + ' MiB';
		return (kb / 1048576).toFixed(2) + ' GiB';
	}

	function fmtPct(v) {
		return typeof v === 'number' ? v.toFixed(1) : '';
	}

	/* A state or kind from the API as a CSS class: letters only. */
	function cssWord(s) {
		return String(s || '').toLowerCase().replace(/[^a-z]/g, '');
	}

	function status(text, isError) {
		const s = $('status');
		setText(s, text);
		s.classList.toggle('error', !!isError);
	}

	/* ---- the REST API ------------------------------------------------- */

	async function api(path, opts = {}) {
		const headers = { Authorization: 'Bearer ' + token };
		let body;
		if (opts.body !== undefined) {
			headers['Content-Type'] = 'application/json';
			body = JSON.stringify(opts.body);
		}
		const r = await fetch(path, {
			method: opts.method || 'GET', headers, body,
			cache: 'no-store', signal: opts.signal,
		});
		if (r.status === 401) {
			needLogin('The master refused the token. Enter it again.');
			throw new AuthError('token refused');
		}
		const text = await r.text();
		let data = null;
		try {
			data = text ? JSON.parse(text) : null;
		} catch (e) {
			data = null;
		}
		if (!r.ok) {
			const err = new Error(data && typeof data.error === 'string' ?
			    data.error : 'HTTP ' + r.status);
			err.status = r.status;
			throw err;
		}
		return data;
	}

	/* ---- login -------------------------------------------------------- */

	function stopWork() {
		generation++;
		clearTimeout(refreshTimer);
		refreshTimer = null;
		if (logAbort) {
			logAbort.abort();
			logAbort = null;
		}
	}

	function showOnly(id) {
		for (const v of ['login-view', 'cluster-view', 'app-view'])
			$(v).hidden = v !== id;
	}

	function needLogin(message) {
		stopWork();
		token = null;
		sessionStorage.removeItem(TOKEN_KEY);
		showOnly('login-view');
		$('logout').hidden = true;
		status('');
		const e = $('login-error');
		e.hidden = !message;
		setText(e, message || '');
		$('token').value = '';
		$('token').focus();
	}

	async function onLogin(ev) {
		ev.preventDefault();
		const typed = $('token').value.trim();
		if (!typed)
			return;
		$('login-submit').disabled = true;
		try {
			const r = await fetch('/v1/nodes', {
				headers: { Authorization: 'Bearer ' + typed },
				cache: 'no-store',
			});
			if (r.status === 401) {
				$('login-error').hidden = false;
				setText($('login-error'), 'That token was refused.');
				return;
			}
			if (!r.ok)
				throw new Error('HTTP ' + r.status);
			token = typed;
			sessionStorage.setItem(TOKEN_KEY, token);
			$('token').value = '';
			$('login-error').hidden = true;
			route();
		} catch (e) {
			$('login-error').hidden = false;
			setText($('login-error'), 'Cannot reach the master: ' +
			    e.message);
		} finally {
			$('login-submit').disabled = false;
		}
	}

	/* ---- confirmation ------------------------------------------------- */

	/* Our own modal (not window.confirm): resolves true on OK. */
	function confirmAction(text, okLabel) {
		const d = $('confirm');
		setText($('confirm-text'), text);
		setText($('confirm-ok'), okLabel);
		return new Promise((resolve) => {
			const done = (answer) => {
				$('confirm-ok').onclick = null;
				$('confirm-cancel').onclick = null;
				d.onclose = null;
				if (d.open)
					d.close();
				resolve(answer);
			};
			$('confirm-ok').onclick = () => done(true);
			$('confirm-cancel').onclick = () => done(false);
			d.onclose = () => done(false); /* Escape */
			d.showModal();
			$('confirm-cancel').focus();
		});
	}

	/* ---- routing and refresh ------------------------------------------ */

	function parseRoute() {
		const h = location.hash.replace(/^#/, '');
		const m = /^\/apps\/([^/]+)$/.exec(h);
		if (m) {
			try {
				return { view: 'app', id: decodeURIComponent(m[1]) };
			} catch (e) {
				return { view: 'cluster' };
			}
		}
		return { view: 'cluster' };
	}

	function route() {
		stopWork();
		if (!token) {
			needLogin('');
			return;
		}
		$('logout').hidden = false;
		const r = parseRoute();
		const gen = generation;
		if (r.view === 'app') {
			showOnly('app-view');
			enterApp(r.id, gen);
			loop(() => refreshApp(r.id, gen), gen);
		} else {
			showOnly('cluster-view');
			loop(() => refreshCluster(gen), gen);
		}
	}

	/*
	 * Run refresh now and then every REFRESH_MS after each one ends (never
	 * two at once), while the view is the same; paused while the tab is
	 * hidden.
	 */
	async function loop(refresh, gen) {
		if (gen !== generation)
			return;
		if (!document.hidden) {
			try {
				await refresh();
				if (gen === generation)
					status('updated ' + fmtClock(Date.now()));
			} catch (e) {
				if (e instanceof AuthError || gen !== generation)
					return;
				status('cannot reach the master: ' + e.message, true);
			}
		}
		if (gen === generation)
			refreshTimer = setTimeout(() => loop(refresh, gen), REFRESH_MS);
	}

	/* ---- cluster view: nodes ------------------------------------------ */

	const nodeRows = new Map(); /* name -> row */

	function renderNodes(nodes) {
		const tbody = $('nodes-table').tBodies[0];
		const seen = new Set();
		let prev = null;
		for (const n of nodes) {
			let row = nodeRows.get(n.name);
			if (!row) {
				row = el('tr');
				for (let i = 0; i < 7; i++)
					row.append(el('td', i >= 3 ? 'num' : ''));
				nodeRows.set(n.name, row);
			}
			seen.add(n.name);
			const c = row.cells;
			setText(c[0], n.name);
			setText(c[1], n.address || '');
			setText(c[2], n.state);
			setText(c[3], fmtPct(n.cpu_pct));
			setText(c[4], fmtPct(n.mem_pct));
			setText(c[5], n.apps);
			setText(c[6], fmtAge(n.last_seen_ms) + ' ago');
			c[2].className = 'state st-' + cssWord(n.state);
			/* Keep the API's order, moving only rows that are out of place. */
			const want = prev ? prev.nextSibling : tbody.firstChild;
			if (want !== row)
				tbody.insertBefore(row, want);
			prev = row;
		}
		for (const [name, row] of nodeRows) {
			if (!seen.has(name)) {
				row.remove();
				nodeRows.delete(name);
			}
		}
		$('nodes-empty').hidden = nodes.length > 0;
		const ready = nodes.filter((n) => n.state === 'ready').length;
		setText($('nodes-count'), nodes.length ? ready + ' of ' +
		    nodes.length + ' ready' : '');
	}

	/* ---- cluster view: apps ------------------------------------------- */

	const appsView = {
		all: [],           /* rows built from the last GET /v1/apps */
		sortKey: 'started',
		sortDir: -1,       /* newest first */
		page: 0,
		pool: [],          /* PAGE_SIZE reusable <tr> */
	};
	const collator = new Intl.Collator(undefined, { numeric: true });

	/* One pass over the API's list: what the table and the filter need. */
	function buildAppRows(list) {
		const rows = new Array(list.length);
		for (let i = 0; i < list.length; i++) {
			const a = list[i];
			const r = {
				id: String(a.id), node: String(a.node || ''),
				name: String(a.name || ''), pid: a.pid || 0,
				state: String(a.state || ''),
				cause: String(a.cause || ''),
				restarts: a.restarts || 0,
				cpu: (a.cpu_user_ms || 0) + (a.cpu_sys_ms || 0),
				rss: a.max_rss_kb || 0,
				started: a.started_at || 0,
				alive: a.state !== 'dead',
			};
			r.hay = [r.id, r.node, r.name, r.state, r.cause].join(' ')
			    .toLowerCase();
			rows[i] = r;
		}
		return rows;
	}

	function visibleApps() {
		const terms = $('apps-filter').value.toLowerCase().split(/\s+/)
		    .filter(Boolean);
		const liveOnly = $('apps-live').checked;
		const key = appsView.sortKey, dir = appsView.sortDir;
		const out = appsView.all.filter((r) => (!liveOnly || r.alive) &&
		    terms.every((t) => r.hay.includes(t)));
		out.sort((x, y) => {
			const a = x[key], b = y[key];
			const c = typeof a === 'number' ? a - b :
			    collator.compare(a, b);
			return (c || collator.compare(x.id, y.id)) * dir;
		});
		return out;
	}

	function appRow() {
		const row = el('tr');
		const link = el('a');
		const first = el('td');
		first.append(link);
		row.append(first);
		for (let i = 1; i < 10; i++)
			row.append(el('td', [3, 6, 7, 8, 9].includes(i) ? 'num' : ''));
		return row;
	}

	function renderApps() {
		const list = visibleApps();
		const pages = Math.max(1, Math.ceil(list.length / PAGE_SIZE));
		appsView.page = Math.min(appsView.page, pages - 1);
		const start = appsView.page * PAGE_SIZE;
		const shown = list.slice(start, start + PAGE_SIZE);
		const tbody = $('apps-table').tBodies[0];
		const now = Date.now();

		while (appsView.pool.length < shown.length) {
			const row = appRow();
			appsView.pool.push(row);
			tbody.append(row);
		}
		appsView.pool.forEach((row, i) => {
			const r = shown[i];
			row.hidden = !r;
			if (!r)
				return;
			const c = row.cells, link = c[0].firstChild;
			setText(link, r.id);
			const href = '#/apps/' + encodeURIComponent(r.id);
			if (link.getAttribute('href') !== href)
				link.setAttribute('href', href);
			setText(c[1], r.node);
			setText(c[2], r.name);
			setText(c[3], r.pid || '');
			setText(c[4], r.state);
			setText(c[5], r.cause);
			setText(c[6], r.restarts);
			setText(c[7], fmtCpu(r.cpu));
			setText(c[8], fmtKb(r.rss));
			setText(c[9], r.started ? fmtAge(now - r.started) + ' ago' : '');
			const cls = 'state st-' + cssWord(r.state);
			if (c[4].className !== cls)
				c[4].className = cls;
		});
		$('apps-empty').hidden = list.length > 0;
		setText($('apps-range'), list.length ? (start + 1) + '\u2013' +
		    (start + shown.length) + ' of ' + list.length : '0 of 0');
		$('apps-prev').disabled = appsView.page === 0;
		$('apps-next').disabled = appsView.page >= pages - 1;
		const live = appsView.all.filter((r) => r.alive).length;
		setText($('apps-count'), live + ' live, ' + appsView.all.length +
		    ' listed');
		for (const th of $('apps-table').tHead.rows[0].cells) {
			const k = th.dataset.sort;
			th.setAttribute('aria-sort', k === appsView.sortKey ?
			    (appsView.sortDir > 0 ? 'ascending' : 'descending') :
			    'none');
		}
	}

	async function refreshCluster(gen) {
		const [nodes, apps] = await Promise.all([
			api('/v1/nodes'), api('/v1/apps?all=1')]);
		if (gen !== generation)
			return;
		renderNodes(Array.isArray(nodes) ? nodes : []);
		appsView.all = buildAppRows(Array.isArray(apps) ? apps : []);
		renderApps();
	}

	function setupAppsControls() {
		$('apps-filter').addEventListener('input', () => {
			appsView.page = 0;
			renderApps();
		});
		$('apps-live').addEventListener('change', () => {
			appsView.page = 0;
			renderApps();
		});
		$('apps-prev').addEventListener('click', () => {
			appsView.page = Math.max(0, appsView.page - 1);
			renderApps();
		});
		$('apps-next').addEventListener('click', () => {
			appsView.page++;
			renderApps();
		});
		for (const th of $('apps-table').tHead.rows[0].cells) {
			th.tabIndex = 0;
			const sort = () => {
				const k = th.dataset.sort;
				if (appsView.sortKey === k)
					appsView.sortDir = -appsView.sortDir;
				else {
					appsView.sortKey = k;
					appsView.sortDir = 1;
				}
				appsView.page = 0;
				renderApps();
			};
			th.addEventListener('click', sort);
			th.addEventListener('keydown', (e) => {
				if (e.key === 'Enter' || e.key === ' ') {
					e.preventDefault();
					sort();
				}
			});
		}
	}

	/* ---- app view: details -------------------------------------------- */

	const DETAILS = [
		['Node', (a) => a.node],
		['Name', (a) => a.name],
		['Path', (a) => a.path],
		['Arguments', (a) => Array.isArray(a.args) ?
		    a.args.map((s) => JSON.stringify(String(s))).join(' ') : ''],
		['PID', (a) => a.pid || ''],
		['State', (a) => a.state],
		['Cause', (a) => a.cause || ''],
		['Exit code', (a) => a.exit_code == null ? '' : a.exit_code],
		['Signal', (a) => a.signal || ''],
		['Restarts', (a) => a.restarts],
		['Health', (a) => a.health || ''],
		['CPU time', (a) => fmtCpu((a.cpu_user_ms || 0) +
		    (a.cpu_sys_ms || 0)) + ' (user ' + fmtCpu(a.cpu_user_ms || 0) +
		    ', system ' + fmtCpu(a.cpu_sys_ms || 0) + ')'],
		['Max RSS', (a) => fmtKb(a.max_rss_kb)],
		['Started', (a) => fmtTime(a.started_at)],
		['Ended', (a) => fmtTime(a.ended_at)],
	];

	let currentApp = null;
	let busy = false; /* a stop or kill is under way */

	function enterApp(id, gen) {
		currentApp = null;
		setText($('app-crumb'), id);
		setText($('app-title'), id);
		setText($('app-state'), '');
		$('app-message').hidden = true;
		const dl = $('app-details');
		dl.replaceChildren();
		for (const [label] of DETAILS) {
			const dt = el('dt', '', label), dd = el('dd');
			dd.dataset.field = label.toLowerCase().replace(/ /g, '-');
			dl.append(dt, dd);
		}
		$('app-stop').disabled = true;
		$('app-kill').disabled = true;
		drawChart($('chart-cpu'), [], {});
		drawChart($('chart-mem'), [], {});
		setText($('cpu-latest'), '');
		setText($('mem-latest'), '');
		setText($('usage-note'), '');
		logReset();
		followLog(id, gen);
		document.title = id + ' \u2014 drover';
	}

	function renderApp(a) {
		currentApp = a;
		const dds = $('app-details').getElementsByTagName('dd');
		DETAILS.forEach(([, get], i) => setText(dds[i], get(a)));
		setText($('app-state'), a.state);
		$('app-state').className = 'state st-' + cssWord(a.state);
		const dead = a.state === 'dead';
		if (!busy) {
			$('app-stop').disabled = dead;
			$('app-kill').disabled = dead;
		}
	}

	function message(text, isError) {
		const m = $('app-message');
		m.hidden = !text;
		setText(m, text || '');
		m.classList.toggle('error', !!isError);
	}

	async function refreshApp(id, gen) {
		const path = '/v1/apps/' + encodeURIComponent(id);
		let a;
		try {
			a = await api(path);
		} catch (e) {
			if (e.status === 404 && gen === generation) {
				message('No such app: ' + id, true);
				return;
			}
			throw e;
		}
		if (gen !== generation)
			return;
		renderApp(a);
		await refreshUsage(path, gen);
	}

	/* ---- app view: stop and kill -------------------------------------- */

	async function act(what) {
		const a = currentApp;
		if (!a || busy)
			return;
		const gen = generation;
		const stop = what === 'stop';
		const ok = await confirmAction(stop ?
		    'Stop ' + a.id + ' on ' + a.node + '? It gets SIGINT, and ' +
		    'SIGKILL if it is still running after 10 seconds.' :
		    'Kill ' + a.id + ' on ' + a.node + ' with SIGKILL now?',
		    stop ? 'Stop' : 'Kill');
		if (!ok || gen !== generation)
			return;
		busy = true;
		$('app-stop').disabled = true;
		$('app-kill').disabled = true;
		message(stop ? 'Stopping ' + a.id + '\u2026' : 'Killing ' + a.id +
		    '\u2026');
		const path = '/v1/apps/' + encodeURIComponent(a.id);
		try {
			const r = stop ?
			    await api(path + '/stop', { method: 'POST',
				body: { timeout_s: 10 } }) :
			    await api(path + '/signal', { method: 'POST',
				body: { signal: 'SIGKILL' } });
			if (gen !== generation)
				return;
			if (stop)
				message(r.was_dead ? a.id + ' had already ended.' :
				    a.id + ' ended' + (r.ended_by ? ' by ' +
				    r.ended_by : '') + '.');
			else
				message('SIGKILL sent to ' + a.id + '.');
			if (r && r.app)
				renderApp(r.app);
		} catch (e) {
			if (!(e instanceof AuthError) && gen === generation)
				message((stop ? 'Stop' : 'Kill') + ' failed: ' +
				    e.message, true);
		} finally {
			busy = false;
			if (gen === generation && currentApp)
				renderApp(currentApp);
		}
	}

	/* ---- app view: charts --------------------------------------------- */

	/* The smallest of 1, 2, 2.5, 5 times a power of ten that is >= v. */
	function niceCeil(v) {
		if (!(v > 0))
			return 1;
		const p = Math.pow(10, Math.floor(Math.log10(v)));
		for (const m of [1, 2, 2.5, 5, 10])
			if (m * p >= v)
				return m * p;
		return 10 * p;
	}

	const CHART = { w: 600, h: 200, left: 64, right: 12, top: 10, bottom: 26 };

	/*
	 * Draw series (each {values, cls}) of points over times ts in svg:
	 * y from 0 to a round maximum, 4 grid lines with labels, time labels
	 * under the x axis, one polyline vertex per sample. An empty ts draws
	 * the axes and "no samples yet".
	 */
	function drawChart(svg, ts, opt) {
		const { w, h, left, right, top, bottom } = CHART;
		const pw = w - left - right, ph = h - top - bottom;
		const series = opt.series || [];
		const fmt = opt.format || String;
		let max = opt.minMax || 1;
		for (const s of series)
			for (const v of s.values)
				if (v > max)
					max = v;
		max = (opt.ceil || niceCeil)(max);
		const parts = [];
		for (let i = 0; i <= 4; i++) {
			const y = top + ph - ph * i / 4;
			parts.push(svgEl('line', { x1: left, x2: w - right, y1: y,
			    y2: y, class: i === 0 ? 'axis' : 'gridline' }));
			const t = svgEl('text', { x: left - 6, y: y + 4,
			    class: 'ylabel' });
			t.textContent = fmt(max * i / 4);
			parts.push(t);
		}
		parts.push(svgEl('line', { x1: left, x2: left, y1: top,
		    y2: top + ph, class: 'axis' }));
		if (ts.length === 0) {
			const t = svgEl('text', { x: left + pw / 2, y: top + ph / 2,
			    class: 'empty' });
			t.textContent = opt.emptyText || 'no samples yet';
			parts.push(t);
			svg.replaceChildren(...parts);
			svg.dataset.points = '0';
			return;
		}
		const t0 = ts[0], t1 = ts[ts.length - 1];
		const x = (t) => t1 === t0 ? left + pw / 2 :
		    left + pw * (t - t0) / (t1 - t0);
		const y = (v) => top + ph - ph * Math.max(0, v) / max;
		const nlabels = t1 === t0 ? 1 : 3;
		for (let i = 0; i < nlabels; i++) {
			const t = nlabels === 1 ? t0 : t0 + (t1 - t0) * i / 2;
			const label = svgEl('text', { x: x(t), y: h - 8,
			    class: 'xlabel' + (nlabels > 1 && i === 0 ? ' start' :
			    nlabels > 1 && i === 2 ? ' end' : '') });
			label.textContent = fmtClock(t);
			parts.push(label);
		}
		for (const s of series) {
			const pts = [];
			for (let i = 0; i < ts.length; i++)
				pts.push(x(ts[i]).toFixed(1) + ',' +
				    y(s.values[i]).toFixed(1));
			parts.push(svgEl('polyline', { points: pts.join(' '),
			    class: 'series ' + s.cls }));
		}
		/* The latest sample of the first series, marked. */
		const last = series.length ? series[0].values[ts.length - 1] : 0;
		parts.push(svgEl('circle', { cx: x(t1), cy: y(last), r: 3,
		    class: 'dot ' + (series.length ? series[0].cls : '') }));
		svg.replaceChildren(...parts);
		svg.dataset.points = String(ts.length);
	}

	/* A round top for memory in its own unit: 10 MiB rather than 9.8. */
	function memCeil(kb) {
		const unit = kb < 1024 ? 1 : kb < 1048576 ? 1024 : 1048576;
		return niceCeil(kb / unit) * unit;
	}

	function fmtAxisPct(v) {
		return (Number.isInteger(v) ? String(v) : v.toFixed(1)) + ' %';
	}

	async function refreshUsage(path, gen) {
		const age = currentApp && currentApp.started_at ?
		    Date.now() - currentApp.started_at : Infinity;
		const span = (USAGE_SPANS.find(([, ms]) => age <= ms) ||
		    USAGE_SPANS[USAGE_SPANS.length - 1])[0];
		let u;
		try {
			u = await api(path + '/usage?since=' + span);
		} catch (e) {
			if (e instanceof AuthError || gen !== generation)
				throw e;
			setText($('usage-note'), 'No usage history: ' + e.message);
			return;
		}
		if (gen !== generation)
			return;
		const pts = u && Array.isArray(u.points) ? u.points : [];
		const ts = pts.map((p) => p.t);
		drawChart($('chart-cpu'), ts, {
			series: [{ cls: 'cpu', values: pts.map((p) => p.cpu_pct || 0) }],
			minMax: 5, format: fmtAxisPct,
		});
		drawChart($('chart-mem'), ts, {
			series: [
				{ cls: 'rss', values: pts.map((p) => p.rss_kb || 0) },
				{ cls: 'maxrss', values: pts.map((p) => p.max_rss_kb || 0) },
			],
			minMax: 1024, format: fmtKb, ceil: memCeil,
		});
		const last = pts[pts.length - 1];
		setText($('cpu-latest'), last ? fmtPct(last.cpu_pct) + ' %' : '');
		setText($('mem-latest'), last ? fmtKb(last.rss_kb) : '');
		setText($('usage-note'), pts.length ?
		    pts.length + ' samples over the last ' + span +
		    (u.step_ms ? ', one per ' + u.step_ms / 1000 + ' s' : '') +
		    (u.node ? ', from ' + u.node : '') + '.' :
		    'No samples yet: the worker sends them every few seconds.');
	}

	/* ---- app view: the log, followed live ----------------------------- */

	let logText = '';
	let logPending = false;

	function logReset() {
		logText = '';
		$('app-log').textContent = '';
		setText($('log-status'), '');
	}

	/* Append, keep the last LOG_MAX_CHARS, repaint once per frame. */
	function logAppend(text) {
		if (!text)
			return;
		logText += text;
		if (logText.length > LOG_MAX_CHARS) {
			let cut = logText.length - LOG_MAX_CHARS * 3 / 4;
			const nl = logText.indexOf('\n', cut);
			if (nl >= 0 && nl - cut < 4096)
				cut = nl + 1;
			logText = logText.slice(cut);
		}
		if (logPending)
			return;
		logPending = true;
		requestAnimationFrame(() => {
			logPending = false;
			const pre = $('app-log');
			const atEnd = pre.scrollTop + pre.clientHeight >=
			    pre.scrollHeight - 4;
			pre.textContent = logText;
			if (atEnd)
				pre.scrollTop = pre.scrollHeight;
		});
	}

	/*
	 * The master ends a stream it has to cut short (the app's node went
	 * away) with a last line "drover: WHY" and then an error, which the
	 * browser reports only as a network error: show the master's reason.
	 */
	function cutReason(text) {
		const m = /(?:^|\n)drover: ([^\n]*)\n$/.exec(text);
		return m ? 'the log was cut short: ' + m[1] : null;
	}

	/*
	 * GET /v1/apps/ID/logs?follow=1 read as a stream. If the stream ends
	 * while the app is alive (its node went away, the master restarted),
	 * follow again from the end, without the tail already shown.
	 */
	async function followLog(id, gen) {
		const ctrl = new AbortController();
		logAbort = ctrl;
		const path = '/v1/apps/' + encodeURIComponent(id) + '/logs?follow=1';
		let shown = false;
		while (gen === generation) {
			try {
				const r = await fetch(path + '&tail=' + (shown ? 0 : 200), {
					headers: { Authorization: 'Bearer ' + token },
					cache: 'no-store', signal: ctrl.signal,
				});
				if (r.status === 401) {
					needLogin('The master refused the token. Enter it again.');
					return;
				}
				if (!r.ok) {
					let why = 'HTTP ' + r.status;
					try {
						why = (await r.json()).error || why;
					} catch (e) { /* not JSON */ }
					setText($('log-status'), why);
				} else {
					setText($('log-status'), 'following');
					shown = true;
					const reader = r.body.getReader();
					const dec = new TextDecoder();
					for (;;) {
						const { value, done } = await reader.read();
						if (done)
							break;
						if (gen === generation)
							logAppend(dec.decode(value, { stream: true }));
					}
					logAppend(dec.decode());
				}
			} catch (e) {
				if (e.name === 'AbortError' || gen !== generation)
					return;
				setText($('log-status'), cutReason(logText) ||
				    'stream broken: ' + e.message);
			}
			if (gen !== generation)
				return;
			if (currentApp && currentApp.state === 'dead') {
				setText($('log-status'), 'the app has ended');
				return;
			}
			await sleep(LOG_RETRY_MS);
		}
	}

	/* ---- start -------------------------------------------------------- */

	function start() {
		$('login-form').addEventListener('submit', onLogin);
		$('logout').addEventListener('click', () => needLogin(''));
		$('app-stop').addEventListener('click', () => act('stop'));
		$('app-kill').addEventListener('click', () => act('kill'));
		setupAppsControls();
		window.addEventListener('hashchange', route);
		route();
	}

	start();
})();
