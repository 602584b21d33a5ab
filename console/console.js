/*
 * qgate console: runs statements through qgate's own HTTP API and shows
 * the answers. Every URL is relative to the page (query/service, ...), so
 * the page works wherever /console is reached: directly, behind nginx,
 * behind a path prefix. No framework, no build step: the browser runs
 * this file as it is.
 */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "qgate.token";
  const STREAM_KEEP = 200000; // rows of a stream kept in the page
  const READS = "100"; // reads a stored result of the console allows

  // --- values --------------------------------------------------------------
  // Numbers keep their text: a 64-bit integer or an exact decimal from the
  // database is shown and exported as qgate sent it, never through a double.
  class Num {
    constructor(t) { this.t = t; }
    toString() { return this.t; }
    toJSON() { return JSON.rawJSON ? JSON.rawJSON(this.t) : Number(this.t); }
  }
  const parse = (text) => JSON.parse(text, (k, v, ctx) =>
    typeof v === "number" && ctx && typeof ctx.source === "string" ? new Num(ctx.source) : v);
  const num = (v) => (v instanceof Num ? Number(v.t) : v);

  function cellText(v) {
    if (v === null || v === undefined) return "NULL";
    if (typeof v === "object" && !(v instanceof Num)) return JSON.stringify(v);
    return String(v);
  }

  function csvField(v) {
    if (v === null || v === undefined) return "";
    let s = typeof v === "object" && !(v instanceof Num) ? JSON.stringify(v) : String(v);
    if (s === "" || /[",\r\n]/.test(s) || /^\s|\s$/.test(s)) s = '"' + s.replace(/"/g, '""') + '"';
    return s;
  }
  const csvText = (columns, rows) =>
    [columns, ...rows].map((r) => r.map(csvField).join(",") + "\r\n").join("");

  // A CSV document (a job stored as CSV) as rows of fields.
  function csvParse(text) {
    const rows = [];
    let row = [], f = "", q = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (q) {
        if (c === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (c === '"') q = false; else f += c;
      } else if (c === '"') q = true;
      else if (c === ",") { row.push(f); f = ""; } else if (c === "\n") {
        row.push(f.replace(/\r$/, "")); rows.push(row); row = []; f = "";
      } else f += c;
    }
    if (f !== "" || row.length) { row.push(f); rows.push(row); }
    return rows;
  }

  // --- calls -----------------------------------------------------------------
  function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

  async function call(path, opts = {}) {
    const headers = new Headers(opts.headers || {});
    if (token()) headers.set("Authorization", "Bearer " + token());
    const r = await fetch(path, { ...opts, headers, cache: "no-store" });
    if (r.status === 401) {
      const t = $("token");
      t.setAttribute("aria-invalid", "true");
      t.focus();
    }
    return r;
  }

  // A handle qgate hands out is an absolute URL; the console calls the same
  // path relative to its own page (query/service/status/N-M).
  function rel(handle) {
    const i = handle ? handle.indexOf("/query/service/") : -1;
    return i < 0 ? null : handle.slice(i + 1);
  }

  function randomId() {
    const b = new Uint8Array(8);
    crypto.getRandomValues(b);
    return "console-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  function errorText(doc, status) {
    if (doc && Array.isArray(doc.errors) && doc.errors.length)
      return doc.errors.map((e) => e.msg).join("\n");
    if (status === 401) return "qgate asks for a token: type yours above (it is kept in this tab only).";
    if (status === 404) return "Not found (404): the result is gone (its reads are used up, or it expired) or the job is another principal's.";
    return "HTTP " + status;
  }

  async function readDoc(r) {
    const text = await r.text();
    try { return parse(text); } catch (e) { return { errors: [{ msg: "HTTP " + r.status + ": " + text.slice(0, 400) }] }; }
  }

  // --- status, errors ----------------------------------------------------------
  const setStatus = (t) => { $("status").textContent = t; };
  function showError(t) {
    const e = $("error");
    e.textContent = t;
    e.hidden = !t;
  }

  // --- the result view -----------------------------------------------------------
  // A view is what the table shows: sets held in the page (immediate,
  // stream) or a stored set read window by window (deferred, async, jobs).
  let view = null;

  function pageSize() { return Number($("page-size").value); }

  function clearView() {
    view = null;
    $("rows").tHead.replaceChildren();
    $("rows").tBodies[0].replaceChildren();
    $("window").textContent = "";
    $("set").hidden = $("set-label").hidden = true;
    for (const id of ["prev", "next", "csv"]) $(id).disabled = true;
  }

  function renderHead(columns) {
    const tr = document.createElement("tr");
    for (const c of columns) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = c;
      tr.appendChild(th);
    }
    $("rows").tHead.replaceChildren(tr);
  }

  function renderRow(values) {
    const tr = document.createElement("tr");
    for (const v of values) {
      const td = document.createElement("td");
      td.textContent = cellText(v);
      if (v === null || v === undefined) td.className = "null";
      else if (v instanceof Num) td.className = "num";
      tr.appendChild(td);
    }
    return tr;
  }

  function renderRows(rows) {
    const body = document.createElement("tbody");
    for (const r of rows) body.appendChild(renderRow(r));
    $("rows").tBodies[0].replaceWith(body);
  }

  function setWindow(offset, shown, total, more) {
    const end = offset + shown;
    const of = total === null ? (more ? " so far" : "") : " of " + total.toLocaleString();
    $("window").textContent = shown ? `rows ${(offset + 1).toLocaleString()}–${end.toLocaleString()}${of}` : "no rows";
    $("prev").disabled = offset === 0;
    $("next").disabled = !(more || (total !== null && end < total));
  }

  // Sets in the page: [{columns, rows (arrays)}].
  function memoryView(sets, live) {
    view = { kind: "memory", sets, set: 0, offset: 0, live };
    setChoices(sets.length);
    showMemory();
    $("csv").disabled = live;
  }

  function setChoices(n) {
    const sel = $("set");
    if (n > 1 && sel.options.length !== n) {
      sel.replaceChildren(...Array.from({ length: n }, (_, i) => new Option("set " + i, String(i))));
    }
    sel.hidden = $("set-label").hidden = n <= 1;
  }

  function showMemory() {
    const s = view.sets[view.set];
    if (!s) return;
    renderHead(s.columns);
    const rows = s.rows.slice(view.offset, view.offset + pageSize());
    renderRows(rows);
    setWindow(view.offset, rows.length, view.live ? null : s.rows.length, view.live);
    if (view.live) $("next").disabled = view.offset + pageSize() >= s.rows.length;
  }

  // The rows of an envelope's sets: results, results-0, results-1, ...
  function envelopeSets(doc) {
    const sets = [];
    for (const key of Object.keys(doc)) {
      if (key !== "results" && !/^results-\d+$/.test(key)) continue;
      const rows = doc[key] || [];
      const columns = [];
      for (const r of rows) for (const c of Object.keys(r)) if (!columns.includes(c)) columns.push(c);
      sets.push({ columns, rows: rows.map((r) => columns.map((c) => r[c])) });
    }
    return sets;
  }

  async function storedView(path, label) {
    view = { kind: "stored", path, label, offset: 0, csv: false };
    setChoices(1);
    $("csv").disabled = false;
    await loadWindow(0);
  }

  async function loadWindow(offset) {
    const v = view;
    const size = pageSize();
    let r = await call(`${v.path}?offset=${offset}&limit=${size}${v.csv ? "" : "&rows=arrays"}`);
    if (r.status === 400 && !v.csv) {
      // a job stored as CSV takes windows but not rows=arrays
      const doc = await readDoc(r);
      if (!/'rows'/.test(errorText(doc, 400))) { showError(errorText(doc, 400)); return; }
      v.csv = true;
      r = await call(`${v.path}?offset=${offset}&limit=${size}`);
    }
    if (view !== v) return;
    if (!r.ok) { showError(errorText(await readDoc(r), r.status)); return; }
    if ((r.headers.get("Content-Type") || "").startsWith("text/csv")) {
      const rows = csvParse(await r.text());
      const header = /header=present/.test(r.headers.get("Content-Type") || "") ? rows.shift() : rows[0].map((_, i) => "column " + (i + 1));
      renderHead(header || []);
      renderRows(rows);
      v.offset = offset;
      setWindow(offset, rows.length, null, rows.length === size);
      return;
    }
    const doc = await readDoc(r);
    if (doc.errors) showError(errorText(doc, r.status));
    renderHead(doc.columns || []);
    renderRows(doc.results || []);
    v.offset = offset;
    setWindow(offset, (doc.results || []).length, doc.total === undefined ? null : num(doc.total), !!doc.more);
  }

  async function turn(delta) {
    if (!view) return;
    const offset = Math.max(0, view.offset + delta * pageSize());
    if (view.kind === "memory") { view.offset = offset; showMemory(); } else await loadWindow(offset);
  }

  function download(name, text) {
    const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  async function downloadCsv() {
    if (!view) return;
    if (view.kind === "memory") {
      const s = view.sets[view.set];
      download("qgate-result.csv", csvText(s.columns, s.rows));
      return;
    }
    // the whole stored set: one of its reads
    const name = "qgate-" + view.path.split("/").pop() + ".csv";
    let r = await call(view.path + (view.csv ? "" : "?rows=arrays"));
    if (!r.ok) { showError(errorText(await readDoc(r), r.status)); return; }
    if ((r.headers.get("Content-Type") || "").startsWith("text/csv")) { download(name, await r.text()); return; }
    const doc = await readDoc(r);
    if (doc.errors) { showError(errorText(doc, r.status)); return; }
    download(name, csvText(doc.columns || [], doc.results || []));
  }

  // --- running a statement ----------------------------------------------------------
  let run = null; // {ccid, mode, status: status path of an async job}

  function setRunning(on) {
    $("run").disabled = on;
    $("cancel").disabled = !on;
  }

  function metricsText(doc) {
    const m = doc.metrics || {};
    const n = num(m.resultCount);
    return `${doc.status || "done"}: ${n === undefined ? "" : n.toLocaleString() + " rows, "}${m.elapsedTime || ""}`;
  }

  async function runStatement() {
    if (run) return;
    const statement = $("statement").value;
    if (!statement.trim()) { showError("Type a statement first."); return; }
    const mode = $("mode").value;
    const body = new URLSearchParams({ statement, mode, client_context_id: randomId() });
    if (mode === "deferred" || mode === "async") body.set("max-result-reads", READS);
    if (mode === "stream") body.set("stats", "1s");
    run = { ccid: body.get("client_context_id"), mode };
    setRunning(true);
    clearView();
    showError("");
    setStatus(`Running (${mode})…`);
    try {
      if (mode === "stream") await runStream(body);
      else await runEnvelope(mode, body);
    } catch (e) {
      showError(String(e));
      setStatus("Failed.");
    } finally {
      run = null;
      setRunning(false);
      if (mode === "deferred" || mode === "async") refreshJobs();
    }
  }

  async function runEnvelope(mode, body) {
    const r = await call("query/service", { method: "POST", body });
    const doc = await readDoc(r);
    if (doc.errors) showError(errorText(doc, r.status));
    if (mode === "immediate") {
      memoryView(envelopeSets(doc), false);
      setStatus(metricsText(doc));
      return;
    }
    if (!doc.handle) { setStatus(doc.status ? metricsText(doc) : "Failed."); return; }
    if (mode === "deferred") {
      setStatus("Stored: " + doc.handle.split("/").pop() + ". " + metricsText(doc).replace(/0 rows, /, ""));
      await storedView(rel(doc.handle), doc.handle);
      return;
    }
    // async: the job runs on; follow it until it ends
    run.status = rel(doc.handle);
    setStatus("Job " + doc.handle.split("/").pop() + " accepted; waiting for it…");
    refreshJobs();
    await followJob(run.status);
  }

  async function followJob(path) {
    for (let wait = 200; ; wait = Math.min(wait * 2, 2000)) {
      const r = await call(path);
      const doc = await readDoc(r);
      if (!r.ok) { showError(errorText(doc, r.status)); return; }
      if (doc.status === "success") {
        setStatus("Job " + path.split("/").pop() + " succeeded.");
        await storedView(rel(doc.handle), doc.handle);
        return;
      }
      if (doc.status !== "running") {
        showError(errorText(doc, r.status));
        setStatus("Job " + path.split("/").pop() + " " + doc.status + ".");
        return;
      }
      const p = doc.progress || {};
      setStatus(`Job ${path.split("/").pop()} ${p.state || "running"}: ${num(p.resultCount) || 0} rows so far, ${p.elapsedTime || ""}`);
      await new Promise((res) => setTimeout(res, wait));
    }
  }

  async function runStream(body) {
    const r = await call("query/service", { method: "POST", body });
    if (!(r.headers.get("Content-Type") || "").startsWith("application/x-ndjson")) {
      const doc = await readDoc(r);
      showError(errorText(doc, r.status));
      setStatus(doc.status ? metricsText(doc) : "Failed.");
      return;
    }
    const sets = [];
    memoryView(sets, true);
    let pending = false;
    const paint = () => {
      pending = false;
      if (view && view.sets === sets) { setChoices(sets.length); showMemory(); }
    };
    const onMessage = (m) => {
      const d = m.data || {};
      if (m.type === "METADATA") sets[num(m.set)] = { columns: (d.columns || []).map((c) => c.name), rows: [] };
      else if (m.type === "RECORD") {
        const s = sets[num(m.set)];
        if (s && s.rows.length < STREAM_KEEP) s.rows.push(s.columns.map((c) => d[c]));
      } else if (m.type === "STATS") setStatus(`Streaming: ${num(d.resultCount).toLocaleString()} rows, ${d.elapsedTime}`);
      else if (m.type === "HEARTBEAT") setStatus(`Still running: ${d.elapsedTime}`);
      else if (m.type === "ERROR") showError(d.msg);
      else if (m.type === "END") setStatus(metricsText(d));
    };
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line) onMessage(parse(line));
      }
      if (!pending) { pending = true; requestAnimationFrame(paint); }
    }
    view.live = false;
    paint();
    $("csv").disabled = false;
  }

  async function cancelRun() {
    if (!run) return;
    $("cancel").disabled = true;
    const r = run.status
      ? await call(run.status, { method: "DELETE" })
      : await call("admin/requests/running?client_context_id=" + encodeURIComponent(run.ccid), { method: "DELETE" });
    if (r.status === 404) setStatus("Nothing to cancel: it had already ended.");
    else if (!r.ok) showError(errorText(await readDoc(r), r.status));
    else setStatus("Cancelled; waiting for its answer…");
  }

  // --- my jobs -------------------------------------------------------------------------
  let jobsTimer = null;

  const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

  function jobCell(tr, text, cls, title) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    if (title) td.title = title;
    tr.appendChild(td);
    return td;
  }

  function jobButton(td, label, aria, fn) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "small";
    b.textContent = label;
    b.setAttribute("aria-label", aria);
    b.addEventListener("click", fn);
    td.appendChild(b);
  }

  function jobRow(j) {
    const tr = document.createElement("tr");
    tr.dataset.job = String(j.jobId);
    jobCell(tr, String(j.jobId), "code");
    jobCell(tr, j.mode);
    const st = jobCell(tr, "");
    const badge = document.createElement("span");
    badge.className = "state " + j.state;
    badge.textContent = j.state;
    st.appendChild(badge);
    const p = j.progress;
    const rows = p ? `${num(p.resultCount) || 0} so far (${p.executionTime || p.queueWaitTime})` : String(j.resultCount ?? "");
    jobCell(tr, rows, "num");
    jobCell(tr, when(j.submitTime));
    jobCell(tr, when(j.startTime));
    jobCell(tr, when(j.stopTime));
    jobCell(tr, j.statement + (j.statementTruncated ? "…" : ""), "stmt",
      j.errors ? j.errors.map((e) => e.msg).join("\n") : "");
    jobCell(tr, j.clientContextID || "", "code");
    const act = jobCell(tr, "");
    const readable = (j.results || []).filter((s) => s.handle);
    for (const s of readable)
      jobButton(act, readable.length > 1 ? "Open " + s.set : "Open", `Open result set ${s.set} of job ${j.jobId}`,
        () => { showError(""); setStatus(`Job ${j.jobId}, set ${s.set}: ${s.rows} rows`); storedView(rel(s.handle), s.handle); });
    if (p)
      jobButton(act, "Cancel", `Cancel job ${j.jobId}`, async () => {
        const r = await call(rel(j.handle), { method: "DELETE" });
        $("jobs-status").textContent = r.ok ? `Job ${j.jobId} cancelled.` : errorText(await readDoc(r), r.status);
        refreshJobs();
      });
    return tr;
  }

  async function refreshJobs() {
    clearTimeout(jobsTimer);
    jobsTimer = null;
    let doc, r;
    try {
      r = await call("query/service/jobs?limit=20");
      doc = await r.json();
    } catch (e) {
      $("jobs-status").textContent = "Could not list jobs: " + e;
      return;
    }
    if (!r.ok) { $("jobs-status").textContent = errorText(doc, r.status); return; }
    const body = document.createElement("tbody");
    for (const j of doc.jobs) body.appendChild(jobRow(j));
    $("jobs").tBodies[0].replaceWith(body);
    $("jobs-status").textContent = doc.jobs.length ? `${doc.jobs.length} most recent` : "No stored jobs yet: run one in deferred or async mode.";
    if (doc.jobs.some((j) => j.progress)) jobsTimer = setTimeout(refreshJobs, 2000);
  }

  // --- wiring ---------------------------------------------------------------------------
  function init() {
    const t = $("token");
    t.value = token();
    t.addEventListener("change", () => {
      t.removeAttribute("aria-invalid");
      if (t.value) sessionStorage.setItem(TOKEN_KEY, t.value); else sessionStorage.removeItem(TOKEN_KEY);
      refreshJobs();
    });
    $("forget").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      t.value = "";
      t.focus();
    });
    $("run").addEventListener("click", runStatement);
    $("cancel").addEventListener("click", cancelRun);
    $("prev").addEventListener("click", () => turn(-1));
    $("next").addEventListener("click", () => turn(1));
    $("csv").addEventListener("click", downloadCsv);
    $("refresh").addEventListener("click", refreshJobs);
    $("set").addEventListener("change", () => {
      if (view && view.kind === "memory") { view.set = Number($("set").value); view.offset = 0; showMemory(); }
    });
    $("page-size").addEventListener("change", () => { if (view) turn(0); });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); runStatement(); }
    });
    clearView();
    refreshJobs();
    $("statement").focus();
  }

  init();
})();
