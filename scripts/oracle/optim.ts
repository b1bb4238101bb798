/**
 * Handlers for optim.json (optimizers and LR schedulers). Owned by the training engineer; until
 * they land, each op reports 'not implemented yet' (a failure, never a skip).
 */
import { notImplemented, registerHandler } from './registry.js';

for (const op of ['sgd', 'adam', 'adamw', 'rmsprop', 'stepLR', 'cosineAnnealingLR', 'reduceLROnPlateau']) {
  registerHandler(op, notImplemented(op));
}
