// libuv's thread pool runs every file operation, fsync, scrypt and DNS lookup of the process, 4 at
// a time by default. A mail server keeps several fsyncs (milliseconds each) in flight at once, and
// with only 4 threads a connection's small file read queues behind other connections' fsyncs and
// password hashes. The pool is created on first use, so this module is imported before anything
// else. An explicit UV_THREADPOOL_SIZE in the environment wins.
process.env.UV_THREADPOOL_SIZE ??= '16';
export {};
