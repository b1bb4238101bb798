/**
 * Handler for `X.safetensors` + `X.safetensors.json` (the runner turns the companion into one case
 * of op 'safetensors' with `safetensorsFile` set). Owned by the io engineer; until it lands, the
 * op reports 'not implemented yet' (a failure, never a skip).
 */
import { notImplemented, registerHandler } from './registry.js';

registerHandler('safetensors', notImplemented('safetensors'));
