#!/usr/bin/env node
// The `postern` command. CommonJS on purpose: libuv's thread pool (file I/O, fsync, scrypt, DKIM's
// RSA signatures) is created on its first use with UV_THREADPOOL_SIZE threads, and Node's ES module
// loader already uses it to read the modules, so an ES module entry cannot size it. This file runs
// before anything is read asynchronously, sets the size (unless the environment does), then loads
// the real entry. 16 threads: fsyncs take milliseconds, and with the default 4 a connection's small
// file read queues behind other connections' fsyncs and password hashes.
'use strict';
process.env.UV_THREADPOOL_SIZE = process.env.UV_THREADPOOL_SIZE || '16';
import('../dist/src/cli/main.js').catch((err) => {
  console.error(err);
  process.exit(70);
});
