// SPDX-License-Identifier: MIT
// The Node.js faktory-worker package processing noop jobs, for make bench's comparison.
// Usage: FAKTORY_URL=tcp://127.0.0.1:PORT node node-worker.js CONCURRENCY
'use strict';
const faktory = require('faktory-worker');
const concurrency = parseInt(process.argv[2] || '20', 10);
faktory.register('noop', async () => {});
faktory.work({ concurrency, queues: ['default'] }).then((w) => {
  const stop = () => w.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}).catch((e) => { console.error(e); process.exit(1); });
