// Builds the native addon (build/Release/stride_native.node) with node-gyp, offline.
// Runs as the package's install script, so it must never fail the install: it prints one line,
// success or the reason for failure (the full log goes to build/native-build.log), and exits 0.
// The library falls back to the js backend when the addon is missing.
// STRIDE_SKIP_NATIVE=1 skips the build; STRIDE_MARCH (default native) sets -march for x86 builds.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const say = (msg) => console.log(`stride: ${msg}`);

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp, // set by npm for lifecycle scripts
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  return candidates.find((p) => p && existsSync(p));
}

// Headers for this node: npm's nodedir setting, else the install prefix when it ships include/node
// (distribution packages do), else node-gyp's own cache (which may need the network).
function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

function main() {
  if (process.env.STRIDE_SKIP_NATIVE === '1') {
    say('native addon skipped (STRIDE_SKIP_NATIVE=1); the js backend will be used');
    return;
  }
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) {
    say('native addon not built (node-gyp not found); the js backend will be used');
    return;
  }
  const nodeDir = findNodeDir();
  const args = [nodeGyp, 'rebuild', '--jobs=max', ...(nodeDir ? [`--nodedir=${nodeDir}`] : [])];
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const log = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`;
  try {
    mkdirSync(join(root, 'build'), { recursive: true });
    writeFileSync(join(root, 'build', 'native-build.log'), `$ node ${args.join(' ')}\n${log}`);
  } catch {
    // the log is a convenience
  }
  const addon = join(root, 'build', 'Release', 'stride_native.node');
  if (r.status !== 0 || !existsSync(addon)) {
    const lines = log.split('\n').map((l) => l.trim());
    const reason =
      lines.find((l) => /\berror:/.test(l)) ?? // a compiler diagnostic
      lines.find((l) => l.startsWith('gyp ERR! stack Error:'))?.slice('gyp ERR! stack '.length) ??
      lines.find((l) => l.startsWith('gyp ERR!')) ??
      `node-gyp exited with ${r.status ?? r.signal}`;
    say(
      `native addon not built (${reason.slice(0, 200)}); the js backend will be used. Log: build/native-build.log`,
    );
    return;
  }
  let detail = '';
  try {
    const info = require(addon).info();
    detail = ` (${info.simd}, ${info.threads} threads)`;
  } catch (e) {
    say(`native addon built but does not load (${e.message}); the js backend will be used`);
    return;
  }
  say(`native addon built in ${((Date.now() - t0) / 1000).toFixed(1)} s${detail}`);
}

try {
  main();
} catch (e) {
  say(`native addon not built (${e?.message ?? e}); the js backend will be used`);
}
process.exit(0);
