#!/usr/bin/env node
// The `stride` command: runs the compiled CLI (dist/ is built by `npm install` through `prepare`).
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist')) {
    process.stderr.write(
      'stride: error: the compiled CLI is missing (dist/); run `npm install` or `npm run build` first\n',
    );
  } else {
    process.stderr.write(`stride: error: ${err && err.message ? err.message : err}\n`);
  }
  process.exit(1);
});
