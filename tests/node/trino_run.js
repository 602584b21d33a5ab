// Drives the official Trino JavaScript client (trino-client) against qgate
// for tests/e2e/test_trino.py and bench/trino.py. One JSON argument:
//   {server, user, token?, sql, cancel?: true, count?: true, pause?: true}
// (the test's own timeout bounds the wait for RUNNING)
// prints one JSON line: {id, columns, rows | count, pages, error, updateType,
// updateCount, state}. cancel: cancels the query by id (DELETE
// /v1/query/ID) once it has been submitted, then reads on. pause: after
// the first page with rows, prints {"paused": rows} and waits for a line on
// stdin before it follows the next nextUri (a test restarts qgate then).
'use strict';
const {Trino, BasicAuth} = require('trino-client');

async function main() {
  const o = JSON.parse(process.argv[2]);
  const opts = {server: o.server, catalog: 'qgate', schema: 'main'};
  if (o.token) opts.extraHeaders = {Authorization: 'Bearer ' + o.token};
  else opts.auth = new BasicAuth(o.user);
  const trino = Trino.create(opts);
  const out = {rows: [], pages: 0, count: 0};
  const iter = await trino.query(o.token ? {query: o.sql, user: o.user} : o.sql);
  if (o.cancel) {
    // the submission's id (the iterator skips pages without data, so a
    // query that produces nothing yet never yields one); cancel it once
    // its info says it runs
    const id = iter.iter.queryResult.id;
    for (;;) {
      const info = await trino.queryInfo(id);
      out.stateBeforeCancel = info.state;
      if (info.state === 'RUNNING') break;
      await new Promise(res => setTimeout(res, 20));
    }
    await trino.cancel(id);
  }
  for await (const r of iter) {
    out.id = r.id;
    if (r.columns) out.columns = r.columns;
    if (r.data && r.data.length) {
      if (o.pause && out.pages === 0) {
        process.stdout.write(JSON.stringify({paused: r.data.length}) + '\n');
        await new Promise(res => process.stdin.once('data', res));
        process.stdin.pause();
      }
      out.pages++;
      if (o.count) out.count += r.data.length;
      else out.rows.push(...r.data);
    }
    if (r.error) out.error = r.error;
    if (r.updateType) out.updateType = r.updateType;
    if (r.updateCount !== undefined) out.updateCount = r.updateCount;
    out.state = r.stats && r.stats.state;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch(e => {
  const st = e.response ? e.response.status : null;
  process.stdout.write(JSON.stringify({thrown: String(e.message), status: st}) + '\n');
});
