/**
 * Node prints process warnings over two lines with a `--trace-warnings` hint; the command promises
 * one line per message, so it replaces that printer (imported before anything that may warn).
 */
process.removeAllListeners('warning');
process.on('warning', (w: Error) => {
  if (process.argv.includes('--debug')) process.stderr.write(`${w.stack ?? w.message}\n`);
  else process.stderr.write(`${w.message.startsWith('stride:') ? '' : 'stride: warning: '}${w.message}\n`);
});
