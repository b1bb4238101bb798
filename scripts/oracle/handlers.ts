/** Registers every handler file; a new file of handlers gets one import line here. */
import './ops.js';
import './optim.js';
import './model.js';
import './safetensors.js';
