/**
 * CSVLogger (Node): one row per epoch (epoch, then every logged value in a stable column order), as
 * Keras's. Rows are appended as they come, so a crashed run still leaves its log.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

import type { Logs } from '../history.js';
import { Callback } from './callback.js';

export class CSVLogger extends Callback {
  readonly filename: string;
  readonly separator: string;
  readonly append: boolean;
  private keys: string[] | null = null;

  constructor(filename: string, options: { separator?: string; append?: boolean } = {}) {
    super();
    if (typeof filename !== 'string' || filename === '') {
      throw new Error(`CSVLogger: filename must be a non-empty string, got ${String(filename)}`);
    }
    this.filename = filename;
    this.separator = options.separator ?? ',';
    this.append = options.append ?? false;
  }

  override async onTrainBegin(): Promise<void> {
    this.keys = null;
    await fsp.mkdir(path.dirname(this.filename), { recursive: true });
    if (this.append) {
      // Appending to an existing log: keep its columns.
      const existing = await fsp.readFile(this.filename, 'utf8').catch(() => '');
      const header = existing.split('\n')[0];
      if (header) this.keys = header.split(this.separator).slice(1);
    } else await fsp.writeFile(this.filename, '');
  }

  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    let text = '';
    if (this.keys === null) {
      this.keys = Object.keys(logs).sort();
      text += ['epoch', ...this.keys].join(this.separator) + '\n';
    }
    text +=
      [String(epoch), ...this.keys.map((k) => (logs[k] === undefined ? '' : String(logs[k])))].join(
        this.separator,
      ) + '\n';
    await fsp.appendFile(this.filename, text);
  }
}
