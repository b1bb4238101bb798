/**
 * Atomic file replacement: the target either keeps its old bytes or has all of the new ones, even if
 * the process dies or the disk fills up half-way through a write.
 *
 * The bytes go to a temporary file in the same folder (`.name.<pid>.<random>.tmp`, so the rename
 * stays on one file system), are flushed with fsync, and the temporary file is renamed over the
 * target; the folder is then fsynced (best-effort) so the rename itself survives a crash. On any
 * failure the temporary file is removed and the error names the target path.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** A failed atomic write; `cause` is the underlying file-system error. */
export class AtomicWriteError extends Error {
  readonly path: string;
  readonly code: string | undefined;
  constructor(target: string, cause: unknown) {
    const err = cause as NodeJS.ErrnoException;
    super(`cannot write ${target}: ${err?.message ?? String(cause)}`, { cause });
    this.name = 'AtomicWriteError';
    this.path = target;
    this.code = err?.code;
  }
}

function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  // Keep the name within NAME_MAX (255 bytes) however long the target's name is.
  const short = Buffer.byteLength(base) > 200 ? Array.from(base).slice(0, 50).join('') : base;
  return path.join(dir, `.${short}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function checkBytes(target: string, bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new AtomicWriteError(target, new TypeError('the data to write must be a Uint8Array'));
  }
}

/** The mode of an existing target, so replacing a file keeps its permissions; 0o666 (less umask) if new. */
function modeOf(stat: fs.Stats | undefined): number {
  return stat && stat.isFile() ? stat.mode & 0o7777 : 0o666;
}

/** Write `bytes` to `target` atomically (see the module comment). */
export async function writeFileAtomic(target: string, bytes: Uint8Array): Promise<void> {
  checkBytes(target, bytes);
  // Through a symlink, replace the file it points to, not the link.
  const real = await fsp.realpath(target).catch(() => target);
  const tmp = tempPathFor(real);
  let handle: fsp.FileHandle | undefined;
  try {
    const stat = await fsp.stat(real).catch(() => undefined);
    if (stat?.isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
    handle = await fsp.open(tmp, 'wx', modeOf(stat));
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, off, bytes.length - off);
      off += bytesWritten;
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, real);
  } catch (err) {
    if (handle) await handle.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw new AtomicWriteError(target, err);
  }
  await syncDir(path.dirname(real));
}

/** Synchronous writeFileAtomic, for exit handlers and scripts. */
export function writeFileAtomicSync(target: string, bytes: Uint8Array): void {
  checkBytes(target, bytes);
  let real = target;
  try {
    real = fs.realpathSync(target);
  } catch {
    /* a new file */
  }
  const tmp = tempPathFor(real);
  let fd: number | undefined;
  try {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(real);
    } catch {
      stat = undefined;
    }
    if (stat?.isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
    fd = fs.openSync(tmp, 'wx', modeOf(stat));
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, real);
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* best-effort cleanup */
    }
    throw new AtomicWriteError(target, err);
  }
  syncDirSync(path.dirname(real));
}

/** fsync a folder so a rename in it is durable; not every platform allows it, so failures are ignored. */
async function syncDir(dir: string): Promise<void> {
  let h: fsp.FileHandle | undefined;
  try {
    h = await fsp.open(dir, 'r');
    await h.sync();
  } catch {
    /* best-effort (Windows cannot open folders) */
  } finally {
    await h?.close().catch(() => undefined);
  }
}

function syncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* best-effort */
  } finally {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* ignore */
      }
    }
  }
}
