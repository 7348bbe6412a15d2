// SPDX-License-Identifier: MIT
// The Node.js faktory-worker package (a real client, written by others) against
// fkbroker: it pushes N jobs (half with PUSH, half with PUSHB), then its worker
// processes them with concurrency 20. Every 100th job throws on its first run,
// so FAIL, the retry set and the second delivery are exercised too. Exits 0
// when every job ran to success exactly once. Usage: FAKTORY_URL=... node interop.js [N]
'use strict';
const faktory = require('faktory-worker');

const N = parseInt(process.argv[2] || '1000', 10);
const url = process.env.FAKTORY_URL;
const deadline = Date.now() + 60000;

async function main() {
  const client = await faktory.connect({ url });
  for (let i = 0; i < N / 2; i++) {
    await client.job('interop', i, 'single', { nested: [i] }).push();
  }
  const bulk = [];
  for (let i = N / 2; i < N; i++) bulk.push(client.job('interop', i, 'bulk', { nested: [i] }));
  const rejected = await client.pushBulk(bulk);
  if (Object.keys(rejected).length !== 0) throw new Error(`PUSHB rejected ${JSON.stringify(rejected)}`);
  await client.close();

  const ok = new Map();
  const thrown = new Set();
  let bad = 0;
  faktory.register('interop', async (n, how, obj) => {
    if (!obj || obj.nested[0] !== n || (how !== 'single' && how !== 'bulk')) bad++;
    if (n % 100 === 0 && !thrown.has(n)) {
      thrown.add(n);
      throw new Error(`job ${n} fails on its first run`);
    }
    ok.set(n, (ok.get(n) || 0) + 1);
  });
  const worker = await faktory.work({ url, concurrency: 20, queues: ['default'], timeout: 5 });
  while (ok.size < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await worker.stop();
  const twice = [...ok.values()].filter((c) => c !== 1).length;
  console.log(`node: ${ok.size}/${N} jobs done, ${thrown.size} failed once and retried, ` +
    `${twice} ran more than once, ${bad} with wrong arguments`);
  return ok.size === N && twice === 0 && bad === 0 && thrown.size === N / 100;
}

main().then((good) => process.exit(good ? 0 : 1), (e) => {
  console.error(e);
  process.exit(1);
});
