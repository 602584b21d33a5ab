// Drives the console (/console) in headless Chromium, as a person would:
// types statements, picks modes, runs them with Ctrl+Enter, reads the
// table, pages, cancels, opens jobs and downloads CSV. Run by
// test_console.py (and scripts/screenshot-console.sh) with one JSON
// argument:
//   {"url": page URL, "steps": [...], "token": "...", "forever": "...",
//    "ccids": {"mine": [...], "theirs": [...]}, "shot": "file.png"}
// Prints one line per step passed; exits 0 when every step passed, 1 with
// the reason when one failed, 77 when Chromium cannot start at all.
// Chromium reaches nothing but this machine's loopback.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(new URL("../node/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const cfg = JSON.parse(process.argv[2]);
const SLOW = Number(process.env.QGATE_SLOW || "1");
const T = (ms) => ms * SLOW;

function check(cond, what) {
  if (!cond) throw new Error(what);
}

let browser;
try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-default-apps",
      "--disable-domain-reliability", "--disable-client-side-phishing-detection",
      "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication",
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
      "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=127.0.0.1"],
    timeout: T(60000),
  });
} catch (e) {
  console.log("SKIP: Chromium cannot start: " + String(e).split("\n")[0]);
  process.exit(77);
}

const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 860 } });
const page = await context.newPage();
page.setDefaultTimeout(T(20000));
const problems = [];
page.on("pageerror", (e) => problems.push("script error: " + e));
page.on("console", (m) => {
  // a refused inline script or style, or any other CSP report, is a bug
  if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) problems.push(m.text());
});

const rows = () => page.locator("#rows tbody tr");
const cell = (r, c) => page.locator(`#rows tbody tr:nth-child(${r}) td:nth-child(${c})`);

// Types a statement, picks a mode and runs it with Ctrl+Enter; waits until
// the run is over unless wait is false.
async function run(statement, mode, wait = true) {
  await page.fill("#statement", statement);
  await page.selectOption("#mode", mode);
  await page.focus("#statement");
  await page.keyboard.press("Control+Enter");
  await page.waitForFunction(() => document.getElementById("cancel").disabled === false ||
    document.getElementById("run").disabled === false);
  if (wait) await page.waitForFunction(() => !document.getElementById("run").disabled, null, { timeout: T(60000) });
}

async function text(sel) {
  return (await page.locator(sel).textContent()) || "";
}

// Waits until qgate lists a request of the console as running.
async function running() {
  await page.waitForFunction(async () => {
    const t = sessionStorage.getItem("qgate.token");
    const r = await fetch("admin/requests/running", { headers: t ? { Authorization: "Bearer " + t } : {} });
    const list = await r.json();
    return list.some((x) => (x.clientContextID || "").startsWith("console-"));
  }, null, { polling: 100, timeout: T(20000) });
}

async function jobRow(match) {
  const row = page.locator("#jobs tbody tr", { hasText: match }).first();
  await row.waitFor({ timeout: T(20000) });
  return row;
}

