/**
 * Which backend runs the kernels. The core knows only the js backend; the Node entry point
 * registers the native one (and picks it when the addon loads), so the core stays browser-safe.
 */
import type { Backend, BackendInfo } from './backend.js';
import { jsBackend } from './js/index.js';

export type BackendName = 'js' | 'native';

const factories = new Map<BackendName, () => Backend | null>([['js', () => jsBackend]]);
const instances = new Map<BackendName, Backend>();
let current: Backend = jsBackend;

/** Makes a backend available to `setBackend` (the Node entry registers 'native'). */
export function registerBackend(name: BackendName, factory: () => Backend | null): void {
  factories.set(name, factory);
  instances.delete(name);
}

/** Returns the named backend, or null when it is not available here (e.g. the addon was not built). */
export function tryBackend(name: BackendName): Backend | null {
  const cached = instances.get(name);
  if (cached) return cached;
  const factory = factories.get(name);
  const backend = factory ? factory() : null;
  if (backend) instances.set(name, backend);
  return backend;
}

export function getBackend(): Backend {
  return current;
}

/** Chooses the backend for all following ops. Throws when it is not available, saying why. */
export function setBackend(name: BackendName): Backend {
  if (name !== 'js' && name !== 'native') {
    throw new Error(`setBackend: unknown backend '${String(name)}' (expected 'js' or 'native')`);
  }
  const backend = tryBackend(name);
  if (!backend) {
    throw new Error(
      `setBackend: the '${name}' backend is not available here` +
        (name === 'native'
          ? ' (the native addon was not built; run `npm rebuild stride` with a C++ compiler)'
          : ''),
    );
  }
  current = backend;
  return backend;
}

/** Names of the backends that can run here. */
export function availableBackends(): BackendName[] {
  return [...factories.keys()].filter((n) => tryBackend(n) !== null);
}

/** Which backend is in use, its SIMD level and thread count. */
export function backendInfo(): BackendInfo {
  return current.info();
}

export type { Backend, BackendInfo, ConvGeometry, PoolGeometry } from './backend.js';
