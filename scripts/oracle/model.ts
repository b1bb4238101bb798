/**
 * Handler for model.json (whole models: state dict in, logits/loss/grads/Adam step out). Owned by
 * the nn engineer; until it lands, the op reports 'not implemented yet' (a failure, never a skip).
 */
import { notImplemented, registerHandler } from './registry.js';

registerHandler('model', notImplemented('model'));