const steps = {
  async load() {
    await page.goto(cfg.url);
    check((await page.title()) === "qgate console", "title");
    await page.waitForFunction(() => document.getElementById("jobs-status").textContent !== "");
    check(await page.locator("#statement").evaluate((e) => e === document.activeElement), "statement has focus");
  },

  async immediate() {
    await run("SELECT id, name FROM customers ORDER BY id LIMIT 3", "immediate");
    check((await rows().count()) === 3, "3 rows, got " + (await rows().count()));
    check((await cell(1, 1).textContent()) === "1", "first id");
    check((await cell(1, 2).textContent()) === "Ada Lovelace", "first name: " + (await cell(1, 2).textContent()));
    check((await text("#rows thead")).includes("name"), "column names");
    check((await text("#status")).startsWith("success"), "status: " + (await text("#status")));
    // 64-bit integers shown with every digit, NULL as NULL
    await run("SELECT 9223372036854775807 AS big, NULL AS missing, 0.1 AS tenth", "immediate");
    check((await cell(1, 1).textContent()) === "9223372036854775807", "big: " + (await cell(1, 1).textContent()));
    check((await cell(1, 2).textContent()) === "NULL", "null");
    check((await cell(1, 3).textContent()) === "0.1", "tenth");
    // an error is shown with its message
    await run("SELEC 1", "immediate");
    const err = await text("#error");
    check(err.includes("ASX1001") && err.includes("syntax error"), "syntax error shown: " + err);
    check(await page.locator("#error").isVisible(), "error visible");
  },

  async stream() {
    await run("SELECT id, customer_id FROM orders ORDER BY id", "stream");
    check((await text("#window")) === "rows 1–100 of 250", "window: " + (await text("#window")));
    check((await text("#status")).startsWith("success"), "status: " + (await text("#status")));
    // live: the first row is on the page while the statement still runs,
    // then Cancel stops it (DELETE /admin/requests/running by its context id)
    await run(cfg.live_stream, "stream", false);
    await page.locator("#rows tbody tr td", { hasText: "first" }).waitFor();
    check(!(await page.locator("#cancel").isDisabled()), "still running when the row showed");
    await running();
    await page.click("#cancel");
    await page.waitForFunction(() => !document.getElementById("run").disabled, null, { timeout: T(30000) });
    check((await text("#error")).includes("ASX0041"), "stream cancelled: " + (await text("#error")));
  },

  async cancel() {
    await run(cfg.forever, "immediate", false);
    await running();
    await page.click("#cancel");
    await page.waitForFunction(() => !document.getElementById("run").disabled, null, { timeout: T(30000) });
    const err = await text("#error");
    check(err.includes("ASX0041") && err.includes("cancelled"), "cancelled: " + err);
  },

  async deferred() {
    await page.selectOption("#page-size", "100");
    await run("SELECT id, customer_id FROM orders ORDER BY id", "deferred");
    check((await text("#window")) === "rows 1–100 of 250", "window: " + (await text("#window")));
    await page.click("#next");
    await page.waitForFunction(() => document.getElementById("window").textContent === "rows 101–200 of 250");
    check((await cell(1, 1).textContent()) === "101", "page 2 starts at 101");
    await page.click("#next");
    await page.waitForFunction(() => document.getElementById("window").textContent === "rows 201–250 of 250");
    check((await rows().count()) === 50, "last page holds 50");
    check(await page.locator("#next").isDisabled(), "no page after the last");
    await page.click("#prev");
    await page.waitForFunction(() => document.getElementById("window").textContent === "rows 101–200 of 250");
  },

  async csv() {
    // the deferred result of the step before, whole, as a file
    const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#csv")]);
    const body = readFileSync(await dl.path(), "utf8");
    const lines = body.split("\r\n").filter((l) => l);
    check(lines[0] === "id,customer_id", "header: " + lines[0]);
    check(lines.length === 251, "250 rows and a header, got " + lines.length);
    check(lines[1].startsWith("1,"), "first row: " + lines[1]);
    // rows held in the page (immediate) too, quoted as RFC 4180 wants
    await run("SELECT 'a,b' AS t, 'say \"hi\"' AS q, NULL AS n, '' AS e", "immediate");
    const [dl2] = await Promise.all([page.waitForEvent("download"), page.click("#csv")]);
    const b2 = readFileSync(await dl2.path(), "utf8");
    check(b2 === 't,q,n,e\r\n"a,b","say ""hi""",,""\r\n', "quoted: " + JSON.stringify(b2));
  },

  async async_job() {
    await run("SELECT id, name FROM customers ORDER BY id", "async");
    check((await text("#status")).includes("succeeded"), "status: " + (await text("#status")));
    check((await rows().count()) === 20, "the job's 20 rows");
    const id = (await text("#status")).match(/Job (\d+)-0/)[1];
    // it is in my jobs, succeeded, and opens from there
    const row = await jobRow(id);
    await row.locator(".state", { hasText: "success" }).waitFor();
    await page.fill("#statement", "");
    await row.getByRole("button", { name: `Open result set 0 of job ${id}` }).click();
    await page.waitForFunction(() => document.getElementById("window").textContent.startsWith("rows 1–20 of 20"));
    check((await cell(2, 2).textContent()) === "Grace Hopper", "opened from the list");
  },

  async job_cancel() {
    // a long async job, cancelled from the jobs list
    await run(cfg.forever, "async", false);
    await page.waitForFunction(() => /Job \d+-0/.test(document.getElementById("status").textContent));
    const id = (await text("#status")).match(/Job (\d+)-0/)[1];
    const row = await jobRow(id);
    await row.getByRole("button", { name: `Cancel job ${id}` }).click();
    await page.waitForFunction(() => !document.getElementById("run").disabled, null, { timeout: T(30000) });
    check((await text("#error")).includes("ASX0041"), "job cancelled: " + (await text("#error")));
    const after = await jobRow(id);
    await after.locator(".state", { hasText: "failed" }).waitFor();
  },

  async auth() {
    // no token: qgate says so, and the console asks for one
    await page.goto(cfg.url);
    await page.waitForFunction(() => /ASX0910/.test(document.getElementById("jobs-status").textContent));
    await run("SELECT 1 AS one", "immediate");
    check((await text("#error")).includes("ASX0910"), "401 shown: " + (await text("#error")));
    check(await page.locator("#token").evaluate((e) => e === document.activeElement), "token field focused");
    await page.fill("#token", cfg.token);
    await page.press("#token", "Tab");
    for (const c of cfg.ccids.mine) await jobRow(c);
    const listed = await text("#jobs tbody");
    for (const c of cfg.ccids.theirs) check(!listed.includes(c), "another principal's job listed: " + c);
    await run("SELECT 2 AS two", "immediate");
    check((await cell(1, 1).textContent()) === "2", "runs with the token");
    // the token stays with the tab across a reload
    await page.reload();
    check((await page.inputValue("#token")) === cfg.token, "token kept in the tab");
    await jobRow(cfg.ccids.mine[0]);
  },

  async shot() {
    await page.goto(cfg.url);
    await page.selectOption("#page-size", "20");
    await run("SELECT o.id, c.name AS customer, c.country, o.status, o.total\n" +
      "FROM orders o JOIN customers c ON c.id = o.customer_id\nORDER BY o.id", "deferred");
    await page.click("#refresh");
    await page.waitForTimeout(300);
    await page.screenshot({ path: cfg.shot, fullPage: true });
  },
};

try {
  for (const s of cfg.steps) {
    await steps[s]();
    console.log("ok " + s);
  }
  check(problems.length === 0, "page problems: " + problems.join("; "));
} catch (e) {
  console.log("FAIL: " + (e && e.stack ? e.stack : e));
  console.log("page status: " + (await page.locator("#status").textContent().catch(() => "?")) +
    " | error: " + (await page.locator("#error").textContent().catch(() => "?")));
  await browser.close();
  process.exit(1);
}
await browser.close();
